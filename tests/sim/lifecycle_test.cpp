// The simulated save/restore itself (lifecycle.cpp): what a cancelled
// suspend keeps and what a new domain has lost, and add_to_physmap.
#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>
#include <xen/hypercall/platform_op.hpp>

#include <memory>

using namespace xen;

TEST_CASE("sim: a cancelled suspend returns 1 and keeps everything")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    const auto port = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0});
    REQUIRE(port);
    hv.plan_suspend(sim::SuspendPlan{true, 0, 0, 0, 0});
    auto* before = &hv.shared_info();
    const uint64_t t = hv.now();
    CHECK(hc::sched_suspend(0x42).value() == 1);
    CHECK(hv.suspends() == 1);
    CHECK(hv.restores() == 0);
    CHECK(hv.suspend_start_info() == 0x42);
    CHECK(&hv.shared_info() == before);
    CHECK(hv.virq_port(VcpuId{0}, abi::virq::timer) == port->value);
    CHECK(hv.now() == t);
    CHECK(hv.shutdown_reason() == abi::shutdown_reason::suspend);
}

TEST_CASE("sim: a PV restore forgets registrations, bindings, timers and the time base")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv);
    auto area = std::make_unique<Area<abi::vcpu_runstate_info>>();
    REQUIRE(hc::register_runstate_memory_area(VcpuId{0}, *area));
    REQUIRE(hc::vm_assist(abi::vmasst_cmd::enable, abi::vmasst_type::runstate_update_flag));
    REQUIRE(hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0}));
    REQUIRE(hc::stop_periodic_timer(VcpuId{0}));
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, hv.now() + 1'000'000'000));
    hv.shared_info().arch.pfn_to_mfn_frame_list_list = 0x1234;
    hv.shared_info().arch.max_pfn = 0x8000;
    const uint64_t wall = hv.wall_ns();
    const uint64_t t = hv.now();
    hv.plan_suspend(sim::SuspendPlan{false, -500'000'000, 1'000'000'000, 0x77, 2});
    auto* old = &hv.shared_info();
    CHECK(hc::sched_suspend(0x77).value() == 0);
    CHECK(hv.restores() == 1);
    CHECK(&hv.shared_info() != old);
    CHECK(hv.shared_info().arch.pfn_to_mfn_frame_list_list == 0);
    CHECK(hv.shared_info().arch.max_pfn == 0x8000);
    CHECK(hv.shared_info().evtchn_mask[0] == ~uint64_t{0});
    CHECK(hv.now() == t - 500'000'000);
    CHECK(hv.wall_ns() == wall);
    CHECK(hv.tsc_shift() == 1); // 1 GHz: shifted up into (1e9, 2e9]
    CHECK(hv.runstate_area_va(VcpuId{0}) == nullptr);
    CHECK_FALSE(hv.vm_assist_enabled(abi::vmasst_type::runstate_update_flag));
    CHECK(hv.virq_port(VcpuId{0}, abi::virq::timer) == 0);
    const auto v0 = hv.vcpu(VcpuId{0});
    CHECK(v0.periodic_period_ns == 10'000'000);
    CHECK_FALSE(v0.singleshot_ns.has_value());
    CHECK(hv.runstate(VcpuId{0}).time[0] == 0);
    CHECK(hv.vcpu(VcpuId{1}).down);
    CHECK_FALSE(hv.vcpu(VcpuId{1}).initialised); // not in the stream: VCPUOP_up is refused
    CHECK(hc::vcpu_up(VcpuId{1}).error() == Errc::einval);
    // The toolstack's two channels come first: the guest's next bind gets 3.
    CHECK(hc::evtchn_bind_ipi(VcpuId{0}).value().value == 3);
    // A wrong start_info frame fails the restore.
    hv.plan_suspend(sim::SuspendPlan{false, 0, 0, 0x77, 0});
    CHECK(hc::sched_suspend(0x78).error() == Errc::einval);
}

TEST_CASE("sim: a PVH restore loses the callback param and the upcall vector; add_to_physmap maps shared_info")
{
    sim::Hypervisor hv({.guest = sim::GuestType::pvh});
    sim::Scope s(hv);
    auto* page = &hv.shared_info();
    REQUIRE(hc::hvm_set_param(abi::hvm_param::callback_irq, 1));
    REQUIRE(hc::hvm_set_evtchn_upcall_vector(VcpuId{0}, 0xf3));
    CHECK(hc::sched_suspend(0).value() == 0);
    CHECK(&hv.shared_info() != page);
    CHECK_FALSE(hv.hvm_param(abi::hvm_param::callback_irq).has_value());
    CHECK(hv.vcpu(VcpuId{0}).upcall_vector == 0);
    CHECK(hv.vcpu(VcpuId{0}).periodic_period_ns == 0);
    REQUIRE(hc::add_to_physmap(abi::xenmapspace::shared_info, 0, reinterpret_cast<uintptr_t>(page) >> 12));
    CHECK(&hv.shared_info() == page);
    CHECK(&hv.vcpu_info(VcpuId{0}) == &page->vcpu_info[0]);
    CHECK(hc::add_to_physmap(abi::xenmapspace::gmfn, 0, 1).error() == Errc::einval);
}
