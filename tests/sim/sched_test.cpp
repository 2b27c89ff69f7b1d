// sched_op and set_timer_op in the simulator: blocking against the virtual
// clock, polling, the set_timer_op clamps, shutdown.
#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

using namespace xen;
using xen::abi::runstate;

TEST_CASE("sim: block sleeps until the single-shot timer fires and counts the time as blocked")
{
    sim::Hypervisor hv({.guest = sim::GuestType::pvh});
    sim::Scope s(hv);
    REQUIRE(hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0}));
    const uint64_t t0 = hv.now();
    const auto r0 = hv.runstate(VcpuId{0});
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, t0 + 5'000'000));
    REQUIRE(hc::sched_block());
    CHECK(hv.now() == t0 + 5'000'000);
    CHECK(hv.runstate(VcpuId{0}).time[2] - r0.time[2] == 5'000'000);
    CHECK(hv.vcpu(VcpuId{0}).state == runstate::running);
}

TEST_CASE("sim: block clears the upcall mask and returns at once if an event is pending")
{
    sim::Hypervisor hv;
    sim::Scope s(hv);
    auto& vi = hv.shared_info().vcpu_info[0];
    CHECK(vi.evtchn_upcall_mask == 1);
    vi.evtchn_upcall_pending = 1;
    const uint64_t t0 = hv.now();
    REQUIRE(hc::sched_block());
    CHECK(vi.evtchn_upcall_mask == 0);
    CHECK(hv.now() == t0);
}

TEST_CASE("sim: the periodic timer does not wake a blocked vCPU; block gives up at its bound")
{
    sim::Hypervisor hv({.block_limit_ns = 50'000'000});
    sim::Scope s(hv);
    REQUIRE(hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0}));
    REQUIRE(hv.vcpu(VcpuId{0}).periodic_period_ns == 10'000'000);
    const uint64_t t0 = hv.now();
    REQUIRE(hc::sched_block());
    CHECK(hv.now() == t0 + 50'000'000);
    CHECK(hv.vcpu(VcpuId{0}).timer_fires == 1); // the missed tick, once running again
}

TEST_CASE("sim: the periodic timer ticks while the vCPU runs")
{
    sim::Hypervisor hv;
    hv.advance(35'000'000);
    CHECK(hv.vcpu(VcpuId{0}).timer_fires == 3);
}

TEST_CASE("sim: poll returns when a listed port becomes pending, or at its timeout")
{
    sim::Hypervisor hv({.guest = sim::GuestType::pvh});
    sim::Scope s(hv);
    auto timer = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0});
    REQUIRE(timer);
    const uint64_t t0 = hv.now();
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, t0 + 1000));
    REQUIRE(hc::sched_poll(&*timer, 1, 0));
    CHECK(hv.now() == t0 + 1000);
    REQUIRE(hc::sched_poll(&*timer, 1, 0)); // still pending: at once
    CHECK(hv.now() == t0 + 1000);
    auto ipi = hc::evtchn_bind_ipi(VcpuId{0});
    REQUIRE(ipi);
    REQUIRE(hc::sched_poll(&*ipi, 1, t0 + 9000));
    CHECK(hv.now() == t0 + 9000);
    CHECK(hc::sched_poll(&*ipi, 129, 0).error() == Errc::einval);
}

TEST_CASE("sim: set_timer_op: 0 stops, past fires at once, negative or > 2^50 ns becomes now + 100 ms")
{
    sim::Hypervisor hv;
    sim::Scope s(hv);
    const uint64_t now = hv.now();
    REQUIRE(hc::set_timer_op(now + 1000));
    CHECK(hv.vcpu(VcpuId{0}).singleshot_ns == now + 1000);
    REQUIRE(hc::set_timer_op(0));
    CHECK_FALSE(hv.vcpu(VcpuId{0}).singleshot_ns);
    REQUIRE(hc::set_timer_op(now - 1));
    CHECK(hv.vcpu(VcpuId{0}).timer_fires == 1);
    REQUIRE(hc::set_timer_op(~uint64_t{0}));
    CHECK(hv.vcpu(VcpuId{0}).singleshot_ns == now + 100'000'000);
    REQUIRE(hc::set_timer_op(now + (uint64_t{1} << 50) + 1));
    CHECK(hv.vcpu(VcpuId{0}).singleshot_ns == now + 100'000'000);
}

TEST_CASE("sim: set_timer_op and VCPUOP_set_singleshot_timer share one timer")
{
    sim::Hypervisor hv;
    sim::Scope s(hv);
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, hv.now() + 5000));
    REQUIRE(hc::set_timer_op(0));
    CHECK_FALSE(hv.vcpu(VcpuId{0}).singleshot_ns);
}

TEST_CASE("sim: timers fire timer_slop late, never early")
{
    sim::Hypervisor hv({.timer_slop_ns = 50'000});
    sim::Scope s(hv);
    REQUIRE(hc::stop_periodic_timer(VcpuId{0}));
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, hv.now() + 1000));
    hv.advance(1000);
    CHECK(hv.vcpu(VcpuId{0}).timer_fires == 0);
    hv.advance(50'000);
    CHECK(hv.vcpu(VcpuId{0}).timer_fires == 1);
}

TEST_CASE("sim: shutdown records the reason; yield keeps the vCPU running")
{
    sim::Hypervisor hv;
    sim::Scope s(hv);
    REQUIRE(hc::sched_yield());
    CHECK(hv.vcpu(VcpuId{0}).state == runstate::running);
    REQUIRE(hc::sched_shutdown(abi::shutdown_reason::crash));
    CHECK(hv.shutdown_reason() == abi::shutdown_reason::crash);
}
