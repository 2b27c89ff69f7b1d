// Domain::suspend against the simulated save/restore (docs/lifecycle.md):
// a new domain (PV and PVH, Xen 4.17 and 4.20), a cancelled suspend, time
// jumping back and forward over several restores, steal, timers armed
// before the suspend, ports that come back under other numbers, and a
// fault at every step that must be redone.
#include <catch2/catch.hpp>

#include <vector>

#include <xen/hypercall/sched_op.hpp>
#include <xen/runstate/area.hpp>
#include <xen/time/timer_driver.hpp>

#include "smp_rig.hpp"

namespace {

using smp_test::Rig;
using xen::VcpuId;
namespace sim = xen::sim;
namespace abi = xen::abi;

abi::shared_info* remap(void* ctx) noexcept { return &static_cast<sim::Hypervisor*>(ctx)->shared_info(); }

// The L4's "new" machine frame (the simulator does not check it).
uint64_t new_cr3(void*) noexcept { return abi::pfn_to_cr3(0x5678); }

struct Fired {
    std::vector<uint64_t> at; // `now` each run saw
    uint64_t deadline = 0;
};

void on_timer(xen::Timer&, VcpuId, uint64_t now, void* ctx) noexcept { static_cast<Fired*>(ctx)->at.push_back(now); }

// A domain brought up with everything the sequence must redo: vcpu_info in
// every slot, a runstate area per vCPU (op 5, update flag on), a time area
// on vCPU 0, VIRQ_TIMER and a timer armed on vCPU 0, call IPIs on the APs.
struct World {
    Rig rig;
    xen::TimerDriver timers;
    xen::Runstate runstate;
    alignas(64) xen::Area<abi::vcpu_time_info> time_area;
    Fired fired;
    xen::Timer timer{&on_timer, &fired};

    explicit World(sim::Config cfg) : rig(cfg, cfg.vcpus)
    {
        REQUIRE(rig.bring_up(xen::BringUpMode::parallel).online == cfg.vcpus);
        xen::Domain& d = *rig.domain;
        REQUIRE(timers.init(d).has_value());
        REQUIRE(runstate.enable_update_flag().value());
        for (uint32_t v = 0; v < cfg.vcpus; ++v)
            REQUIRE(d.register_runstate_memory_area(VcpuId{v}, d.find(VcpuId{v})->runstate.area).has_value());
        REQUIRE(d.register_vcpu_time_memory_area(VcpuId{0}, time_area).has_value());
        REQUIRE(timers.bind(VcpuId{0}).has_value());
        REQUIRE(timers.start(VcpuId{0}).has_value());
        fired.deadline = timers.now() + 5'000'000;
        REQUIRE(timers.arm(VcpuId{0}, timer, fired.deadline).has_value());
    }

    xen::SuspendConfig config()
    {
        xen::SuspendConfig c;
        c.start_info_mfn = 0x1234;
        c.smp = rig.smp.get();
        c.timers = &timers;
        c.runstate = &runstate;
        c.bound = Rig::within(1'000'000'000);
        c.hooks.ctx = &rig.hv;
        c.hooks.remap_shared_info = &remap;
        c.hooks.pv_cr3 = &new_cr3;
        if (rig.hv.config().guest == sim::GuestType::pvh)
            c.upcall_vector = 0xf3;
        return c;
    }

    // Let virtual time run by `ns` in small steps, delivering vCPU 0's events.
    void run(uint64_t ns)
    {
        for (uint64_t t = 0; t < ns; t += 100'000) {
            rig.hv.advance(100'000);
            if (auto* vi = rig.domain->vcpu_info(VcpuId{0}))
                (void)rig.events().dispatch(VcpuId{0}, *vi);
        }
    }
};

sim::Config config_for(sim::GuestType g, sim::Version v)
{
    sim::Config c;
    c.guest = g;
    c.version = v;
    c.vcpus = 4;
    return c;
}

// Everything a new domain forgot is there again.
void check_redone(World& w)
{
    sim::Hypervisor& hv = w.rig.hv;
    xen::Domain& d = *w.rig.domain;
    const bool pv = hv.config().guest == sim::GuestType::pv;
    CHECK(&d.shared() == &hv.shared_info());
    CHECK(hv.vm_assist_enabled(abi::vmasst_type::runstate_update_flag));
    CHECK(hv.time_area_va(VcpuId{0}) == w.time_area.get());
    for (uint32_t v = 0; v < 4; ++v) {
        const VcpuId id{v};
        const sim::VcpuView view = hv.vcpu(id);
        // vCPU 0 stays on its shared_info slot (Smp places the APs' only).
        CHECK(view.vcpu_info_registered == (v != 0));
        CHECK(view.periodic_period_ns == 0);
        CHECK(hv.runstate_area_va(id) == d.find(id)->runstate.area.get());
        CHECK(d.vcpu_info(id) == &hv.vcpu_info(id));
        if (!pv)
            CHECK(view.upcall_vector == 0xf3);
        if (v != 0) {
            CHECK(w.rig.smp->state(id) == xen::CpuState::online);
            const xen::Port ipi = w.rig.smp->part(id).ipi_port;
            CHECK(hv.port_state(ipi.value) == abi::evtchn_stat::ipi);
            CHECK_FALSE(hv.port_masked(ipi.value));
        }
    }
    const uint32_t timer_port = hv.virq_port(VcpuId{0}, abi::virq::timer);
    CHECK(timer_port != 0);
    CHECK_FALSE(hv.port_masked(timer_port));
    if (!pv)
        CHECK(hv.hvm_param(abi::hvm_param::callback_irq) == std::optional<uint64_t>{1});
}

} // namespace

TEST_CASE("suspend: a new domain gets back everything Xen forgot", "[suspend]")
{
    const auto guest = GENERATE(sim::GuestType::pv, sim::GuestType::pvh);
    const auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    World w(config_for(guest, version));
    sim::Hypervisor& hv = w.rig.hv;
    xen::Domain& d = *w.rig.domain;
    // xenstore and console take the lowest ports in the new domain: every
    // binding comes back under another number.
    hv.plan_suspend(sim::SuspendPlan{false, -300'000'000, 0, 0x1234, 2});
    const uint32_t ipi1 = w.rig.smp->part(VcpuId{1}).ipi_port.value;
    const uint64_t inits = hv.calls(abi::vcpuop::initialise);
    // A port the kernel attached (its xenstore channel, say): the new
    // domain's has another number, so the table forgets it.
    int store = 0;
    const xen::EventHandler store_handler = [](xen::Port, VcpuId, void*) noexcept {};
    REQUIRE(d.events().attach(xen::Port{100}, VcpuId{0}, store_handler, &store).has_value());

    xen::SuspendReport report;
    const auto r = d.suspend(w.config(), &report);
    INFO(xen::suspend_step_name(report.failed_step) << " " << xen::errc_name(report.cause));
    REQUIRE(r.has_value());
    CHECK(*r == xen::SuspendOutcome::resumed);
    CHECK(hv.restores() == 1);
    CHECK(hv.suspend_start_info() == (guest == sim::GuestType::pv ? 0x1234u : 0u));
    CHECK(report.aps_parked == 3);
    CHECK(report.aps_back == 3);
    CHECK(report.ports_rebound == 4); // VIRQ_TIMER on 0, the IPIs of 1..3
    CHECK(w.rig.smp->part(VcpuId{1}).ipi_port.value != ipi1);
    // The parked APs were not in the save stream: initialised afresh, they
    // came back through their entry, not from their VCPUOP_down.
    CHECK(hv.calls(abi::vcpuop::initialise) == inits + 3);
    for (uint32_t v = 1; v < 4; ++v) {
        CHECK(w.rig.aps[v].resumes == 0);
        CHECK(hv.vcpu(VcpuId{v}).initialised);
    }
    CHECK(d.restores() == 1);
    CHECK(d.events().find(store_handler, &store, VcpuId{0}).error() == xen::Errc::port_not_bound);
    CHECK(d.events().find(&xen::TimerDriver::on_virq_timer, &w.timers, VcpuId{0}).value().value ==
          hv.virq_port(VcpuId{0}, abi::virq::timer));
    check_redone(w);

    // The clock went on from where it stopped, though Xen's went back.
    CHECK(report.clock_after_ns >= report.clock_before_ns);
    CHECK(d.now() >= report.clock_before_ns);
    CHECK(report.offset_ns > 0);
    // No cached record scale survives: the floor was emptied.
    CHECK(d.clock_floor().slot[0].tsc_to_system_mul == 0);
    CHECK(d.clock_floor().slot[1].tsc_to_system_mul == 0);

    // A call reaches an AP through its new IPI port.
    int hits = 0;
    REQUIRE(w.rig.smp
                ->call(
                    VcpuId{2}, [](void* p) noexcept { ++*static_cast<int*>(p); }, &hits, Rig::within(100'000'000))
                .has_value());
    CHECK(hits == 1);
}

TEST_CASE("suspend: the timer armed before a restore runs once, never early", "[suspend]")
{
    const auto jump = GENERATE(int64_t{-2'000'000'000}, int64_t{0}, int64_t{3'600'000'000'000});
    World w(config_for(sim::GuestType::pv, sim::xen_4_17_7));
    xen::Domain& d = *w.rig.domain;
    w.run(1'000'000);
    w.rig.step_ns = 1'000; // parking and bringing back take little time
    w.rig.hv.plan_suspend(sim::SuspendPlan{false, jump, 3'000'000'000, 0, 0});
    REQUIRE(d.suspend(w.config()).has_value());
    CHECK(w.fired.at.empty());
    const uint64_t left = w.fired.deadline - w.timers.now();
    REQUIRE(left > 1'000'000);
    // Xen holds a single-shot for it, by Xen's own (re-based) time.
    const auto view = w.rig.hv.vcpu(VcpuId{0});
    REQUIRE(view.singleshot_ns.has_value());
    CHECK(*view.singleshot_ns == d.to_xen_time(w.fired.deadline));
    w.run(left - 200'000);
    CHECK(w.fired.at.empty()); // not early against the kernel's clock
    w.run(2'000'000);
    REQUIRE(w.fired.at.size() == 1);
    CHECK(w.fired.at[0] >= w.fired.deadline);
    w.run(20'000'000);
    CHECK(w.fired.at.size() == 1); // not twice
}

TEST_CASE("suspend: clock and steal never go back over many restores", "[suspend]")
{
    World w(config_for(sim::GuestType::pvh, sim::xen_4_20));
    xen::Domain& d = *w.rig.domain;
    xen::StealClock& steal = d.find(VcpuId{0})->steal;
    steal.start(*xen::hc::vcpu_get_runstate_info(VcpuId{0}));
    uint64_t last_clock = d.now();
    uint64_t last_steal = 0;
    const int64_t jumps[] = {-500'000'000, 7'000'000'000, -900'000'000, 0, -100'000};
    for (const int64_t jump : jumps) {
        w.rig.hv.preempt(VcpuId{0}, 2'000'000); // 2 ms of steal
        w.rig.hv.plan_suspend(sim::SuspendPlan{false, jump, 0, 0, 1});
        REQUIRE(d.suspend(w.config()).has_value());
        CHECK(d.now() >= last_clock);
        last_clock = d.now();
        w.rig.hv.preempt(VcpuId{0}, 1'000'000);
        steal.update(*xen::hc::vcpu_get_runstate_info(VcpuId{0}));
        CHECK(steal.steal_ns() >= last_steal + 3'000'000);
        last_steal = steal.steal_ns();
        check_redone(w);
    }
    CHECK(w.rig.hv.restores() == 5);
    CHECK(d.restores() == 5);
    w.run(10'000'000);
    CHECK(w.fired.at.size() == 1);
}

TEST_CASE("suspend: a cancelled suspend redoes nothing and loses nothing", "[suspend]")
{
    const auto guest = GENERATE(sim::GuestType::pv, sim::GuestType::pvh);
    World w(config_for(guest, sim::xen_4_17_7));
    sim::Hypervisor& hv = w.rig.hv;
    xen::Domain& d = *w.rig.domain;
    hv.plan_suspend(sim::SuspendPlan{true, 0, 0, 0, 0});
    const uint32_t timer_port = hv.virq_port(VcpuId{0}, abi::virq::timer);
    const uint64_t reg_before = hv.calls(abi::vcpuop::register_vcpu_info);
    const uint64_t binds_before = hv.calls(abi::hypercall::event_channel_op);
    const uint64_t before = d.now();
    xen::SuspendReport report;
    const auto r = d.suspend(w.config(), &report);
    REQUIRE(r.has_value());
    CHECK(*r == xen::SuspendOutcome::cancelled);
    CHECK(hv.suspends() == 1);
    CHECK(hv.restores() == 0);
    CHECK(hv.calls(abi::vcpuop::register_vcpu_info) == reg_before);
    CHECK(hv.calls(abi::vcpuop::register_runstate_memory_area) == 4);
    CHECK(hv.virq_port(VcpuId{0}, abi::virq::timer) == timer_port);
    CHECK(d.clock_offset() == 0);
    CHECK(d.now() >= before);
    CHECK(report.aps_back == 3);
    CHECK(hv.calls(abi::vcpuop::initialise) == 3); // bring-up only: they resumed where they parked
    CHECK(w.rig.aps[1].resumes == 1);
    // Parking sent park IPIs; nothing was bound again.
    for (uint32_t v = 1; v < 4; ++v)
        CHECK(w.rig.smp->state(VcpuId{v}) == xen::CpuState::online);
    (void)binds_before;
    w.run(10'000'000);
    CHECK(w.fired.at.size() == 1);
}

TEST_CASE("suspend: a step that cannot be redone names itself", "[suspend]")
{
    struct Case {
        sim::GuestType guest;
        sim::Fault fault;
        xen::SuspendStep step;
        xen::Errc error;
    };
    using H = abi::hypercall;
    const sim::Fault vcpuop_on_2 = sim::Fault{
        H::vcpu_op, static_cast<int32_t>(abi::vcpuop::register_vcpu_info), 2u, 1, xen::Errc::enomem, 1};
    const Case cases[] = {
        {sim::GuestType::pv, sim::Fault::vcpuop(abi::vcpuop::register_vcpu_info, xen::Errc::eacces),
         xen::SuspendStep::vcpu_info, xen::Errc::resume_failed},
        {sim::GuestType::pv, vcpuop_on_2, xen::SuspendStep::vcpu_info, xen::Errc::resume_failed},
        {sim::GuestType::pv, sim::Fault::call(H::vm_assist, xen::Errc::einval), xen::SuspendStep::update_flag,
         xen::Errc::resume_failed},
        {sim::GuestType::pv, sim::Fault::vcpuop(abi::vcpuop::register_runstate_memory_area, xen::Errc::efault, 3),
         xen::SuspendStep::runstate_area, xen::Errc::resume_failed},
        {sim::GuestType::pv, sim::Fault::vcpuop(abi::vcpuop::register_vcpu_time_memory_area, xen::Errc::efault),
         xen::SuspendStep::time_area, xen::Errc::resume_failed},
        {sim::GuestType::pv,
         sim::Fault{H::event_channel_op, static_cast<int32_t>(abi::evtchnop::bind_ipi), std::nullopt, 2,
                    xen::Errc::enospc, 1},
         xen::SuspendStep::events, xen::Errc::resume_failed},
        {sim::GuestType::pv, sim::Fault::vcpuop(abi::vcpuop::stop_periodic_timer, xen::Errc::einval),
         xen::SuspendStep::periodic_timer, xen::Errc::resume_failed},
        {sim::GuestType::pvh, sim::Fault::call(H::memory_op, xen::Errc::enomem), xen::SuspendStep::shared_info,
         xen::Errc::resume_failed},
        {sim::GuestType::pvh,
         sim::Fault{H::hvm_op, static_cast<int32_t>(abi::hvmop::set_evtchn_upcall_vector), std::nullopt, 1,
                    xen::Errc::einval, 1},
         xen::SuspendStep::upcall_vector, xen::Errc::resume_failed},
        {sim::GuestType::pvh,
         sim::Fault{H::hvm_op, static_cast<int32_t>(abi::hvmop::set_param), std::nullopt, 1, xen::Errc::einval, 1},
         xen::SuspendStep::callback_irq, xen::Errc::resume_failed},
        {sim::GuestType::pv,
         sim::Fault{H::sched_op, static_cast<int32_t>(abi::schedop::shutdown), std::nullopt, 1, xen::Errc::eperm, 1},
         xen::SuspendStep::suspend_call, xen::Errc::suspend_failed},
    };
    for (const Case& c : cases) {
        World w(config_for(c.guest, sim::xen_4_17_7));
        xen::Domain& d = *w.rig.domain;
        const uint64_t before = d.now();
        // Xen's time goes back: even a sequence that stops early leaves
        // the kernel clock no lower than before.
        w.rig.hv.plan_suspend(sim::SuspendPlan{false, -300'000'000, 0, 0, 0});
        w.rig.hv.inject(c.fault);
        xen::SuspendReport report;
        const auto r = d.suspend(w.config(), &report);
        INFO(xen::suspend_step_name(c.step));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == c.error);
        CHECK(report.failed_step == c.step);
        CHECK(report.cause == c.fault.error);
        if (c.fault.vcpu)
            CHECK(report.failed_vcpu == VcpuId{*c.fault.vcpu});
        CHECK(d.now() >= before);
        if (c.error == xen::Errc::suspend_failed) {
            // Nothing happened: the APs are back, the timer still runs.
            CHECK(report.aps_back == 3);
            w.run(10'000'000);
            CHECK(w.fired.at.size() == 1);
        } else {
            // Stopped there: the APs parked for the suspend stay parked.
            CHECK(report.aps_back == 0);
            CHECK(w.rig.smp->state(VcpuId{1}) == xen::CpuState::parked);
        }
    }
}

TEST_CASE("suspend: refused off vCPU 0 and without the kernel's hooks", "[suspend]")
{
    World w(config_for(sim::GuestType::pv, sim::xen_4_20));
    xen::Domain& d = *w.rig.domain;
    xen::SuspendConfig c = w.config();
    c.hooks.remap_shared_info = nullptr;
    CHECK(d.suspend(c).error() == xen::Errc::invalid_argument);
    c = w.config();
    c.hooks.pv_cr3 = nullptr; // PV APs could not restart on the new L4
    CHECK(d.suspend(c).error() == xen::Errc::invalid_argument);
    sim::set_current_vcpu(VcpuId{1});
    CHECK(d.suspend(w.config()).error() == xen::Errc::not_current_vcpu);
    sim::set_current_vcpu(VcpuId{0});
    CHECK(w.rig.hv.suspends() == 0);
}

TEST_CASE("suspend: a kernel without a now_ns hook reads a clock re-based over the floor", "[suspend]")
{
    // to_xen_time round trip and its edges, for both signs of the offset.
    World w(config_for(sim::GuestType::pv, sim::xen_4_20));
    xen::Domain& d = *w.rig.domain;
    w.rig.hv.plan_suspend(sim::SuspendPlan{false, -400'000'000, 0, 0, 0});
    REQUIRE(d.suspend(w.config()).has_value());
    const int64_t off = d.clock_offset();
    REQUIRE(off > 0);
    CHECK(d.to_xen_time(d.now()) == w.rig.hv.now());
    CHECK(d.to_xen_time(static_cast<uint64_t>(off) - 1) == 1); // before Xen's zero: at once
    w.rig.hv.plan_suspend(sim::SuspendPlan{false, 9'000'000'000, 0, 0, 0});
    REQUIRE(d.suspend(w.config()).has_value());
    CHECK(d.clock_offset() < off);
    CHECK(d.to_xen_time(d.now()) == w.rig.hv.now());
    CHECK(d.to_xen_time(~uint64_t{0}) ==
          ~uint64_t{0} - (d.clock_offset() < 0 ? 0 : static_cast<uint64_t>(d.clock_offset())));
}

TEST_CASE("suspend: a registration Xen still holds is taken as done, by version", "[suspend]")
{
    struct Case {
        sim::Version version;
        xen::Errc answer;
        bool accepted;
    };
    // 4.18+ says -EBUSY for a second registration, 4.17 -EINVAL; 4.18+'s
    // -EINVAL is a real error.
    const Case cases[] = {{sim::xen_4_20, xen::Errc::ebusy, true},
                          {sim::xen_4_17_7, xen::Errc::einval, true},
                          {sim::xen_4_20, xen::Errc::einval, false},
                          {sim::xen_4_17_7, xen::Errc::ebusy, false}};
    for (const Case& c : cases) {
        World w(config_for(sim::GuestType::pv, c.version));
        w.rig.hv.inject(sim::Fault{abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::register_vcpu_info), 1u,
                                   1, c.answer, 1});
        xen::SuspendReport report;
        const auto r = w.rig.domain->suspend(w.config(), &report);
        INFO(xen::errc_name(c.answer));
        CHECK(r.has_value() == c.accepted);
        CHECK(report.still_registered == (c.accepted ? 1u : 0u));
        if (!c.accepted) {
            CHECK(report.failed_step == xen::SuspendStep::vcpu_info);
            CHECK(report.failed_vcpu == VcpuId{1});
        }
    }
}

TEST_CASE("suspend: vCPUs the kernel left up are downed to register, then upped", "[suspend]")
{
    World w(config_for(sim::GuestType::pv, sim::xen_4_17_7));
    xen::SuspendConfig c = w.config();
    c.smp = nullptr; // the kernel runs its APs itself: nothing parks them
    w.rig.simulate = false;
    xen::SuspendReport report;
    const auto r = w.rig.domain->suspend(c, &report);
    INFO(xen::suspend_step_name(report.failed_step) << " " << xen::errc_name(report.cause));
    REQUIRE(r.has_value());
    CHECK(report.aps_parked == 0);
    CHECK(report.downed_to_register == 3);
    for (uint32_t v = 1; v < 4; ++v) {
        const auto view = w.rig.hv.vcpu(VcpuId{v});
        CHECK(view.vcpu_info_registered);
        CHECK_FALSE(view.down);
    }
}

TEST_CASE("suspend: the wall clock is read afresh and goes on", "[suspend]")
{
    const auto jump = GENERATE(int64_t{-800'000'000}, int64_t{5'000'000'000});
    World w(config_for(sim::GuestType::pvh, sim::xen_4_20));
    xen::Domain& d = *w.rig.domain;
    const auto to_ns = [](const xen::WallTime& t) { return t.sec * 1'000'000'000 + t.nsec; };
    CHECK(to_ns(*d.wallclock_now()) == w.rig.hv.wall_ns());
    w.rig.hv.plan_suspend(sim::SuspendPlan{false, jump, 0, 0, 0});
    REQUIRE(d.suspend(w.config()).has_value());
    REQUIRE(d.clock_offset() != 0);
    CHECK(to_ns(*d.wallclock_now()) == w.rig.hv.wall_ns());
}

TEST_CASE("suspend: an AP's timers survive a restore through its restarted entry, and a checkpoint", "[suspend]")
{
    const bool cancel = GENERATE(false, true);
    World w(config_for(sim::GuestType::pv, sim::xen_4_17_7));
    xen::TimerDriver& td = w.timers;
    const VcpuId ap{2};
    // The kernel's per-AP timer work: set up at entry, stopped at park,
    // restarted at resume (what a kernel's hooks do).
    w.rig.on_entry = [&](VcpuId v) {
        if (v == ap) {
            REQUIRE(td.bind(v).has_value());
            REQUIRE(td.start(v).has_value());
        }
    };
    w.rig.on_park = [&](VcpuId v) {
        if (v == ap)
            REQUIRE(td.stop(v).has_value());
    };
    w.rig.on_resume = [&](VcpuId v) {
        if (v == ap)
            REQUIRE(td.start(v).has_value());
    };
    // Set up on the running AP as its entry would have.
    sim::set_current_vcpu(ap);
    w.rig.on_entry(ap);
    Fired fired;
    xen::Timer t(&on_timer, &fired);
    fired.deadline = td.now() + 30'000'000;
    REQUIRE(td.arm(ap, t, fired.deadline).has_value());
    sim::set_current_vcpu(VcpuId{0});
    const uint32_t old_port = w.rig.hv.virq_port(ap, abi::virq::timer);

    w.rig.step_ns = 1'000;
    w.rig.hv.plan_suspend(sim::SuspendPlan{cancel, -1'000'000'000, 0, 0, 3});
    xen::SuspendReport report;
    REQUIRE(w.rig.domain->suspend(w.config(), &report).has_value());
    CHECK(report.aps_back == 3);
    CHECK(w.rig.smp->state(ap) == xen::CpuState::online);
    if (!cancel)
        CHECK(w.rig.hv.virq_port(ap, abi::virq::timer) != old_port);
    // Xen holds the AP's single-shot again, at the converted deadline.
    const auto view = w.rig.hv.vcpu(ap);
    REQUIRE(view.singleshot_ns.has_value());
    CHECK(*view.singleshot_ns == w.rig.domain->to_xen_time(fired.deadline));
    // Let time run; the rig's AP steps dispatch its events as the AP.
    w.rig.step_ns = 100'000;
    for (int i = 0; i < 400 && fired.at.empty(); ++i)
        w.rig.relax();
    REQUIRE(fired.at.size() == 1);
    CHECK(fired.at[0] >= fired.deadline);
    for (int i = 0; i < 200; ++i)
        w.rig.relax();
    CHECK(fired.at.size() == 1);
}

TEST_CASE("suspend: physical-address areas (ops 14 and 15) are registered again at the same address", "[suspend]")
{
    World w(config_for(sim::GuestType::pvh, sim::xen_4_20));
    xen::Domain& d = *w.rig.domain;
    auto& rs = d.find(VcpuId{1})->runstate.area;
    const xen::PhysAddr rs_pa{reinterpret_cast<uintptr_t>(rs.get())};
    REQUIRE(d.register_runstate_phys_area(VcpuId{1}, rs, rs_pa).has_value());
    alignas(64) static xen::Area<abi::vcpu_time_info> phys_time;
    const xen::PhysAddr t_pa{reinterpret_cast<uintptr_t>(phys_time.get())};
    REQUIRE(d.register_vcpu_time_phys_area(VcpuId{2}, phys_time, t_pa).has_value());
    const uint64_t op14 = w.rig.hv.calls(abi::vcpuop::register_runstate_phys_area);
    REQUIRE(d.suspend(w.config()).has_value());
    CHECK(w.rig.hv.calls(abi::vcpuop::register_runstate_phys_area) == op14 + 1);
    CHECK(w.rig.hv.runstate_area_phys(VcpuId{1}) == rs.get());
    CHECK(w.rig.hv.time_area_phys(VcpuId{2}) == phys_time.get());
    CHECK(d.find(VcpuId{1})->runstate.kind == xen::AreaKind::physical_address);
}

// A kernel that makes the suspend hypercall itself (Mini-OS's shutdown.c
// does, with shared_info unmapped around it) and then tells the Domain:
// the library's part of the resumed path, with the clock going on from
// the reading the kernel took before its hypercall.
TEST_CASE("suspend: a kernel that suspended itself has the library redo its part", "[suspend]")
{
    const auto guest = GENERATE(sim::GuestType::pv, sim::GuestType::pvh);
    const auto jump = GENERATE(int64_t{-2'000'000'000}, int64_t{3'600'000'000'000});
    sim::Config cfg = config_for(guest, sim::xen_4_17_7);
    cfg.vcpus = 1; // as Mini-OS
    World w(cfg);
    sim::Hypervisor& hv = w.rig.hv;
    xen::Domain& d = *w.rig.domain;
    w.rig.step_ns = 1'000;
    xen::StealClock& steal = d.find(VcpuId{0})->steal;
    steal.start(*xen::hc::vcpu_get_runstate_info(VcpuId{0}));
    hv.preempt(VcpuId{0}, 2'000'000);
    steal.update(*xen::hc::vcpu_get_runstate_info(VcpuId{0}));
    const uint64_t steal_before = steal.steal_ns();

    // The kernel's own sequence: its timers stopped, the clock read, the
    // hypercall.
    REQUIRE(w.timers.stop(VcpuId{0}).has_value());
    const uint64_t before = d.now();
    hv.plan_suspend(sim::SuspendPlan{false, jump, 0, 0x1234, 2});
    const auto rc = xen::hc::sched_suspend(guest == sim::GuestType::pv ? 0x1234 : 0);
    REQUIRE(rc.has_value());
    REQUIRE(*rc == 0);
    CHECK(hv.restores() == 1);

    xen::SuspendConfig c = w.config();
    c.smp = nullptr; // the kernel's APs are its own business here
    xen::SuspendReport report;
    const auto r = d.resumed(c, before, &report);
    INFO(xen::suspend_step_name(report.failed_step) << " " << xen::errc_name(report.cause));
    REQUIRE(r.has_value());
    CHECK(d.restores() == 1);
    CHECK(report.outcome == xen::SuspendOutcome::resumed);
    CHECK(report.clock_before_ns == before);
    CHECK(report.clock_after_ns >= before);
    CHECK(d.now() >= before);
    CHECK(d.clock_offset() == report.offset_ns);
    // Registered again: the update flag, the runstate areas, the time
    // area; PV: the tick stopped; the library's VIRQ_TIMER bound again.
    CHECK(&d.shared() == &hv.shared_info());
    CHECK(hv.vm_assist_enabled(abi::vmasst_type::runstate_update_flag));
    CHECK(hv.time_area_va(VcpuId{0}) == w.time_area.get());
    CHECK(hv.runstate_area_va(VcpuId{0}) == d.find(VcpuId{0})->runstate.area.get());
    CHECK(hv.vcpu(VcpuId{0}).periodic_period_ns == 0);
    const uint32_t timer_port = hv.virq_port(VcpuId{0}, abi::virq::timer);
    CHECK(timer_port != 0);
    CHECK(d.events().find(&xen::TimerDriver::on_virq_timer, &w.timers, VcpuId{0}).value().value == timer_port);

    // The timer the kernel stopped: restarted by the kernel, held by Xen in
    // its own time, run once, not before its deadline by the kernel clock.
    REQUIRE(w.timers.start(VcpuId{0}).has_value());
    REQUIRE(hv.vcpu(VcpuId{0}).singleshot_ns.has_value());
    CHECK(*hv.vcpu(VcpuId{0}).singleshot_ns == d.to_xen_time(w.fired.deadline));
    const uint64_t left = w.fired.deadline - w.timers.now();
    w.run(left - 200'000);
    CHECK(w.fired.at.empty());
    w.run(2'000'000);
    REQUIRE(w.fired.at.size() == 1);
    CHECK(w.fired.at[0] >= w.fired.deadline);

    // Steal goes on from the old domain's total.
    hv.preempt(VcpuId{0}, 1'000'000);
    steal.update(*xen::hc::vcpu_get_runstate_info(VcpuId{0}));
    CHECK(steal.steal_ns() >= steal_before + 1'000'000);
}

TEST_CASE("suspend: resumed() restarts a running driver; refusals as suspend()'s", "[suspend]")
{
    World w(config_for(sim::GuestType::pv, sim::xen_4_20));
    xen::Domain& d = *w.rig.domain;
    sim::Hypervisor& hv = w.rig.hv;
    xen::SuspendConfig c = w.config();
    c.smp = nullptr;
    c.hooks.remap_shared_info = nullptr;
    CHECK(d.resumed(c, d.now()).error() == xen::Errc::invalid_argument);
    c.hooks.remap_shared_info = &remap;
    sim::set_current_vcpu(VcpuId{1});
    CHECK(d.resumed(c, d.now()).error() == xen::Errc::not_current_vcpu);
    sim::set_current_vcpu(VcpuId{0});
    CHECK(d.restores() == 0);

    // The driver left running through the kernel's hypercall: resumed()
    // starts it again, so Xen holds the deadline in its new time.
    const uint64_t before = d.now();
    hv.plan_suspend(sim::SuspendPlan{false, -1'000'000'000, 0, 0x1234, 1});
    REQUIRE(xen::hc::sched_suspend(0x1234).value() == 0);
    REQUIRE(d.resumed(c, before).has_value());
    REQUIRE(hv.vcpu(VcpuId{0}).singleshot_ns.has_value());
    CHECK(*hv.vcpu(VcpuId{0}).singleshot_ns == d.to_xen_time(w.fired.deadline));
    CHECK(d.now() >= before);
}
