// Fault injection and call counters.
#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

using namespace xen;

TEST_CASE("sim: the nth matching call fails with the chosen error and has no effect")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    hv.inject(sim::Fault::vcpuop(abi::vcpuop::is_up, Errc::eagain, 2));
    CHECK(hc::vcpu_is_up(VcpuId{0}));
    CHECK(hc::vcpu_is_up(VcpuId{0}).error() == Errc::eagain);
    CHECK(hc::vcpu_is_up(VcpuId{0}));
    CHECK(hv.faults_pending() == 0);

    hv.inject(sim::Fault::vcpuop(abi::vcpuop::set_periodic_timer, Errc::enomem));
    CHECK(hc::set_periodic_timer(VcpuId{1}, 2'000'000).error() == Errc::enomem);
    CHECK(hv.vcpu(VcpuId{1}).periodic_period_ns == 10'000'000);
}

TEST_CASE("sim: a fault can target one vCPU, one sub-op, or every call from the nth on")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    hv.inject(sim::Fault{abi::hypercall::vcpu_op, std::nullopt, 1u, 1u, Errc::eperm, 0u});
    CHECK(hc::vcpu_is_up(VcpuId{0}));
    for (int i = 0; i < 3; ++i)
        CHECK(hc::vcpu_is_up(VcpuId{1}).error() == Errc::eperm);
    CHECK(hv.faults_pending() == 1);
    hv.clear_faults();
    CHECK(hc::vcpu_is_up(VcpuId{1}));

    hv.inject(sim::Fault::call(abi::hypercall::sched_op, Errc::enosys));
    CHECK(hc::sched_yield().error() == Errc::enosys);
    CHECK(hc::sched_yield());
}

TEST_CASE("sim: counters show which hypercalls and which VCPUOPs reached Xen")
{
    sim::Hypervisor hv;
    sim::Scope s(hv);
    CHECK(hv.total_calls() == 0);
    (void)hc::vcpu_is_up(VcpuId{0});
    (void)hc::vcpu_is_up(VcpuId{0});
    (void)hc::stop_periodic_timer(VcpuId{0});
    (void)hc::xen_version();
    CHECK(hv.calls(abi::hypercall::vcpu_op) == 3);
    CHECK(hv.calls(abi::vcpuop::is_up) == 2);
    CHECK(hv.calls(abi::vcpuop::stop_periodic_timer) == 1);
    CHECK(hv.calls(abi::vcpuop::up) == 0);
    CHECK(hv.calls(abi::hypercall::xen_version) == 1);
    CHECK(hv.total_calls() == 4);
    // Refused by the wrapper: never reaches the simulator.
    CHECK(hc::set_periodic_timer(VcpuId{0}, 10).error() == Errc::period_too_short);
    CHECK(hv.total_calls() == 4);
    hv.reset_counters();
    CHECK(hv.total_calls() == 0);
}
