// Runstate registration and snapshots against the simulated Xen: op 14 on
// 4.18+ when XENFEAT_runstate_phys_area says so, op 5 otherwise; the
// VMASST update flag; own and remote snapshots and the fallback to
// VCPUOP_get_runstate_info when a remote area has no protocol.
#include <xen/runstate.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

using namespace xen;
using xen::abi::runstate;

namespace {
XenFeatures features() { return XenFeatures::query().value(); }
} // namespace

TEST_CASE("Runstate::register_area: the physical area on Xen 4.20, the virtual one on 4.17", "[runstate]")
{
    for (auto version : {sim::xen_4_17_7, sim::xen_4_20}) {
        sim::Hypervisor hv({.version = version, .vcpus = 2});
        sim::Scope s(hv);
        Runstate rs;
        RunstateCpu cpu;
        auto kind = rs.register_area(VcpuId{0}, cpu, PhysAddr{cpu.area.address()}, features());
        REQUIRE(kind.has_value());
        const bool new_xen = version.at_least(4, 18);
        CHECK(*kind == (new_xen ? AreaKind::physical_address : AreaKind::virtual_address));
        CHECK(cpu.kind == *kind);
        CHECK(hv.calls(abi::vcpuop::register_runstate_phys_area) == (new_xen ? 1u : 0u));
        CHECK((new_xen ? hv.runstate_area_phys(VcpuId{0}) : hv.runstate_area_va(VcpuId{0})) == cpu.area.get());
        // A physical area is readable by other vCPUs without the VMASST.
        CHECK(rs.remote_readable(cpu) == new_xen);
    }
}

TEST_CASE("Runstate::register_area: without a physical address the virtual op is used even on 4.20", "[runstate]")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv);
    Runstate rs;
    RunstateCpu cpu;
    REQUIRE(rs.register_area(VcpuId{1}, cpu, phys_unknown, features()).value() == AreaKind::virtual_address);
}

TEST_CASE("Runstate::register_area: op 14 answering ENOSYS falls back to op 5; other errors pass on", "[runstate]")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv);
    Runstate rs;
    RunstateCpu cpu;
    hv.inject(sim::Fault::vcpuop(abi::vcpuop::register_runstate_phys_area, Errc::enosys));
    REQUIRE(rs.register_area(VcpuId{0}, cpu, PhysAddr{cpu.area.address()}, features()).value() ==
            AreaKind::virtual_address);
    hv.clear_faults();
    RunstateCpu other;
    hv.inject(sim::Fault::vcpuop(abi::vcpuop::register_runstate_phys_area, Errc::eacces));
    auto r = rs.register_area(VcpuId{1}, other, PhysAddr{other.area.address()}, features());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == Errc::eacces);
    CHECK(other.kind == AreaKind::none);
}

TEST_CASE("Runstate::enable_update_flag: on from Xen 4.8; false, not an error, before", "[runstate]")
{
    {
        sim::Hypervisor hv;
        sim::Scope s(hv);
        Runstate rs;
        REQUIRE(rs.enable_update_flag().value());
        CHECK(rs.update_flag());
        CHECK(hv.vm_assist_enabled(abi::vmasst_type::runstate_update_flag));
    }
    {
        sim::Hypervisor hv({.version = {4, 7, 0}});
        sim::Scope s(hv);
        Runstate rs;
        REQUIRE_FALSE(rs.enable_update_flag().value());
        CHECK_FALSE(rs.update_flag());
    }
}

TEST_CASE("Runstate::snapshot: a remote virtual area without the flag is read through get_runstate_info", "[runstate]")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv, VcpuId{0});
    Runstate rs;
    RunstateCpu cpu1;
    REQUIRE(rs.register_area(VcpuId{1}, cpu1, phys_unknown, features()));
    hv.set_runstate(VcpuId{1}, runstate::runnable);
    hv.advance(700);
    const uint64_t calls_before = hv.calls(abi::vcpuop::get_runstate_info);
    auto snap = rs.snapshot(VcpuId{1}, cpu1, VcpuId{0});
    REQUIRE(snap.has_value());
    CHECK(hv.calls(abi::vcpuop::get_runstate_info) == calls_before + 1);
    CHECK(snap->time[1] == 700); // Xen's copy includes the current stint

    // With the flag on, the area itself is read: no hypercall.
    REQUIRE(rs.enable_update_flag().value());
    auto area_snap = rs.snapshot(VcpuId{1}, cpu1, VcpuId{0});
    REQUIRE(area_snap.has_value());
    CHECK(hv.calls(abi::vcpuop::get_runstate_info) == calls_before + 1);
    CHECK(runstate_live(*area_snap, hv.now()).time[1] == 700);
}

TEST_CASE("Runstate::snapshot: the own area is read directly even without the flag", "[runstate]")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv, VcpuId{0});
    Runstate rs;
    RunstateCpu cpu0;
    REQUIRE(rs.register_area(VcpuId{0}, cpu0, phys_unknown, features()));
    hv.preempt(VcpuId{0}, 250);
    const uint64_t calls = hv.total_calls();
    auto snap = rs.snapshot(VcpuId{0}, cpu0, VcpuId{0});
    REQUIRE(snap.has_value());
    CHECK(hv.total_calls() == calls);
    CHECK(snap->state == static_cast<int32_t>(runstate::running));
    CHECK(snap->time[1] == 250);
}

TEST_CASE("Runstate::snapshot: the library's snapshot agrees with get_runstate_info", "[runstate]")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 3});
    sim::Scope s(hv, VcpuId{0});
    Runstate rs;
    RunstateCpu cpus[3];
    for (uint32_t i = 0; i < 3; ++i)
        REQUIRE(rs.register_area(VcpuId{i}, cpus[i], PhysAddr{cpus[i].area.address()}, features()));
    for (uint32_t i = 1; i < 3; ++i)
        hv.set_runstate(VcpuId{i}, runstate::running); // phys areas of others are written at their next switch
    for (int step = 0; step < 50; ++step) {
        hv.preempt(VcpuId{static_cast<uint32_t>(1 + step % 2)}, 1000 + step);
        hv.advance(333);
        for (uint32_t i = 0; i < 3; ++i) {
            const auto mine = runstate_live(rs.snapshot(VcpuId{i}, cpus[i], VcpuId{0}).value(), hv.now());
            const auto xen_view = hc::vcpu_get_runstate_info(VcpuId{i}).value();
            for (int k = 0; k < 4; ++k)
                CHECK(mine.time[k] == xen_view.time[k]);
        }
    }
}

TEST_CASE("Runstate::unregister_area: the op that registered it, with its null address", "[runstate]")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv);
    Runstate rs;
    RunstateCpu cpu;
    REQUIRE(rs.register_area(VcpuId{0}, cpu, PhysAddr{cpu.area.address()}, features()));
    REQUIRE(rs.unregister_area(VcpuId{0}, cpu));
    CHECK(hv.runstate_area_phys(VcpuId{0}) == nullptr);
    CHECK(cpu.kind == AreaKind::none);
}
