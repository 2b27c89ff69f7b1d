// The steal-time clock: baseline at online, monotonic across a reset of
// Xen's totals and across down/up, own running time, fraction over an
// interval; driven by the simulated Xen's runstate accounting.
#include <xen/runstate.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

#include <random>

using namespace xen;
using xen::abi::runstate;

namespace {

abi::vcpu_runstate_info totals(uint64_t running, uint64_t runnable, uint64_t blocked, uint64_t offline)
{
    abi::vcpu_runstate_info s{};
    s.time[0] = running;
    s.time[1] = runnable;
    s.time[2] = blocked;
    s.time[3] = offline;
    return s;
}

} // namespace

TEST_CASE("StealClock: steal is runnable + offline since the baseline, not the totals before it", "[steal]")
{
    StealClock c;
    // A fresh vCPU has sat offline since domain creation: not steal.
    c.start(totals(0, 0, 0, 5'000'000'000));
    REQUIRE(c.steal_ns() == 0);
    c.update(totals(1000, 200, 300, 5'000'000'050));
    REQUIRE(c.steal_ns() == 250);
    REQUIRE(c.running_ns() == 1000);
    REQUIRE(c.time_ns(runstate::blocked) == 300);
    REQUIRE(c.total_ns() == 1550);
}

TEST_CASE("StealClock: a reset of Xen's totals is counted from zero, never subtracted", "[steal]")
{
    StealClock c;
    c.start(totals(100, 100, 100, 100));
    c.update(totals(200, 400, 100, 100));
    REQUIRE(c.steal_ns() == 300);
    // Restored or migrated: Xen's totals restart from 0 (docs/steal.md, "The steal clock").
    c.update(totals(10, 20, 0, 5));
    REQUIRE(c.steal_ns() == 325);
    REQUIRE(c.running_ns() == 110);
    c.update(totals(30, 50, 0, 5));
    REQUIRE(c.steal_ns() == 355);
}

TEST_CASE("StealClock: monotonic over random totals that sometimes restart", "[steal]")
{
    std::mt19937_64 rng(7);
    StealClock c;
    abi::vcpu_runstate_info s = totals(0, 0, 0, 0);
    c.start(s);
    uint64_t prev_steal = 0, prev_run = 0;
    for (int i = 0; i < 100'000; ++i) {
        if (rng() % 1000 == 0) {
            s = totals(0, 0, 0, 0); // reset
        }
        s.time[rng() % 4] += rng() % 10'000;
        c.update(s);
        REQUIRE(c.steal_ns() >= prev_steal);
        REQUIRE(c.running_ns() >= prev_run);
        prev_steal = c.steal_ns();
        prev_run = c.running_ns();
    }
}

TEST_CASE("StealClock: with the simulated Xen, preemption is steal, a hot-unplugged vCPU's offline time is not",
          "[steal]")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    sim::Scope s(hv, VcpuId{0});
    Runstate rs;
    RunstateCpu cpu1;
    REQUIRE(rs.register_area(VcpuId{1}, cpu1, PhysAddr{cpu1.area.address()}, XenFeatures::query().value()));
    hv.advance(10'000'000); // vCPU 1 offline since creation

    // vCPU 1 comes online: baseline.
    hv.set_runstate(VcpuId{1}, runstate::running);
    StealClock c;
    c.start(rs.snapshot(VcpuId{1}, cpu1, VcpuId{0}).value());
    REQUIRE(c.steal_ns() == 0);

    hv.advance(1'000'000);
    hv.preempt(VcpuId{1}, 400'000); // Xen gave its pCPU to someone else
    hv.advance(600'000);
    hv.pause(100'000); // the domain was paused: offline, steal
    c.update(rs.snapshot(VcpuId{1}, cpu1, VcpuId{0}).value());
    REQUIRE(c.steal_ns() == 500'000);
    const uint64_t run_before = c.running_ns();

    // Hot-unplug for 50 ms, then online again: that offline time is not steal.
    hv.set_runstate(VcpuId{1}, runstate::offline);
    hv.advance(50'000'000);
    hv.set_runstate(VcpuId{1}, runstate::running);
    c.start(rs.snapshot(VcpuId{1}, cpu1, VcpuId{0}).value());
    REQUIRE(c.steal_ns() == 500'000);
    hv.advance(2'000'000);
    hv.preempt(VcpuId{1}, 1'000);
    c.update(rs.snapshot(VcpuId{1}, cpu1, VcpuId{0}).value());
    REQUIRE(c.steal_ns() == 501'000);
    REQUIRE(c.running_ns() > run_before);
}

TEST_CASE("StealClock: the live view of a runnable vCPU includes the current stint without becoming the baseline",
          "[steal]")
{
    StealClock c;
    abi::vcpu_runstate_info s = totals(100, 0, 0, 0);
    s.state = static_cast<int32_t>(runstate::runnable);
    s.state_entry_time = 1000;
    c.start(s);
    REQUIRE(c.steal_ns_with(runstate_live(s, 1800)) == 800);
    REQUIRE(c.steal_ns() == 0);
    s.time[1] = 900; // Xen switched it in at 1900
    c.update(s);
    REQUIRE(c.steal_ns() == 900);
}

TEST_CASE("steal_ppm: the steal fraction of an interval in parts per million", "[steal]")
{
    StealClock c;
    c.start(totals(0, 0, 0, 0));
    const StealSample a = steal_sample(c);
    c.update(totals(750, 200, 0, 50));
    const StealSample b = steal_sample(c);
    REQUIRE(steal_ppm(a, b) == 250'000);
    REQUIRE(steal_ppm(b, b) == 0);
    REQUIRE(steal_ppm({0, 0}, {10, 5}) == 1'000'000);
}
