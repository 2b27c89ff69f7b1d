// TimerDriver: keeping Xen's single-shot timer on the first deadline, and
// the VIRQ_TIMER handler. The contracts are in timer_driver.hpp.
#include <xen/time/timer_driver.hpp>

#include <xen/domain.hpp>
#include <xen/event/upcall.hpp>

namespace xen {

namespace {

uint64_t saturating_add(uint64_t a, uint64_t b) noexcept
{
    uint64_t r = 0;
    return __builtin_add_overflow(a, b, &r) ? ~uint64_t{0} : r;
}

// How often one event retries after -ETIME before it self-injects instead.
constexpr uint32_t etime_rounds = 4;

} // namespace

Result<void> TimerDriver::init(Domain& domain, const TimerConfig& cfg) noexcept
{
    if (cfg.max_delta_ns == 0 || cfg.max_expiries_per_event == 0)
        return err(Errc::invalid_argument);
    domain_ = &domain;
    cfg_ = cfg;
    return ok();
}

// The vCPU's own record, not the domain's cross-vCPU clock: Xen fires the
// single-shot timer by this pCPU's NOW(), which the own record tracks; the
// cross-vCPU clock may lead it, and deadlines taken from it would come late.
uint64_t TimerDriver::now() const noexcept { return domain_->own_now(); }

TimerCpu* TimerDriver::cpu(VcpuId vcpu) const noexcept
{
    VcpuSlot* s = domain_ != nullptr ? domain_->find(vcpu) : nullptr;
    return s != nullptr ? &s->timers : nullptr;
}

Result<TimerCpu*> TimerDriver::caller(VcpuId vcpu) const noexcept
{
    TimerCpu* c = cpu(vcpu);
    if (c == nullptr)
        return err(Errc::vcpu_out_of_range);
    if (domain_->self() != vcpu)
        return err(Errc::not_current_vcpu);
    return c;
}

Result<Port> TimerDriver::bind(VcpuId vcpu) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    // Bound already (an AP restarted after a restore runs its boot-time
    // setup again, and Domain::suspend rebound its VIRQ): that port.
    if (c->bound_) {
        if (const auto have = domain_->events().find(&TimerDriver::on_virq_timer, this, vcpu); have.has_value())
            return *have;
    }
    XEN_TRY_ASSIGN(Port port, domain_->events().bind_virq(abi::virq::timer, vcpu, &TimerDriver::on_virq_timer, this));
    // The handler may already run (on this vCPU, once upcalls are on); it
    // needs neither field: they only serve self-injection from thread context.
    c->port_ = port.value;
    c->bound_ = true;
    c->attached_ = false;
    return port;
}

Result<void> TimerDriver::unbind(VcpuId vcpu) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    if (!c->bound_)
        return err(Errc::invalid_argument);
    XEN_TRY(domain_->events().close(Port{c->port_}, vcpu));
    c->bound_ = false;
    return ok();
}

Result<void> TimerDriver::attach(VcpuId vcpu, Port port) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    // Port 0 is never bound (Xen reserves it); a 2-level domain has no more.
    if (port.value == 0 || port.value >= abi::evtchn_2l_nr_ports)
        return err(Errc::port_out_of_range);
    if (c->bound_)
        return err(Errc::invalid_argument);
    c->port_ = port.value;
    c->attached_ = true;
    return ok();
}

void TimerDriver::on_virq_timer(Port, VcpuId vcpu, void* ctx) noexcept
{
    static_cast<TimerDriver*>(ctx)->handle_event(vcpu);
}

bool TimerDriver::kick(TimerCpu& c, VcpuId vcpu) noexcept
{
    // Raise our own VIRQ_TIMER port as Xen would: a VIRQ port cannot be
    // sent (EVTCHNOP_send answers -EINVAL for it).
    abi::vcpu_info* vi = domain_->vcpu_info(vcpu);
    if (vi == nullptr)
        return false;
    if (c.attached_) {
        EventChannels::raise_unowned(domain_->shared(), Port{c.port_}, *vi);
        return true;
    }
    return c.bound_ && domain_->events().raise_local(Port{c.port_}, vcpu, *vi).has_value();
}

Result<void> TimerDriver::program(TimerCpu& c, VcpuId vcpu, uint64_t now, bool at_once) noexcept
{
    // A stopped vCPU has nothing in Xen; the handler programs once, at its end.
    if (!c.started_ || c.in_handler_)
        return ok();
    const Timer* first = c.queue_.first();
    if (first == nullptr) {
        if (!c.programmed_)
            return ok();
        // Nothing left to wait for: a stale single-shot would only be an
        // idle wake-up for nothing.
        c.programmed_ = false;
        ++c.stats_.hypercalls;
        return domain_->stop_singleshot_timer(vcpu);
    }
    // Only a change of the first deadline costs a hypercall.
    if (c.programmed_ && c.programmed_for_ == first->latest_)
        return ok();

    // at_once: the handler ran out of budget with timers due. Their deadline
    // has passed, so Xen fires at once and the rest run after other upcalls
    // had a turn (not as late as their slack would allow).
    uint64_t target = at_once ? first->deadline_ : first->latest_;
    if (target > now && target - now > cfg_.max_delta_ns) {
        target = now + cfg_.max_delta_ns;
        ++c.stats_.capped;
    }
    // flags 0: never VCPU_SSHOTTMR_future
    // (docs/timers.md, "The Xen contracts behind it"). A past target fires at once.
    ++c.stats_.hypercalls;
    // Deadlines are in the kernel-visible clock; Xen fires by its own
    // system time, which differs by the offset after a restore
    // (docs/lifecycle.md, "Time across the gap").
    auto r = domain_->set_singleshot_timer(vcpu, domain_->to_xen_time(target));
    if (!r) {
        c.programmed_ = false;
        if (r.error() == Errc::etime)
            ++c.stats_.etime;
        return r;
    }
    c.programmed_ = true;
    c.programmed_for_ = first->latest_;
    c.programmed_at_ = target;
    return ok();
}

Result<void> TimerDriver::program_from_thread(TimerCpu& c, VcpuId vcpu) noexcept
{
    if (!c.started_ || c.in_handler_)
        return ok();
    auto r = program(c, vcpu, now(vcpu));
    if (r || r.error() != Errc::etime)
        return r;
    // The host says the first deadline has already passed (docs/timers.md,
    // "The Xen contracts behind it"): it is due
    // now. Callbacks run only in the handler, so make the handler run.
    if (kick(c, vcpu))
        return ok();
    return r;
}

uint64_t TimerDriver::expire(TimerCpu& c, VcpuId vcpu, uint64_t now, uint32_t& budget) noexcept
{
    for (;;) {
        while (budget != 0) {
            Timer* t = c.queue_.pop_due(now);
            if (t == nullptr)
                break;
            --budget;
            ++c.stats_.expiries;
            c.stats_.lateness.record(now - t->deadline_);
            // Disarmed before the call, so the callback may re-arm it, and
            // a timer cannot run twice for one arming.
            t->fn_(*t, vcpu, now, t->ctx_);
        }
        if (budget == 0)
            return now;
        // Callbacks took time: whatever came due meanwhile runs now rather
        // than after another event.
        const uint64_t again = this->now(vcpu);
        const Timer* first = c.queue_.first();
        now = again > now ? again : now;
        if (first == nullptr || first->deadline_ > now)
            return now;
    }
}

void TimerDriver::handle_event(VcpuId vcpu) noexcept
{
    TimerCpu* cp = cpu(vcpu);
    if (cp == nullptr)
        return;
    TimerCpu& c = *cp;
    ++c.stats_.wakeups;
    uint64_t now = this->now(vcpu);

    // Was this the wake-up we asked for (at or after the programmed
    // deadline)? Either way Xen's single-shot may no longer be set: an
    // event early by our clock may still be Xen's timer (its NOW() is not
    // our pvclock), so program again whatever it was.
    const bool planned = c.programmed_ && now >= c.programmed_at_;
    c.programmed_ = false;

    const uint64_t before = c.stats_.expiries;
    uint32_t budget = cfg_.max_expiries_per_event;
    c.in_handler_ = true;
    now = expire(c, vcpu, now, budget);
    c.in_handler_ = false;

    for (uint32_t round = 0;; ++round) {
        const Timer* due = c.queue_.first();
        auto r = program(c, vcpu, now, budget == 0 && due != nullptr && due->deadline_ <= now);
        if (r || r.error() != Errc::etime)
            break; // other errors: nothing better to do than wait for the next event
        // -ETIME: the host says the first deadline has passed. Run what our
        // clock agrees is due; if it does not agree yet, or this keeps
        // happening, let the event come round again.
        const uint64_t again = this->now(vcpu);
        now = again > now ? again : now;
        const Timer* first = c.queue_.first();
        if (round + 1 == etime_rounds || budget == 0 || first == nullptr || first->deadline_ > now) {
            (void)kick(c, vcpu);
            break;
        }
        c.in_handler_ = true;
        now = expire(c, vcpu, now, budget);
        c.in_handler_ = false;
    }

    if (c.stats_.expiries == before && !planned)
        ++c.stats_.early_events;
}

Result<void> TimerDriver::restored(VcpuId* failed) noexcept
{
    Errc first{};
    for (uint32_t v = 0; v < domain_->managed(); ++v) {
        TimerCpu& c = *cpu(VcpuId{v});
        c.programmed_ = false;
        c.attached_ = false;
        if (!c.bound_)
            continue;
        const auto port = domain_->events().find(&TimerDriver::on_virq_timer, this, VcpuId{v});
        if (!port.has_value()) {
            c.bound_ = false;
            if (first == Errc{} && failed != nullptr)
                *failed = VcpuId{v};
            if (first == Errc{})
                first = port.error();
            continue;
        }
        c.port_ = port->value;
    }
    if (first != Errc{})
        return err(first);
    return ok();
}

Result<void> TimerDriver::start(VcpuId vcpu) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    ++c->stats_.hypercalls;
    XEN_TRY(domain_->stop_periodic_timer(vcpu));
    c->started_ = true;
    c->programmed_ = false;
    return program_from_thread(*c, vcpu);
}

Result<void> TimerDriver::stop(VcpuId vcpu) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    c->started_ = false;
    c->programmed_ = false;
    // Unconditional: after an early event the driver cannot know whether
    // Xen's single-shot is still set, and a stale one would wake this vCPU
    // (or, once its timers are adopted elsewhere, wake it for nothing).
    ++c->stats_.hypercalls;
    return domain_->stop_singleshot_timer(vcpu);
}

Result<void> TimerDriver::arm(VcpuId vcpu, Timer& t, uint64_t deadline_ns, uint64_t slack_ns) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    if (t.queue_ != nullptr && t.queue_ != &c->queue_)
        return err(Errc::not_current_vcpu);
    c->queue_.arm(t, deadline_ns, slack_ns);
    return program_from_thread(*c, vcpu);
}

Result<void> TimerDriver::arm_after(VcpuId vcpu, Timer& t, uint64_t delay_ns, uint64_t slack_ns) noexcept
{
    XEN_TRY(caller(vcpu));
    return arm(vcpu, t, saturating_add(now(vcpu), delay_ns), slack_ns);
}

Result<bool> TimerDriver::cancel(VcpuId vcpu, Timer& t) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    if (t.queue_ == nullptr)
        return false;
    if (t.queue_ != &c->queue_)
        return err(Errc::not_current_vcpu);
    (void)c->queue_.cancel(t);
    XEN_TRY(program_from_thread(*c, vcpu));
    return true;
}

Result<size_t> TimerDriver::adopt(VcpuId vcpu, VcpuId from) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    TimerCpu* from_cpu = cpu(from);
    if (from_cpu == nullptr)
        return err(Errc::vcpu_out_of_range);
    TimerCpu& old = *from_cpu;
    if (from == vcpu || old.started_)
        return err(Errc::invalid_argument);
    // In their order: re-armed here one after the other, they keep it among
    // themselves, and fall after this vCPU's own timers of equal latest time.
    size_t moved = 0;
    while (Timer* t = old.queue_.pop()) {
        c->queue_.arm(*t, t->deadline_, t->latest_ - t->deadline_);
        ++moved;
    }
    XEN_TRY(program_from_thread(*c, vcpu));
    return moved;
}

Result<void> TimerDriver::idle(VcpuId vcpu) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    if (const Timer* first = c->queue_.first(); first != nullptr && c->started_) {
        const uint64_t t = now(vcpu);
        // Overdue: the first timer's latest time, or the deadline given to
        // Xen, has passed and we are still in thread context. Its event is
        // pending behind the mask (the kernel's re-enable delivers it), or
        // was lost: a set_timer_op elsewhere replaced our deadline (docs/xen-contracts.md,
        // "set_timer_op"), a
        // host that misbehaves. Do not sleep on it; make sure the handler runs.
        if (first->latest_ <= t || (c->programmed_ && c->programmed_at_ <= t)) {
            if (!kick(*c, vcpu))
                c->programmed_ = false; // fall back to Xen: a past deadline fires at once
            return program_from_thread(*c, vcpu);
        }
        // Whatever happened since (a failed programming, -ETIME with
        // nothing to self-inject), Xen must hold our deadline before we
        // sleep; -ETIME now means it is due: run the handler instead.
        if (auto r = program(*c, vcpu, t); !r) {
            if (r.error() == Errc::etime && kick(*c, vcpu))
                return ok();
            return r;
        }
    }
    // safe_halt sleeps as the guest kind needs (PV SCHEDOP_block, PVH
    // sti;hlt) and holds upcalls off again in the vCPU's vcpu_info. A vCPU
    // >= 32 without a registered vcpu_info has none Xen uses: a stand-in
    // takes that store.
    abi::vcpu_info stand_in{};
    abi::vcpu_info* vi = domain_->vcpu_info(vcpu);
    return safe_halt(domain_->kind(), vi != nullptr ? *vi : stand_in);
}

} // namespace xen
