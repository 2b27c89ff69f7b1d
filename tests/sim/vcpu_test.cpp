// The simulator's vCPU model: initial states, the -ENOENT/-ENOSYS rules,
// the VGCF_online trap, deferred remote down, last-vCPU poweroff.
#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall/vcpu_op.hpp>

using namespace xen;
using xen::abi::runstate;

namespace {
long raw_vcpu_op(int32_t op, uint32_t id, uint64_t arg = 0)
{
    return transport::host_hypercall(abi::hypercall::vcpu_op, static_cast<uint32_t>(op), id, arg, 0, 0);
}
} // namespace

TEST_CASE("sim: vCPU 0 starts running, the others offline and not initialised")
{
    sim::Hypervisor hv({.vcpus = 3});
    CHECK(hv.vcpu(VcpuId{0}).state == runstate::running);
    CHECK(hv.vcpu(VcpuId{0}).initialised);
    for (uint32_t i = 1; i < 3; ++i) {
        CHECK(hv.vcpu(VcpuId{i}).state == runstate::offline);
        CHECK_FALSE(hv.vcpu(VcpuId{i}).initialised);
        CHECK(hv.vcpu(VcpuId{i}).down);
    }
}

TEST_CASE("sim: PV vCPUs start with a 100 Hz periodic timer, PVH vCPUs with none")
{
    sim::Hypervisor pv({.guest = sim::GuestType::pv});
    sim::Hypervisor pvh({.guest = sim::GuestType::pvh});
    CHECK(pv.vcpu(VcpuId{1}).periodic_period_ns == 10'000'000);
    CHECK(pvh.vcpu(VcpuId{1}).periodic_period_ns == 0);
}

TEST_CASE("sim: every op on a vCPU the domain lacks is -ENOENT, even an unknown op")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    for (int32_t op = 0; op <= 16; ++op)
        CHECK(raw_vcpu_op(op, 2) == -2);
    CHECK(raw_vcpu_op(99, 0) == -38);
}

TEST_CASE("sim: initialise with VGCF_online reads as up but the vCPU never wakes (PV trap)")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    abi::vcpu_guest_context ctx{};
    ctx.flags = abi::vgcf_in_kernel | abi::vgcf_online;
    REQUIRE(hc::vcpu_initialise(VcpuId{1}, ctx));
    CHECK(hc::vcpu_is_up(VcpuId{1}).value());
    REQUIRE(hc::vcpu_up(VcpuId{1}));
    CHECK_FALSE(hv.vcpu(VcpuId{1}).woken);
    CHECK(hv.vcpu(VcpuId{1}).state == runstate::offline);
    // NetBSD's way out: down, then up again wakes it.
    REQUIRE(hc::vcpu_down(VcpuId{1}));
    REQUIRE(hc::vcpu_up(VcpuId{1}));
    CHECK(hv.vcpu(VcpuId{1}).woken);
    CHECK(hv.vcpu(VcpuId{1}).state == runstate::running);
}

TEST_CASE("sim: a remote down in deferred mode keeps is_up at 1 for K polls")
{
    sim::Hypervisor hv({.vcpus = 2, .initially_up = 2, .deferred_down_polls = 3});
    sim::Scope s(hv);
    REQUIRE(hc::vcpu_down(VcpuId{1}));
    for (int i = 0; i < 3; ++i) {
        CHECK(hc::vcpu_is_up(VcpuId{1}).value());
        CHECK(hv.vcpu(VcpuId{1}).state == runstate::running);
        CHECK(hv.vcpu(VcpuId{1}).down_pending);
        CHECK_FALSE(hv.vcpu(VcpuId{1}).down);
    }
    CHECK_FALSE(hc::vcpu_is_up(VcpuId{1}).value());
    CHECK(hv.vcpu(VcpuId{1}).state == runstate::offline);
    CHECK_FALSE(hv.vcpu(VcpuId{1}).down_pending);
}

TEST_CASE("sim: a deferred down counts its target as up until it lands, then applies the last-vCPU rule")
{
    sim::Hypervisor hv({.vcpus = 2, .initially_up = 2, .deferred_down_polls = 1});
    sim::Scope s(hv);
    REQUIRE(hc::vcpu_down(VcpuId{1}));
    REQUIRE(hc::vcpu_down(VcpuId{0})); // vCPU 1 still runs: not the last one
    CHECK_FALSE(hv.shutdown_reason().has_value());
    CHECK(hc::vcpu_is_up(VcpuId{1}).value());
    CHECK(hc::vcpu_is_up(VcpuId{1}).value()); // it lands as the last vCPU: poweroff instead
    CHECK(hv.shutdown_reason() == abi::shutdown_reason::poweroff);
}

TEST_CASE("sim: a vCPU downing itself is down at once even in deferred mode")
{
    sim::Hypervisor hv({.vcpus = 2, .initially_up = 2, .deferred_down_polls = 3});
    sim::Scope s(hv, VcpuId{1});
    REQUIRE(hc::vcpu_down(VcpuId{1}));
    CHECK_FALSE(hc::vcpu_is_up(VcpuId{1}).value());
}

TEST_CASE("sim: downing the last up vCPU powers the domain off and leaves it up")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    CHECK_FALSE(hv.shutdown_reason().has_value());
    REQUIRE(hc::vcpu_down(VcpuId{0}));
    REQUIRE(hv.shutdown_reason().has_value());
    CHECK(*hv.shutdown_reason() == abi::shutdown_reason::poweroff);
    CHECK_FALSE(hv.vcpu(VcpuId{0}).down);
}

TEST_CASE("sim: an HVM initialise leaves the vCPU down until VCPUOP_up")
{
    sim::Hypervisor hv({.guest = sim::GuestType::pvh, .vcpus = 2});
    sim::Scope s(hv);
    abi::vcpu_hvm_context ctx{};
    ctx.mode = static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_32b);
    REQUIRE(hc::vcpu_initialise(VcpuId{1}, ctx));
    CHECK(hv.vcpu(VcpuId{1}).initialised);
    CHECK(hv.vcpu(VcpuId{1}).down);
    REQUIRE(hc::vcpu_up(VcpuId{1}));
    CHECK(hv.vcpu(VcpuId{1}).state == runstate::running);
}

TEST_CASE("sim: threads act as different vCPUs through their own Scope")
{
    sim::Hypervisor hv({.vcpus = 2, .initially_up = 2});
    sim::Scope s(hv, VcpuId{0});
    CHECK(sim::current_vcpu() == VcpuId{0});
    sim::set_current_vcpu(VcpuId{1});
    CHECK(hc::set_singleshot_timer(VcpuId{1}, hv.now() + 1000));
    CHECK(hc::set_singleshot_timer(VcpuId{0}, hv.now() + 1000).error() == Errc::einval);
}
