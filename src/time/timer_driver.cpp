// TimerDriver: keeping Xen's single-shot timer on the first deadline, and
// the VIRQ_TIMER handler. The contracts are in timer_driver.hpp.
#include <xen/event/upcall.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/time/timer_driver.hpp>

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

TimerDriver::TimerDriver(const TimerConfig& cfg, TimerCpu* cpus, uint32_t nr_vcpus) noexcept
    : cfg_(cfg), cpus_(cpus), nr_(nr_vcpus)
{
}

Result<TimerCpu*> TimerDriver::caller(VcpuId vcpu) const noexcept
{
    if (vcpu.value >= nr_)
        return err(Errc::vcpu_out_of_range);
    if (cfg_.current() != vcpu)
        return err(Errc::not_current_vcpu);
    return &cpus_[vcpu.value];
}

Result<Port> TimerDriver::bind(EventChannels& ev, VcpuId vcpu, abi::vcpu_info& vi) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    // Publish where to self-inject before the handler can first run.
    ev_ = &ev;
    c->vi_ = &vi;
    XEN_TRY_ASSIGN(Port port, ev.bind_virq(abi::virq::timer, vcpu, &TimerDriver::on_virq_timer, this));
    c->port_ = port;
    c->bound_ = true;
    return port;
}

Result<void> TimerDriver::unbind(VcpuId vcpu) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    if (!c->bound_ || ev_ == nullptr)
        return err(Errc::invalid_argument);
    XEN_TRY(ev_->close(c->port_, vcpu));
    c->bound_ = false;
    c->vi_ = nullptr;
    return ok();
}

void TimerDriver::on_virq_timer(Port, VcpuId vcpu, void* ctx) noexcept
{
    static_cast<TimerDriver*>(ctx)->handle_event(vcpu);
}

bool TimerDriver::kick(TimerCpu& c, VcpuId vcpu) noexcept
{
    if (c.bound_ && ev_ != nullptr && c.vi_ != nullptr)
        return ev_->raise_local(c.port_, vcpu, *c.vi_).has_value();
    if (cfg_.kick != nullptr)
        return cfg_.kick(cfg_.kick_ctx, vcpu);
    return false;
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
        return hc::stop_singleshot_timer(vcpu);
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
    // flags 0: never VCPU_SSHOTTMR_future (F1). A past target fires at once.
    ++c.stats_.hypercalls;
    auto r = hc::set_singleshot_timer(vcpu, target, 0);
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
    // The host says the first deadline has already passed (F1): it is due
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
    if (vcpu.value >= nr_)
        return;
    TimerCpu& c = cpus_[vcpu.value];
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

Result<void> TimerDriver::start(VcpuId vcpu) noexcept
{
    XEN_TRY_ASSIGN(TimerCpu * c, caller(vcpu));
    ++c->stats_.hypercalls;
    XEN_TRY(hc::stop_periodic_timer(vcpu));
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
    return hc::stop_singleshot_timer(vcpu);
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
    if (from.value >= nr_)
        return err(Errc::vcpu_out_of_range);
    TimerCpu& old = cpus_[from.value];
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
        // was lost: a set_timer_op elsewhere replaced our deadline (F15), a
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
    // safe_halt holds PV upcalls off again in the vcpu_info bind() was
    // given. A vCPU never bound through bind() has none here: the stand-in
    // takes that store, and upcalls stay on as SCHEDOP_block leaves them.
    abi::vcpu_info stand_in{};
    abi::vcpu_info& vi = c->vi_ != nullptr ? *c->vi_ : stand_in;
    switch (cfg_.idle) {
    case IdleMethod::sched_block:
        return safe_halt(GuestKind::pv, vi);
    case IdleMethod::sti_hlt:
        return safe_halt(GuestKind::pvh, vi);
    }
    return err(Errc::invalid_argument);
}

} // namespace xen
