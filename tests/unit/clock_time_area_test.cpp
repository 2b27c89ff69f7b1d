// The secondary time area against the simulated Xen: op 15 where
// XENFEAT_vcpu_time_phys_area says so (4.18+), op 13 otherwise, and a
// SystemClock reading from it.
#include <xen/time/time_area.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>
#include <xen/time/clock.hpp>

using namespace xen;

TEST_CASE("register_time_area: op 15 on Xen 4.20, op 13 on 4.17 or without an address", "[clock][time_area]")
{
    for (auto version : {sim::xen_4_17_7, sim::xen_4_20}) {
        sim::Hypervisor hv({.version = version, .vcpus = 2});
        sim::Scope s(hv);
        const XenFeatures features = XenFeatures::query().value();
        Area<abi::vcpu_time_info> area;
        const auto kind = register_time_area(VcpuId{0}, area, PhysAddr{area.address()}, features);
        REQUIRE(kind.has_value());
        const bool new_xen = version.at_least(4, 18);
        CHECK(*kind == (new_xen ? AreaKind::physical_address : AreaKind::virtual_address));
        CHECK((new_xen ? hv.time_area_phys(VcpuId{0}) : hv.time_area_va(VcpuId{0})) == area.get());
        REQUIRE(unregister_time_area(VcpuId{0}, *kind));
        CHECK(hv.time_area_phys(VcpuId{0}) == nullptr);
        CHECK(hv.time_area_va(VcpuId{0}) == nullptr);

        Area<abi::vcpu_time_info> other;
        CHECK(register_time_area(VcpuId{1}, other, phys_unknown, features).value() == AreaKind::virtual_address);
    }
}

TEST_CASE("register_time_area: op 15 answering ENOSYS falls back to op 13; other errors pass on", "[clock][time_area]")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv);
    const XenFeatures features = XenFeatures::query().value();
    Area<abi::vcpu_time_info> a, b;
    hv.inject(sim::Fault::vcpuop(abi::vcpuop::register_vcpu_time_phys_area, Errc::enosys));
    CHECK(register_time_area(VcpuId{0}, a, PhysAddr{a.address()}, features).value() == AreaKind::virtual_address);
    hv.inject(sim::Fault::vcpuop(abi::vcpuop::register_vcpu_time_phys_area, Errc::eacces));
    const auto r = register_time_area(VcpuId{1}, b, PhysAddr{b.address()}, features);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == Errc::eacces);
}

TEST_CASE("SystemClock: reads Xen's time from the secondary area as from vcpu_info", "[clock][time_area]")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 1});
    sim::Scope s(hv);
    Area<abi::vcpu_time_info> area;
    REQUIRE(register_time_area(VcpuId{0}, area, PhysAddr{area.address()}, XenFeatures::query().value()));
    hv.update_time(VcpuId{0});
    ClockFloor floor{};
    SystemClock clock(floor);
    ClockCpu cpu;
    cpu.record = area.get();
    hv.advance(5'000'000);
    const uint64_t t = clock.now(cpu, [] { return sim::rdtsc(); }).value();
    CHECK(t <= hv.now());
    CHECK(hv.now() - t < 10); // the simulated TSC rounds down by a few ns at most
}
