// TimerDriver against the simulated Xen: the periodic timer stopped, Xen's
// single-shot programmed only when the first deadline changes, never with
// VCPU_SSHOTTMR_future, -ETIME taken as "expired now", the delta cap,
// coalesced and early events, idle, refusal of other vCPUs, hotplug, adopt,
// and the counters.
#include <xen/time/timer_driver.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/domain.hpp>

#include <memory>
#include <vector>

#include <xen/hypercall/vcpu_op.hpp>
#include <xen/time/pvclock.hpp>

using namespace xen;
using xen::abi::vcpuop;

namespace {

constexpr VcpuId v0{0};
constexpr VcpuId v1{1};
constexpr uint64_t ms = 1'000'000;
constexpr uint64_t s = 1'000'000'000;

struct Run {
    int id;
    uint32_t vcpu;
    uint64_t now;
    uint64_t deadline;
};

/// A timer that logs its runs.
struct Probe {
    Probe(std::vector<Run>& log, int id) : log(&log), id(id), timer(&Probe::fire, this) {}
    static void fire(Timer& t, VcpuId self, uint64_t now, void* ctx) noexcept
    {
        auto* p = static_cast<Probe*>(ctx);
        p->log->push_back({p->id, self.value, now, t.deadline()});
        if (p->rearm_every != 0 && p->rearms > 0) {
            --p->rearms;
            (void)p->driver->arm(self, t, t.deadline() + p->rearm_every);
        }
    }
    std::vector<Run>* log;
    int id;
    Timer timer;
    TimerDriver* driver = nullptr;
    uint64_t rearm_every = 0;
    int rearms = 0;
};

/// A simulated domain with the driver bound and started on vCPU 0.
struct Guest {
    explicit Guest(sim::Config c = {}, uint64_t max_delta = 4 * s, uint32_t budget = 1024) : hv(c), scope(hv, v0)
    {
        DomainConfig dc;
        dc.kind = c.guest == sim::GuestType::pv ? GuestKind::pv : GuestKind::pvh;
        dc.shared = &hv.shared_info();
        dc.hooks.ctx = this;
        dc.hooks.current = [](void*) noexcept { return sim::current_vcpu(); };
        dc.hooks.now_ns = &Guest::clock;
        REQUIRE(domain.init(dc, storage));
        domain.events().mask_all();
        REQUIRE(drv.init(domain, config(max_delta, budget)));
        start(v0);
        sim::set_current_vcpu(v0);
    }

    static TimerConfig config(uint64_t max_delta, uint32_t budget)
    {
        TimerConfig c;
        c.max_delta_ns = max_delta;
        c.max_expiries_per_event = budget;
        return c;
    }

    static uint64_t clock(void* ctx) noexcept
    {
        auto* g = static_cast<Guest*>(ctx);
        if (!g->use_pvclock)
            return g->hv.now();
        return pvclock_read(g->hv.vcpu_info(sim::current_vcpu()).time, [] { return sim::rdtsc(); })->system_time_ns;
    }

    void start(VcpuId v)
    {
        sim::set_current_vcpu(v);
        auto p = drv.bind(v);
        REQUIRE(p.has_value());
        port[v.value] = *p;
        REQUIRE(drv.start(v).has_value());
    }

    void upcall(VcpuId v)
    {
        sim::set_current_vcpu(v);
        (void)domain.events().dispatch(v, hv.vcpu_info(v));
    }

    bool pending(VcpuId v) const { return hv.port_pending(port[v.value].value); }
    std::optional<uint64_t> singleshot(VcpuId v) const { return hv.vcpu(v).singleshot_ns; }
    const TimerStats& stats(VcpuId v) { return drv.cpu(v)->stats(); }

    sim::Hypervisor hv;
    sim::Scope scope;
    std::unique_ptr<DomainStorage<4, 64>> storage_ptr = std::make_unique<DomainStorage<4, 64>>();
    DomainStorage<4, 64>& storage = *storage_ptr;
    Domain domain;
    TimerDriver drv;
    Port port[4] = {};
    bool use_pvclock = false;
};

sim::Config all_up(sim::Version version = sim::xen_4_17_7, sim::GuestType guest = sim::GuestType::pv)
{
    sim::Config c;
    c.version = version;
    c.guest = guest;
    c.vcpus = 4;
    c.initially_up = 4;
    return c;
}

} // namespace

TEST_CASE("TimerDriver: start stops Xen's 100 Hz periodic timer on a PV vCPU")
{
    sim::Config c;
    sim::Hypervisor probe(c);
    REQUIRE(probe.vcpu(v0).periodic_period_ns == 10 * ms); // Xen's PV default

    Guest g;
    CHECK(g.hv.vcpu(v0).periodic_period_ns == 0);
    CHECK(g.hv.calls(vcpuop::stop_periodic_timer) == 1);
    const uint64_t fires = g.hv.vcpu(v0).timer_fires;
    g.hv.advance(1 * s); // the vCPU keeps running
    CHECK(g.hv.vcpu(v0).timer_fires == fires);
    CHECK_FALSE(g.pending(v0));
}

TEST_CASE("TimerDriver: without it a running PV vCPU takes 100 timer events a second")
{
    sim::Hypervisor hv{sim::Config{}};
    const uint64_t fires = hv.vcpu(v0).timer_fires;
    hv.advance(1 * s);
    CHECK(hv.vcpu(v0).timer_fires - fires == 100);
}

TEST_CASE("TimerDriver: a timer runs at its deadline, never before")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1);
    const uint64_t deadline = g.hv.now() + 1 * ms;
    REQUIRE(g.drv.arm(v0, a.timer, deadline));
    CHECK(g.singleshot(v0) == deadline);
    g.hv.advance(1 * ms - 1);
    g.upcall(v0);
    CHECK(log.empty());
    g.hv.advance(1);
    CHECK(g.pending(v0));
    g.upcall(v0);
    REQUIRE(log.size() == 1);
    CHECK(log[0].now >= deadline);
    CHECK_FALSE(a.timer.armed());
    CHECK(g.stats(v0).expiries == 1);
    CHECK(g.stats(v0).lateness.max() == log[0].now - deadline);
}

TEST_CASE("TimerDriver: set_singleshot_timer is issued only when the first deadline changes")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1), b(log, 2), c(log, 3);
    const uint64_t t0 = g.hv.now();
    auto calls = [&] { return g.hv.calls(vcpuop::set_singleshot_timer) + g.hv.calls(vcpuop::stop_singleshot_timer); };

    REQUIRE(g.drv.arm(v0, a.timer, t0 + 10 * ms));
    CHECK(calls() == 1);
    REQUIRE(g.drv.arm(v0, b.timer, t0 + 20 * ms)); // later: no change
    CHECK(calls() == 1);
    REQUIRE(g.drv.arm(v0, c.timer, t0 + 5 * ms)); // earlier: reprogram
    CHECK(calls() == 2);
    CHECK(g.singleshot(v0) == t0 + 5 * ms);
    REQUIRE(g.drv.arm(v0, b.timer, t0 + 30 * ms)); // re-arm a later one
    CHECK(calls() == 2);
    CHECK(g.drv.cancel(v0, b.timer).value());
    CHECK(calls() == 2);
    CHECK(g.drv.cancel(v0, c.timer).value()); // the first: reprogram
    CHECK(calls() == 3);
    CHECK(g.singleshot(v0) == t0 + 10 * ms);
    CHECK(g.drv.cancel(v0, a.timer).value()); // the last: stop Xen's timer
    CHECK(calls() == 4);
    CHECK_FALSE(g.singleshot(v0).has_value());
    CHECK_FALSE(g.drv.cancel(v0, a.timer).value()); // not armed: nothing to do
    CHECK(calls() == 4);
}

TEST_CASE("TimerDriver: never sets VCPU_SSHOTTMR_future: a past deadline fires at once even on Xen 4.17.2")
{
    sim::Config c;
    c.version = sim::xen_4_17_2; // answers -ETIME to the flag with a past deadline
    Guest g(c);
    std::vector<Run> log;
    Probe a(log, 1);
    const uint64_t deadline = g.hv.now() - 1000;
    REQUIRE(g.drv.arm(v0, a.timer, deadline));
    CHECK(g.pending(v0));
    CHECK(g.stats(v0).etime == 0);
    g.upcall(v0);
    REQUIRE(log.size() == 1);
    CHECK(log[0].deadline == deadline);
}

TEST_CASE("TimerDriver: -ETIME when arming counts as expired now: the event is self-injected")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1);
    g.hv.inject(sim::Fault::vcpuop(vcpuop::set_singleshot_timer, Errc::etime));
    const uint64_t deadline = g.hv.now() + 1 * ms;
    REQUIRE(g.drv.arm(v0, a.timer, deadline));
    CHECK(g.stats(v0).etime == 1);
    CHECK(g.pending(v0)); // raised locally, no retry with a longer delta
    // The handler trusts its own clock: not due yet, so nothing runs early,
    // and Xen gets the deadline again.
    g.upcall(v0);
    CHECK(log.empty());
    CHECK(g.singleshot(v0) == deadline);
    g.hv.advance(1 * ms);
    g.upcall(v0);
    REQUIRE(log.size() == 1);
    CHECK(log[0].now >= deadline);
}

TEST_CASE("TimerDriver: -ETIME in the handler runs what is due and re-arms for the rest")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1), b(log, 2);
    const uint64_t t0 = g.hv.now();
    REQUIRE(g.drv.arm(v0, a.timer, t0 + 1 * ms));
    REQUIRE(g.drv.arm(v0, b.timer, t0 + 2 * ms));
    g.hv.advance(1 * ms);
    g.hv.inject(sim::Fault::vcpuop(vcpuop::set_singleshot_timer, Errc::etime));
    g.upcall(v0); // runs a; programming b answers -ETIME once; b is not due: kick, retry
    REQUIRE(log.size() == 1);
    CHECK(g.stats(v0).etime == 1);
    CHECK(g.singleshot(v0) == t0 + 2 * ms);
    g.hv.advance(1 * ms);
    g.upcall(v0);
    REQUIRE(log.size() == 2);
    CHECK(log[1].id == 2);
}

TEST_CASE("TimerDriver: a far deadline is programmed in steps of at most max_delta")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1);
    const uint64_t t0 = g.hv.now();
    REQUIRE(g.drv.arm(v0, a.timer, t0 + 10 * s));
    CHECK(g.singleshot(v0) == t0 + 4 * s);
    g.hv.advance(4 * s);
    g.upcall(v0);
    CHECK(log.empty());
    CHECK(g.singleshot(v0) == t0 + 8 * s);
    g.hv.advance(4 * s);
    g.upcall(v0);
    CHECK(g.singleshot(v0) == t0 + 10 * s);
    g.hv.advance(2 * s);
    g.upcall(v0);
    REQUIRE(log.size() == 1);
    CHECK(g.stats(v0).capped == 2);
    CHECK(g.stats(v0).early_events == 0); // the steps were planned wake-ups
}

TEST_CASE("TimerDriver: one event runs every timer that came due, in order")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1), b(log, 2), c(log, 3), d(log, 4);
    const uint64_t t0 = g.hv.now();
    REQUIRE(g.drv.arm(v0, c.timer, t0 + 3 * ms));
    REQUIRE(g.drv.arm(v0, a.timer, t0 + 1 * ms));
    REQUIRE(g.drv.arm(v0, b.timer, t0 + 2 * ms));
    REQUIRE(g.drv.arm(v0, d.timer, t0 + 9 * ms));
    g.hv.advance(5 * ms); // Xen fired once; VIRQ_TIMER is one pending bit
    g.upcall(v0);
    REQUIRE(log.size() == 3);
    CHECK(log[0].id == 1);
    CHECK(log[1].id == 2);
    CHECK(log[2].id == 3);
    CHECK(g.stats(v0).wakeups == 1);
    CHECK(g.singleshot(v0) == t0 + 9 * ms);
}

TEST_CASE("TimerDriver: an early event runs nothing and keeps the deadline in Xen")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1);
    const uint64_t deadline = g.hv.now() + 1 * ms;
    REQUIRE(g.drv.arm(v0, a.timer, deadline));
    g.hv.raise_virq(v0, abi::virq::timer); // a tick, a spurious event, or Xen early by our clock
    g.upcall(v0);
    CHECK(log.empty());
    CHECK(g.stats(v0).early_events == 1);
    CHECK(g.singleshot(v0) == deadline);
}

TEST_CASE("TimerDriver: an event a few ns early by pvclock (behind Xen's NOW) runs nothing, then the timer runs")
{
    Guest g;
    g.use_pvclock = true;
    std::vector<Run> log;
    Probe a(log, 1);
    const uint64_t deadline = g.hv.now() + 1 * ms + 7;
    REQUIRE(g.drv.arm(v0, a.timer, deadline));
    g.hv.advance_to(deadline);
    for (int i = 0; i < 100 && log.empty(); ++i) {
        g.upcall(v0);
        g.hv.advance(1); // the guest's time moves on
    }
    REQUIRE(log.size() == 1);
    CHECK(log[0].now >= deadline);
}

TEST_CASE("TimerDriver: arming or cancelling for another vCPU is refused with not_current_vcpu")
{
    Guest g(all_up());
    g.start(v1);
    std::vector<Run> log;
    Probe a(log, 1);
    sim::set_current_vcpu(v1);
    const uint64_t before = g.hv.total_calls();
    CHECK(g.drv.arm(v0, a.timer, g.hv.now() + ms).error() == Errc::not_current_vcpu);
    CHECK(g.drv.arm_after(v0, a.timer, ms).error() == Errc::not_current_vcpu);
    CHECK(g.drv.start(v0).error() == Errc::not_current_vcpu);
    CHECK(g.hv.total_calls() == before); // refused before Xen sees anything
    CHECK_FALSE(a.timer.armed());

    REQUIRE(g.drv.arm(v1, a.timer, g.hv.now() + ms));
    sim::set_current_vcpu(v0);
    CHECK(g.drv.arm(v0, a.timer, g.hv.now() + ms).error() == Errc::not_current_vcpu);
    CHECK(g.drv.cancel(v0, a.timer).error() == Errc::not_current_vcpu);
    CHECK(a.timer.armed());
    CHECK(g.drv.arm(VcpuId{7}, a.timer, 0).error() == Errc::vcpu_out_of_range);
}

TEST_CASE("TimerDriver: idle on PV sleeps until the deadline with no wake-up in between")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1);
    const uint64_t deadline = g.hv.now() + 1 * s;
    REQUIRE(g.drv.arm(v0, a.timer, deadline));
    const uint64_t fires = g.hv.vcpu(v0).timer_fires;
    REQUIRE(g.drv.idle(v0));
    CHECK(g.hv.now() >= deadline);
    CHECK(g.hv.vcpu(v0).timer_fires - fires == 1); // one event: ours
    g.upcall(v0);
    CHECK(log.size() == 1);
    CHECK(g.stats(v0).wakeups == 1);
    CHECK(g.stats(v0).early_events == 0);
}

TEST_CASE("TimerDriver: idle returns at once for an overdue timer and self-injects a lost event")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1);
    REQUIRE(g.drv.arm(v0, a.timer, g.hv.now() + 1 * ms));
    g.hv.advance(2 * ms);
    REQUIRE(g.pending(v0));
    // Lose the event (as a set_timer_op elsewhere would: docs/xen-contracts.md,
    // "set_timer_op").
    const uint32_t p = g.port[0].value;
    __atomic_fetch_and(&g.hv.shared_info().evtchn_pending[p / 64], ~(uint64_t{1} << (p % 64)), __ATOMIC_SEQ_CST);
    const uint64_t t = g.hv.now();
    REQUIRE(g.drv.idle(v0));
    CHECK(g.hv.now() == t); // did not sleep
    CHECK(g.pending(v0));
    g.upcall(v0);
    CHECK(log.size() == 1);
}

TEST_CASE("TimerDriver: idle of a PVH domain (sti;hlt) exists only in the target build")
{
    sim::Config c;
    c.guest = sim::GuestType::pvh;
    Guest g(c);
    CHECK(g.drv.idle(v0).error() == Errc::unsupported);
}

TEST_CASE("TimerDriver: a vCPU that goes down keeps its timers; they run late, once, when it is back")
{
    Guest g(all_up());
    g.start(v1);
    std::vector<Run> log;
    Probe a(log, 1);
    sim::set_current_vcpu(v1);
    const uint64_t deadline = g.hv.now() + 1 * ms;
    REQUIRE(g.drv.arm(v1, a.timer, deadline));
    REQUIRE(g.drv.stop(v1));
    CHECK_FALSE(g.singleshot(v1).has_value());
    REQUIRE(hc::vcpu_down(v1));
    g.hv.advance(10 * ms);
    CHECK_FALSE(g.pending(v1)); // nothing fired while it was down
    sim::set_current_vcpu(v0);
    REQUIRE(hc::vcpu_up(v1));
    sim::set_current_vcpu(v1);
    REQUIRE(g.drv.start(v1)); // the past deadline makes Xen fire at once
    CHECK(g.pending(v1));
    g.upcall(v1);
    REQUIRE(log.size() == 1);
    CHECK(log[0].vcpu == 1);
    CHECK(log[0].now - deadline >= 9 * ms);
    g.upcall(v1);
    CHECK(log.size() == 1);
}

TEST_CASE("TimerDriver: adopt moves a stopped vCPU's timers to the caller, keeping their order")
{
    Guest g(all_up());
    g.start(v1);
    std::vector<Run> log;
    Probe a(log, 1), b(log, 2), c(log, 3);
    sim::set_current_vcpu(v1);
    const uint64_t t0 = g.hv.now();
    REQUIRE(g.drv.arm(v1, b.timer, t0 + 2 * ms));
    REQUIRE(g.drv.arm(v1, a.timer, t0 + 1 * ms));
    REQUIRE(g.drv.arm(v1, c.timer, t0 + 2 * ms));

    sim::set_current_vcpu(v0);
    CHECK(g.drv.adopt(v0, v1).error() == Errc::invalid_argument); // still running
    sim::set_current_vcpu(v1);
    REQUIRE(g.drv.stop(v1));
    REQUIRE(hc::vcpu_down(v1));
    sim::set_current_vcpu(v0);
    CHECK(g.drv.adopt(v0, v0).error() == Errc::invalid_argument);
    auto moved = g.drv.adopt(v0, v1);
    REQUIRE(moved.has_value());
    CHECK(*moved == 3);
    CHECK(g.drv.cpu(v1)->armed() == 0);
    CHECK(g.singleshot(v0) == t0 + 1 * ms);
    g.hv.advance(2 * ms);
    g.upcall(v0);
    REQUIRE(log.size() == 3);
    CHECK(log[0].id == 1);
    CHECK(log[1].id == 2);
    CHECK(log[2].id == 3);
    CHECK(log[0].vcpu == 0);
}

TEST_CASE("TimerDriver: one hypercall per expiry for timers armed in deadline order")
{
    Guest g;
    std::vector<Run> log;
    std::vector<std::unique_ptr<Probe>> probes;
    const uint64_t t0 = g.hv.now();
    const uint64_t before = g.stats(v0).hypercalls;
    for (int i = 0; i < 100; ++i) {
        probes.push_back(std::make_unique<Probe>(log, i));
        REQUIRE(g.drv.arm(v0, probes.back()->timer, t0 + (i + 1) * ms));
    }
    while (log.size() < 100) {
        REQUIRE(g.drv.idle(v0));
        g.upcall(v0);
    }
    const TimerStats& st = g.stats(v0);
    CHECK(st.expiries == 100);
    CHECK(st.wakeups == 100);
    CHECK(st.early_events == 0);
    CHECK(st.hypercalls - before == 100); // the first arm, then one re-arm per event but the last
    CHECK_FALSE(g.singleshot(v0).has_value());
    CHECK(st.lateness.count() == 100);
    CHECK(st.lateness.max() == 0); // the simulated Xen is exact (timer_slop 0)
}

TEST_CASE("TimerDriver: slack lets nearby timers share one wake-up")
{
    Guest g;
    std::vector<Run> log;
    std::vector<std::unique_ptr<Probe>> probes;
    const uint64_t t0 = g.hv.now();
    for (int i = 0; i < 10; ++i) {
        probes.push_back(std::make_unique<Probe>(log, i));
        // 10 timers 100 us apart, each willing to wait 1 ms.
        REQUIRE(g.drv.arm(v0, probes.back()->timer, t0 + ms + i * 100'000, 1 * ms));
    }
    CHECK(g.singleshot(v0) == t0 + 2 * ms); // the first one's latest time
    REQUIRE(g.drv.idle(v0));
    g.upcall(v0);
    CHECK(log.size() == 10);
    CHECK(g.stats(v0).wakeups == 1);
    for (const auto& r : log)
        CHECK(r.now >= r.deadline);
}

TEST_CASE("TimerDriver: a callback may re-arm its own timer")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1);
    a.driver = &g.drv;
    a.rearm_every = 10 * ms;
    a.rearms = 4;
    REQUIRE(g.drv.arm(v0, a.timer, g.hv.now() + 10 * ms));
    for (int i = 0; i < 10 && log.size() < 5; ++i) {
        REQUIRE(g.drv.idle(v0));
        g.upcall(v0);
    }
    CHECK(log.size() == 5);
    CHECK(g.stats(v0).wakeups == 5);
    CHECK_FALSE(a.timer.armed());
}

TEST_CASE("TimerDriver: max_expiries_per_event bounds one event; the rest follow at once")
{
    Guest g(sim::Config{}, 4 * s, 2);
    std::vector<Run> log;
    std::vector<std::unique_ptr<Probe>> probes;
    const uint64_t t0 = g.hv.now();
    for (int i = 0; i < 5; ++i) {
        probes.push_back(std::make_unique<Probe>(log, i));
        REQUIRE(g.drv.arm(v0, probes.back()->timer, t0 + ms + i));
    }
    g.hv.advance(2 * ms);
    g.upcall(v0); // the dispatcher loops while Xen re-raises the event
    REQUIRE(log.size() == 5);
    for (int i = 0; i < 5; ++i)
        CHECK(log[i].id == i);
    CHECK(g.stats(v0).wakeups == 3);
}

TEST_CASE("TimerDriver: the handler of a stopped vCPU runs due timers but programs nothing")
{
    Guest g(all_up());
    g.start(v1);
    std::vector<Run> log;
    Probe a(log, 1), b(log, 2);
    sim::set_current_vcpu(v1);
    const uint64_t t0 = g.hv.now();
    REQUIRE(g.drv.arm(v1, a.timer, t0 + 1 * ms));
    REQUIRE(g.drv.arm(v1, b.timer, t0 + 5 * ms));
    g.hv.advance(1 * ms); // event pending on v1
    REQUIRE(g.drv.stop(v1));
    const uint64_t calls = g.hv.calls(vcpuop::set_singleshot_timer);
    g.upcall(v1);
    CHECK(log.size() == 1);
    CHECK(g.hv.calls(vcpuop::set_singleshot_timer) == calls);
    CHECK_FALSE(g.singleshot(v1).has_value());
}

TEST_CASE("TimerDriver: unbind closes the VIRQ_TIMER port; a new bind and start run what stayed armed")
{
    Guest g;
    std::vector<Run> log;
    Probe a(log, 1);
    const uint64_t deadline = g.hv.now() + 1 * ms;
    REQUIRE(g.drv.arm(v0, a.timer, deadline));
    REQUIRE(g.drv.stop(v0));
    const uint32_t old_port = g.port[0].value;
    REQUIRE(g.drv.unbind(v0));
    CHECK(g.hv.port_state(old_port) == abi::evtchn_stat::closed);
    CHECK(g.drv.unbind(v0).error() == Errc::invalid_argument);
    g.hv.advance(2 * ms);
    g.start(v0); // bind + start again: the overdue timer fires at once
    g.upcall(v0);
    REQUIRE(log.size() == 1);
    CHECK(log[0].now >= deadline);
}
