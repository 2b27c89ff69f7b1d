// The simulated TSC and the pvclock records it writes.
#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

using namespace xen;

namespace {
__extension__ typedef unsigned __int128 u128;

// The pvclock formula (docs/xen-contracts.md, "pvclock records"), as a reference
// for these tests.
uint64_t pvclock_ns(const abi::vcpu_time_info& t, uint64_t tsc)
{
    uint64_t delta = tsc > t.tsc_timestamp ? tsc - t.tsc_timestamp : 0;
    delta = t.tsc_shift >= 0 ? delta << t.tsc_shift : delta >> -t.tsc_shift;
    return t.system_time + static_cast<uint64_t>((static_cast<u128>(delta) * t.tsc_to_system_mul) >> 32);
}
} // namespace

TEST_CASE("sim: the TSC scale is derived from the frequency the way Xen does it")
{
    sim::Hypervisor hv({.tsc_hz = 2'500'000'000});
    CHECK(hv.tsc_shift() == -1);
    CHECK(hv.tsc_to_system_mul() == 3'435'973'836u); // 1e9 / 1.25e9 in 32.32
    sim::Hypervisor slow({.tsc_hz = 100'000'000});
    CHECK(slow.tsc_shift() == 4);
}

TEST_CASE("sim: a pvclock read from the shared_info record tracks virtual time, never ahead")
{
    for (uint64_t hz : {100'000'000ull, 1'000'000'000ull, 2'500'000'000ull, 3'999'999'999ull}) {
        sim::Hypervisor hv({.tsc_hz = hz});
        const auto& t = hv.shared_info().vcpu_info[0].time;
        for (uint64_t step : {1ull, 999ull, 1'000'000ull, 5'000'000'000ull, 60'000'000'000ull}) {
            hv.advance(step);
            const uint64_t read = pvclock_ns(t, hv.tsc(VcpuId{0}));
            CHECK(read <= hv.now());
            CHECK(hv.now() - read < 16);
        }
    }
}

TEST_CASE("sim: time records change version odd then even, one step at a time")
{
    sim::Hypervisor hv;
    auto& t = hv.shared_info().vcpu_info[0].time;
    const uint32_t v0 = t.version;
    CHECK(v0 % 2 == 0);
    hv.advance(1000);
    auto w = hv.begin_time_update(VcpuId{0});
    REQUIRE(w.step());
    CHECK(t.version == v0 + 1);
    CHECK(t.system_time != hv.now());
    REQUIRE(w.step());
    CHECK(t.system_time == hv.now());
    CHECK(t.version == v0 + 1);
    REQUIRE(w.step());
    CHECK(t.version == v0 + 2);
    CHECK_FALSE(w.step());
}

TEST_CASE("sim: tsc_stable toggles XEN_PVCLOCK_TSC_STABLE_BIT in every record")
{
    sim::Hypervisor hv({.vcpus = 2});
    CHECK((hv.shared_info().vcpu_info[1].time.flags & abi::pvclock_tsc_stable) == 0);
    hv.set_tsc_stable(true);
    CHECK((hv.shared_info().vcpu_info[0].time.flags & abi::pvclock_tsc_stable) != 0);
    CHECK((hv.shared_info().vcpu_info[1].time.flags & abi::pvclock_tsc_stable) != 0);
    hv.set_tsc_stable(false);
    CHECK((hv.shared_info().vcpu_info[0].time.flags & abi::pvclock_tsc_stable) == 0);
}

TEST_CASE("sim: a skewed vCPU TSC shifts its reads by the skew")
{
    sim::Hypervisor hv({.vcpus = 2, .tsc_hz = 1'000'000'000});
    const uint64_t a = hv.tsc(VcpuId{1});
    hv.set_tsc_skew(VcpuId{1}, -500);
    CHECK(a - hv.tsc(VcpuId{1}) == 500);
}

TEST_CASE("sim: time goes to the registered vcpu_info and to the op 13 / op 15 areas, op 15 winning")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv);
    Area<abi::vcpu_info> vi;
    Area<abi::vcpu_time_info> va;
    Area<abi::vcpu_time_info> phys;
    REQUIRE(hc::register_vcpu_info(VcpuId{1}, vi, FrameNumber{vi.address() >> 12}));
    REQUIRE(hc::register_vcpu_time_memory_area(VcpuId{1}, va));
    hv.advance(50);
    hv.update_time(VcpuId{1});
    CHECK(vi.value.time.system_time == hv.now());
    CHECK(va.value.system_time == hv.now());
    REQUIRE(hc::register_vcpu_time_phys_area(VcpuId{1}, phys, PhysAddr{phys.address()}));
    hv.advance(50);
    hv.update_time(VcpuId{1});
    CHECK(phys.value.system_time == hv.now());
    CHECK(va.value.system_time == hv.now() - 50);
    CHECK(hv.shared_info().vcpu_info[1].time.system_time < hv.now() - 50);
}

TEST_CASE("sim: sim::rdtsc reads the current vCPU's TSC")
{
    sim::Hypervisor hv({.vcpus = 2});
    hv.set_tsc_skew(VcpuId{1}, 1234);
    sim::Scope s(hv, VcpuId{1});
    CHECK(sim::rdtsc() == hv.tsc(VcpuId{1}));
}
