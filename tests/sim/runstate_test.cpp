// Runstate accounting against the virtual clock, and the area update
// protocols (XEN_RUNSTATE_UPDATE) step by step.
#include <catch2/catch.hpp>
#include <random>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

using namespace xen;
using xen::abi::runstate;

namespace {
uint64_t sum(const abi::vcpu_runstate_info& r) { return r.time[0] + r.time[1] + r.time[2] + r.time[3]; }
} // namespace

TEST_CASE("sim: runstate totals sum to the time since domain creation")
{
    sim::Hypervisor hv({.vcpus = 3});
    const uint64_t t0 = hv.now();
    std::mt19937_64 rng(42);
    for (int i = 0; i < 2000; ++i) {
        const VcpuId v{static_cast<uint32_t>(rng() % 3)};
        hv.set_runstate(v, static_cast<runstate>(rng() % 4));
        hv.advance(rng() % 5'000'000);
    }
    for (uint32_t i = 0; i < 3; ++i)
        CHECK(sum(hv.runstate(VcpuId{i})) == hv.now() - t0);
}

TEST_CASE("sim: get_runstate_info adds the time spent in the current state")
{
    sim::Hypervisor hv;
    sim::Scope s(hv);
    const auto before = hc::vcpu_get_runstate_info(VcpuId{0}).value();
    hv.advance(1'000'000);
    const auto after = hc::vcpu_get_runstate_info(VcpuId{0}).value();
    CHECK(after.state == static_cast<int32_t>(runstate::running));
    CHECK(after.state_entry_time == before.state_entry_time);
    CHECK(after.time[0] - before.time[0] == 1'000'000);
}

TEST_CASE("sim: preempt counts runnable time, pause counts offline time")
{
    sim::Hypervisor hv;
    const auto r0 = hv.runstate(VcpuId{0});
    hv.preempt(VcpuId{0}, 300);
    hv.pause(700);
    const auto r1 = hv.runstate(VcpuId{0});
    CHECK(r1.time[1] - r0.time[1] == 300);
    CHECK(r1.time[3] - r0.time[3] == 700);
    CHECK(r1.state == static_cast<int32_t>(runstate::running));
}

TEST_CASE("sim: a VA runstate area is written at once and on every state change")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> area;
    REQUIRE(hc::register_runstate_memory_area(VcpuId{1}, area));
    CHECK(area.value.state == static_cast<int32_t>(runstate::offline));
    hv.advance(500);
    hv.set_runstate(VcpuId{1}, runstate::runnable);
    CHECK(area.value.state == static_cast<int32_t>(runstate::runnable));
    CHECK(area.value.time[3] == 500);
    CHECK(area.value.state_entry_time == hv.now());
}

TEST_CASE("sim: a VA area uses the update flag only after vm_assist(runstate_update_flag)")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> area;
    REQUIRE(hc::register_runstate_memory_area(VcpuId{1}, area));
    hv.advance(10);
    hv.set_runstate(VcpuId{1}, runstate::runnable);
    auto plain = hv.begin_runstate_update(VcpuId{1});
    CHECK_FALSE(plain.uses_protocol());
    CHECK(plain.steps() == 1);

    REQUIRE(hc::vm_assist(abi::vmasst_cmd::enable, abi::vmasst_type::runstate_update_flag));
    auto w = hv.begin_runstate_update(VcpuId{1});
    CHECK(w.uses_protocol());
    const uint64_t entry = area.value.state_entry_time;
    REQUIRE(w.step());
    CHECK(area.value.state_entry_time == (entry | abi::runstate_update_flag));
    REQUIRE(w.step());
    CHECK((area.value.state_entry_time & abi::runstate_update_flag) != 0);
    REQUIRE(w.step());
    CHECK(area.value.state_entry_time == entry);
    CHECK_FALSE(w.step());
}

TEST_CASE("sim: a phys runstate area always uses the update flag and silences the VA area")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv, VcpuId{1});
    Area<abi::vcpu_runstate_info> va;
    Area<abi::vcpu_runstate_info> phys;
    REQUIRE(hc::register_runstate_memory_area(VcpuId{1}, va));
    REQUIRE(hc::register_runstate_phys_area(VcpuId{1}, phys, PhysAddr{phys.address()}));
    auto w = hv.begin_runstate_update(VcpuId{1});
    CHECK(w.uses_protocol());
    CHECK(w.target() == phys.get());
    hv.advance(100);
    hv.set_runstate(VcpuId{1}, runstate::runnable);
    CHECK(phys.value.state == static_cast<int32_t>(runstate::runnable));
    CHECK(va.value.state == static_cast<int32_t>(runstate::offline));
    REQUIRE(hc::unregister_runstate_phys_area(VcpuId{1}));
    hv.set_runstate(VcpuId{1}, runstate::running);
    CHECK(va.value.state == static_cast<int32_t>(runstate::running));
}

TEST_CASE("sim: a phys runstate area registered for another vCPU waits for its next switch")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv, VcpuId{0});
    Area<abi::vcpu_runstate_info> phys;
    phys.value.state = 77;
    REQUIRE(hc::register_runstate_phys_area(VcpuId{1}, phys, PhysAddr{phys.address()}));
    CHECK(phys.value.state == 77);
    hv.set_runstate(VcpuId{1}, runstate::runnable);
    CHECK(phys.value.state == static_cast<int32_t>(runstate::runnable));
}

TEST_CASE("sim: a NULL VA runstate area stops updates")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> area;
    REQUIRE(hc::register_runstate_memory_area(VcpuId{1}, area));
    REQUIRE(hc::unregister_runstate_memory_area(VcpuId{1}));
    hv.set_runstate(VcpuId{1}, runstate::runnable);
    CHECK(area.value.state == static_cast<int32_t>(runstate::offline));
    CHECK(hv.runstate_area_va(VcpuId{1}) == nullptr);
}
