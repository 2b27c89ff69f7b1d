// The timer model harness (see timer_model.hpp).
#include "timer_model.hpp"

#include <algorithm>
#include <cstdio>

#include <xen/hypercall/vcpu_op.hpp>
#include <xen/time/pvclock.hpp>

namespace timer_model {

using xen::Errc;
using xen::VcpuId;

namespace {

// Arm deltas (ns from Xen's now): ties (0, 1000 twice), sub-slop gaps,
// beyond the 4 s cap, and the past.
constexpr int64_t arm_deltas[16] = {
    0,         1,         999,        1000,        1000,          50'000,        50'000, 100'000,
    1'000'000, 1'000'000, 10'000'000, 100'000'000, 4'000'000'001, 9'000'000'000, -1000,  -50'000,
};
constexpr uint64_t slacks[4] = {0, 0, 1000, 200'000};
constexpr uint64_t steps[8] = {1, 1000, 49'999, 50'000, 1'000'000, 20'000'000, 4'000'000'000, 10'000'000'000};

uint64_t offset(uint64_t base, int64_t delta) noexcept
{
    if (delta >= 0)
        return base + static_cast<uint64_t>(delta);
    const uint64_t back = static_cast<uint64_t>(-delta);
    return base > back ? base - back : 0;
}

uint64_t saturating_add(uint64_t a, uint64_t b) noexcept
{
    uint64_t r = 0;
    return __builtin_add_overflow(a, b, &r) ? ~uint64_t{0} : r;
}

std::string str(const char* fmt, unsigned long long a = 0, unsigned long long b = 0, unsigned long long c = 0)
{
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, a, b, c);
    return buf;
}

} // namespace

struct Harness::Slot {
    Slot(Harness* harness, uint32_t index) : h(harness), id(index), timer(&Harness::on_fire, this) {}
    Harness* h;
    uint32_t id;
    xen::Timer timer;
    uint8_t arg = 0;
    uint32_t rearms_left = 0;
    uint64_t arms = 0;
    uint64_t fires = 0;
    uint64_t cancels = 0;
    uint64_t replaced = 0; ///< re-armed while armed: that arming ends unrun
};

Op decode(const uint8_t* b) noexcept
{
    return Op{static_cast<OpKind>(b[0] % static_cast<uint8_t>(OpKind::count)), b[1], b[2], b[3]};
}

Harness::Harness(const Options& options) : opt_(options)
{
    opt_.vcpus = std::clamp<uint32_t>(opt_.vcpus, 1, 4);
    opt_.timers = std::clamp<uint32_t>(opt_.timers, 1, 64);
    hv_ = std::make_unique<xen::sim::Hypervisor>(xen::sim::Config{
        .version = opt_.version, .vcpus = opt_.vcpus, .initially_up = opt_.vcpus, .timer_slop_ns = opt_.timer_slop_ns});
    scope_ = std::make_unique<xen::sim::Scope>(*hv_, VcpuId{0});
    storage_ = std::make_unique<xen::DomainStorage<4, 256>>();
    domain_ = std::make_unique<xen::Domain>();
    xen::DomainConfig dc;
    dc.shared = &hv_->shared_info();
    dc.hooks.ctx = this;
    dc.hooks.current = [](void*) noexcept { return xen::sim::current_vcpu(); };
    dc.hooks.now_ns = &Harness::clock_hook;
    if (auto r = domain_->init(dc, storage_->slots, opt_.vcpus, storage_->ports, 256); !r)
        fail("setup: Domain::init failed");
    domain_->events().mask_all();

    xen::TimerConfig cfg;
    cfg.max_delta_ns = opt_.max_delta_ns;
    cfg.max_expiries_per_event = opt_.max_expiries_per_event;
    driver_ = std::make_unique<xen::TimerDriver>();
    if (auto r = driver_->init(*domain_, cfg); !r)
        fail("setup: TimerDriver::init failed");

    vcpus_.resize(opt_.vcpus);
    for (uint32_t v = 0; v < opt_.vcpus; ++v) {
        act_as(v);
        auto port = driver_->bind(VcpuId{v});
        if (!port)
            fail(str("setup: bind on vCPU %llu failed: %llu", v, static_cast<unsigned>(port.error())));
        else
            vcpus_[v].port = *port;
        if (auto r = driver_->start(VcpuId{v}); !r)
            fail(str("setup: start on vCPU %llu failed: %llu", v, static_cast<unsigned>(r.error())));
    }
    act_as(0);
    for (uint32_t i = 0; i < opt_.timers; ++i)
        slots_.push_back(std::make_unique<Slot>(this, i));
}

Harness::~Harness() = default;

uint64_t Harness::clock_hook(void* ctx) noexcept
{
    auto* h = static_cast<Harness*>(ctx);
    const VcpuId self = xen::sim::current_vcpu();
    if (!h->opt_.pvclock)
        return h->hv_->now();
    auto t = xen::pvclock_read(h->hv_->vcpu_info(self).time, [] { return xen::sim::rdtsc(); });
    return t ? t->system_time_ns : h->hv_->now();
}

uint64_t Harness::clock(uint32_t vcpu)
{
    act_as(vcpu);
    return clock_hook(this);
}

void Harness::act_as(uint32_t vcpu) { xen::sim::set_current_vcpu(VcpuId{vcpu}); }

void Harness::fail(const std::string& what)
{
    if (failure_count_ == 0) {
        static const char* const names[] = {"arm",  "cancel", "advance", "tick", "deliver", "early",
                                            "drop", "etime",  "idle",    "down", "up",      "adopt"};
        std::string trail = "last operations (kind vcpu timer arg):";
        for (uint64_t i = totals_.ops > 16 ? totals_.ops - 16 : 0; i < totals_.ops; ++i) {
            const Op& o = recent_[i % 16];
            trail += str(" [%llu %llu ", i + 1, o.vcpu) + names[static_cast<int>(o.kind)] +
                     str(" %llu %llu]", o.timer, o.arg);
        }
        failures_.push_back(trail);
    }
    ++failure_count_;
    if (failures_.size() < 20)
        failures_.push_back("op " + std::to_string(totals_.ops) + ": " + what);
}

int Harness::model_vcpu_of(const Slot& s) const
{
    for (uint32_t v = 0; v < vcpus_.size(); ++v)
        for (const auto& e : vcpus_[v].model)
            if (e.slot == &s)
                return static_cast<int>(v);
    return -1;
}

void Harness::model_insert(uint32_t vcpu, Slot& s, uint64_t deadline, uint64_t slack)
{
    Vcpu& v = vcpus_[vcpu];
    const Entry e{&s, deadline, saturating_add(deadline, slack), v.next_seq++};
    auto before = [](const Entry& a, const Entry& b) {
        if (a.latest != b.latest)
            return a.latest < b.latest;
        return a.seq < b.seq;
    };
    v.model.insert(std::upper_bound(v.model.begin(), v.model.end(), e, before), e);
}

bool Harness::model_remove(Slot& s)
{
    for (auto& v : vcpus_)
        for (auto it = v.model.begin(); it != v.model.end(); ++it)
            if (it->slot == &s) {
                v.model.erase(it);
                return true;
            }
    return false;
}

bool Harness::virq_pending(uint32_t vcpu) const
{
    return vcpus_[vcpu].port.value != 0 && hv_->port_pending(vcpus_[vcpu].port.value);
}

void Harness::on_fire(xen::Timer&, VcpuId self, uint64_t now, void* ctx) noexcept
{
    auto* s = static_cast<Slot*>(ctx);
    s->h->fired(*s, self.value, now);
}

void Harness::fired(Slot& s, uint32_t vcpu, uint64_t now)
{
    ++totals_.fires;
    ++s.fires;
    if (!in_upcall_)
        fail(str("timer %llu ran outside an upcall", s.id));
    const int owner = model_vcpu_of(s);
    if (owner < 0) {
        fail(str("double: timer %llu ran on vCPU %llu but was not armed", s.id, vcpu));
        return;
    }
    if (static_cast<uint32_t>(owner) != vcpu) {
        fail(str("timer %llu ran on vCPU %llu, armed on vCPU %llu", s.id, vcpu, owner));
        model_remove(s);
        return;
    }
    auto& model = vcpus_[vcpu].model;
    const Entry first = model.front();
    if (first.slot != &s) {
        fail(str("order: timer %llu ran before timer %llu on vCPU %llu", s.id, first.slot->id, vcpu));
    }
    for (const auto& e : model)
        if (e.slot == &s) {
            if (e.deadline > now)
                fail(str("early: timer %llu ran %llu ns before its deadline by the handler's clock", s.id,
                         e.deadline - now));
            if (e.deadline > hv_->now())
                fail(str("early: timer %llu ran %llu ns before its deadline by Xen's clock", s.id,
                         e.deadline - hv_->now()));
            break;
        }
    model_remove(s);

    // A periodic-style timer: re-arm itself from its callback.
    if (s.rearms_left > 0) {
        --s.rearms_left;
        const uint64_t deadline = offset(now, arm_deltas[(s.arg + 5 * s.rearms_left) & 15]);
        const uint64_t slack = slacks[(s.arg >> 4) & 3];
        if (auto r = driver_->arm(VcpuId{vcpu}, s.timer, deadline, slack); !r) {
            fail(str("re-arm from the callback failed: %llu", static_cast<unsigned>(r.error())));
            return;
        }
        ++s.arms;
        ++totals_.arms;
        model_insert(vcpu, s, deadline, slack);
    }
}

void Harness::upcall(uint32_t vcpu)
{
    act_as(vcpu);
    const xen::TimerCpu* cpu = driver_->cpu(VcpuId{vcpu});
    bool handled_last = false;
    in_upcall_ = true;
    uint64_t step = 1;
    for (int i = 0; i < 64; ++i) {
        const uint64_t before = cpu->stats().wakeups;
        (void)domain_->events().dispatch(VcpuId{vcpu}, hv_->vcpu_info(VcpuId{vcpu}));
        handled_last = cpu->stats().wakeups != before;
        if (!virq_pending(vcpu))
            break;
        // Still pending: the handler asked for another round (a deadline
        // Xen already saw pass, or -ETIME). On a real machine time moves
        // while the guest runs, so a clock a few ns behind Xen's catches up.
        hv_->advance(step);
        step = std::min<uint64_t>(step * 4, 1'000'000);
        handled_last = false;
    }
    in_upcall_ = false;
    if (handled_last)
        check_nothing_due(vcpu);
}

void Harness::check_nothing_due(uint32_t vcpu)
{
    const auto& model = vcpus_[vcpu].model;
    if (!vcpus_[vcpu].up || virq_pending(vcpu) || model.empty())
        return;
    const uint64_t now = clock(vcpu);
    // The handler stops at the first timer (in order) that is not due. With
    // a small budget it may also stop at a due one, and then must have had
    // Xen fire at once: a deadline already passed, which Xen runs at most
    // timer_slop late.
    const Entry& first = model.front();
    if (opt_.max_expiries_per_event < 64) {
        const auto ss = hv_->vcpu(VcpuId{vcpu}).singleshot_ns;
        if (ss && *ss <= first.deadline)
            return;
    }
    if (first.deadline <= now)
        fail(str("left behind: timer %llu due %llu ns ago after vCPU %llu's handler", model.front().slot->id,
                 now - model.front().deadline, vcpu));
}

void Harness::check_live()
{
    for (uint32_t v = 0; v < vcpus_.size(); ++v) {
        const Vcpu& vc = vcpus_[v];
        const size_t armed = driver_->cpu(VcpuId{v})->armed();
        if (armed != vc.model.size())
            fail(str("vCPU %llu: driver has %llu timers armed, model %llu", v, armed, vc.model.size()));
        if (!vc.up || !vc.started || vc.dropped || vc.model.empty() || virq_pending(v))
            continue;
        const auto view = hv_->vcpu(VcpuId{v});
        if (!view.singleshot_ns || *view.singleshot_ns > vc.model.front().latest)
            fail(str("lost: vCPU %llu has timers but Xen's single-shot is %llu (first latest %llu)", v,
                     view.singleshot_ns.value_or(0), vc.model.front().latest));
    }
}

void Harness::do_arm(uint32_t vcpu, Slot& s, uint8_t arg)
{
    const uint64_t deadline = offset(hv_->now(), arm_deltas[arg & 15]);
    const uint64_t slack = slacks[(arg >> 4) & 3];
    const int owner = model_vcpu_of(s);
    act_as(vcpu);
    auto r = driver_->arm(VcpuId{vcpu}, s.timer, deadline, slack);
    if (owner >= 0 && static_cast<uint32_t>(owner) != vcpu) {
        if (r || r.error() != Errc::not_current_vcpu)
            fail(str("arm of timer %llu (armed on vCPU %llu) from vCPU %llu was not refused", s.id, owner, vcpu));
        else
            ++totals_.refused;
        return;
    }
    if (!r) {
        fail(str("arm of timer %llu failed: %llu", s.id, static_cast<unsigned>(r.error())));
        return;
    }
    if (owner >= 0) {
        model_remove(s);
        ++s.replaced;
    }
    model_insert(vcpu, s, deadline, slack);
    s.arg = arg;
    s.rearms_left = (arg >> 6) & 3;
    ++s.arms;
    ++totals_.arms;
}

void Harness::do_cancel(uint32_t vcpu, Slot& s)
{
    const int owner = model_vcpu_of(s);
    act_as(vcpu);
    auto r = driver_->cancel(VcpuId{vcpu}, s.timer);
    if (owner < 0) {
        if (!r || *r)
            fail(str("cancel of unarmed timer %llu did not answer false", s.id));
    } else if (static_cast<uint32_t>(owner) != vcpu) {
        if (r || r.error() != Errc::not_current_vcpu)
            fail(str("cancel of timer %llu (armed on vCPU %llu) from vCPU %llu was not refused", s.id, owner, vcpu));
        else
            ++totals_.refused;
    } else if (!r || !*r) {
        fail(str("cancel of armed timer %llu did not answer true", s.id));
    } else {
        model_remove(s);
        ++s.cancels;
        ++totals_.cancels;
    }
}

void Harness::do_down(uint32_t vcpu)
{
    if (vcpu == 0 || !vcpus_[vcpu].up)
        return;
    act_as(vcpu);
    if (auto r = driver_->stop(VcpuId{vcpu}); !r)
        fail(str("stop on vCPU %llu failed: %llu", vcpu, static_cast<unsigned>(r.error())));
    if (auto r = xen::hc::vcpu_down(VcpuId{vcpu}); !r)
        fail(str("VCPUOP_down of vCPU %llu failed", vcpu));
    vcpus_[vcpu].up = false;
    vcpus_[vcpu].started = false;
}

void Harness::do_up(uint32_t vcpu)
{
    if (vcpus_[vcpu].up)
        return;
    act_as(0);
    if (auto r = xen::hc::vcpu_up(VcpuId{vcpu}); !r)
        fail(str("VCPUOP_up of vCPU %llu failed", vcpu));
    act_as(vcpu);
    // As a kernel would: the vCPU resumes with upcalls held off, starts its
    // driver (overdue timers are programmed as past: Xen fires at once),
    // then lets upcalls in.
    if (auto r = driver_->start(VcpuId{vcpu}); !r)
        fail(str("start on vCPU %llu failed: %llu", vcpu, static_cast<unsigned>(r.error())));
    vcpus_[vcpu].up = true;
    vcpus_[vcpu].started = true;
    vcpus_[vcpu].dropped = false;
    upcall(vcpu);
}

void Harness::do_adopt(uint32_t vcpu, uint32_t from)
{
    if (!vcpus_[vcpu].up || from == vcpu)
        return;
    act_as(vcpu);
    auto r = driver_->adopt(VcpuId{vcpu}, VcpuId{from});
    if (vcpus_[from].started) {
        if (r || r.error() != Errc::invalid_argument)
            fail(str("adopt from running vCPU %llu by vCPU %llu was not refused", from, vcpu));
        return;
    }
    if (!r) {
        fail(str("adopt from vCPU %llu failed: %llu", from, static_cast<unsigned>(r.error())));
        return;
    }
    auto& src = vcpus_[from].model;
    if (*r != src.size())
        fail(str("adopt moved %llu timers, model has %llu", *r, src.size()));
    // The documented order: the moved timers are armed again on `vcpu`, one
    // after the other in their order, so they follow its own equal times.
    const std::vector<Entry> moved = src;
    src.clear();
    for (const Entry& e : moved)
        model_insert(vcpu, *e.slot, e.deadline, e.latest - e.deadline);
}

void Harness::do_idle(uint32_t vcpu)
{
    if (!vcpus_[vcpu].up)
        return;
    const xen::TimerCpu* cpu = driver_->cpu(VcpuId{vcpu});
    // The promise after a lost event: the first idle() that starts once the
    // vCPU's own clock has passed the lost deadline notices it. The clock
    // may read a few ns behind Xen's NOW(), so let that much time pass.
    if (vcpus_[vcpu].dropped)
        hv_->advance(1000);
    // A kernel's idle loop: idle, take the upcall, and go round again if
    // that was nothing (a stale evtchn_upcall_pending makes SCHEDOP_block
    // return at once). Time moves a little each round, as it does while a
    // real vCPU loops: a clock a few ns behind Xen's then sees a lost
    // deadline pass.
    for (int round = 0; round < 4; ++round) {
        const uint64_t t0 = hv_->now();
        const uint64_t w0 = cpu->stats().wakeups;
        act_as(vcpu);
        if (auto r = driver_->idle(VcpuId{vcpu}); !r)
            fail(str("idle on vCPU %llu failed: %llu", vcpu, static_cast<unsigned>(r.error())));
        upcall(vcpu);
        if (hv_->now() != t0 || cpu->stats().wakeups != w0)
            break;
        hv_->advance(1);
    }
    // idle() either slept until an event or self-injected the overdue one:
    // after the upcall Xen must again be set to wake this vCPU.
    vcpus_[vcpu].dropped = false;
}

void Harness::apply(const Op& op)
{
    recent_[totals_.ops % 16] = op;
    ++totals_.ops;
    const uint32_t v = op.vcpu % vcpus_.size();
    Slot& s = *slots_[op.timer % slots_.size()];
    switch (op.kind) {
    case OpKind::arm:
        if (vcpus_[v].up)
            do_arm(v, s, op.arg);
        break;
    case OpKind::cancel:
        if (vcpus_[v].up)
            do_cancel(v, s);
        break;
    case OpKind::advance: hv_->advance(steps[op.arg & 7]); break;
    case OpKind::tick:
        hv_->advance(steps[op.arg & 7]);
        for (uint32_t u = 0; u < vcpus_.size(); ++u)
            if (vcpus_[u].up)
                upcall(u);
        break;
    case OpKind::deliver:
        if (vcpus_[v].up)
            upcall(v);
        break;
    case OpKind::early: hv_->raise_virq(VcpuId{v}, xen::abi::virq::timer); break;
    case OpKind::drop:
        if (virq_pending(v)) {
            const uint32_t port = vcpus_[v].port.value;
            __atomic_fetch_and(&hv_->shared_info().evtchn_pending[port / 64], ~(uint64_t{1} << (port % 64)),
                               __ATOMIC_SEQ_CST);
            vcpus_[v].dropped = true;
        }
        break;
    case OpKind::etime:
        hv_->inject(xen::sim::Fault{xen::abi::hypercall::vcpu_op,
                                    static_cast<int32_t>(xen::abi::vcpuop::set_singleshot_timer), v, 1, Errc::etime,
                                    1});
        break;
    case OpKind::idle: do_idle(v); break;
    case OpKind::down: do_down(v); break;
    case OpKind::up: do_up(v); break;
    case OpKind::adopt: do_adopt(v, op.arg % vcpus_.size()); break;
    case OpKind::count: break;
    }
    act_as(0);
    check_live();
}

void Harness::drain()
{
    hv_->clear_faults();
    for (uint32_t v = 0; v < vcpus_.size(); ++v)
        do_up(v);
    for (int round = 0; round < 10'000; ++round) {
        bool any = false;
        for (const auto& vc : vcpus_)
            any = any || !vc.model.empty();
        if (!any)
            break;
        for (uint32_t v = 0; v < vcpus_.size(); ++v)
            do_idle(v);
        check_live();
    }
    for (uint32_t v = 0; v < vcpus_.size(); ++v)
        if (!vcpus_[v].model.empty())
            fail(str("lost: %llu timers of vCPU %llu never ran", vcpus_[v].model.size(), v));
    for (const auto& s : slots_) {
        if (s->timer.armed())
            fail(str("timer %llu still armed after the drain", s->id));
        if (s->arms != s->fires + s->cancels + s->replaced)
            fail(str("timer %llu: %llu armings, %llu runs + cancels + re-arms", s->id, s->arms,
                     s->fires + s->cancels + s->replaced));
    }
    act_as(0);
}

} // namespace timer_model
