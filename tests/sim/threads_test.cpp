// The simulator under threads: a reader following Xen's retry protocols
// against the simulator's writers never accepts a torn record, and threads
// acting as different vCPUs can call into one Hypervisor at once.
#include <atomic>
#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <support/pace.hpp>
#include <thread>
#include <xen/hypercall.hpp>

using namespace xen;
using xen::abi::runstate;

namespace {

// Acquire loads: no later load moves above an earlier one, which is what
// the re-read at the end of each protocol needs.
template <class T>
T load(const T& field)
{
    return __atomic_load_n(&field, __ATOMIC_ACQUIRE);
}

// The reader side of XEN_RUNSTATE_UPDATE (Xen commit 2529c850ea): entry
// time, barrier, body, barrier, entry time again; retry on change or flag.
bool read_runstate(const abi::vcpu_runstate_info& area, abi::vcpu_runstate_info& out)
{
    const uint64_t entry = load(area.state_entry_time);
    out.state = load(area.state);
    for (int i = 0; i < 4; ++i)
        out.time[i] = load(area.time[i]);
    out.state_entry_time = load(area.state_entry_time);
    return out.state_entry_time == entry && (entry & abi::runstate_update_flag) == 0;
}

bool read_time(const abi::vcpu_time_info& t, abi::vcpu_time_info& out)
{
    const uint32_t v = load(t.version);
    out.tsc_timestamp = load(t.tsc_timestamp);
    out.system_time = load(t.system_time);
    out.version = load(t.version);
    return v % 2 == 0 && out.version == v;
}

// The writer's updates go on past their number until the reader has
// accepted this many snapshots taken meanwhile: a busy host may run the
// reader late, or not at all while a fixed number of updates lasts. Past
// its number, the writer waits before each update for the reader to have
// accepted another snapshot, so the snapshots come from the test's pacing,
// not from the host; the backstop (a hundred times the number, out of reach
// with the pacing) stops the writer, and the test fails.
constexpr uint64_t wanted_accepted = 1000;
constexpr int backstop_factor = 100;

/// Past its `updates`, the writer waits for the reader's next snapshot.
void pace_writer(int i, int updates, const std::atomic<uint64_t>& accepted, uint64_t& seen)
{
    if (i >= updates) {
        xen::test::wait_until([&] { return accepted.load() > seen; });
        seen = accepted.load();
    }
}

} // namespace

TEST_CASE("sim: a reader following XEN_RUNSTATE_UPDATE never accepts a torn runstate area")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    const uint64_t t0 = hv.now(); // vCPU 1 is offline from creation, so sum(time) == entry - t0
    Area<abi::vcpu_runstate_info> area;
    {
        sim::Scope s(hv, VcpuId{1});
        REQUIRE(hc::register_runstate_phys_area(VcpuId{1}, area, PhysAddr{area.address()}));
    }
    std::atomic<bool> done{false};
    std::atomic<uint64_t> accepted{0};
    std::thread writer([&] {
        constexpr int updates = 20000;
        uint64_t seen = 0;
        for (int i = 0; i < updates || (accepted.load() < wanted_accepted && i < updates * backstop_factor); ++i) {
            pace_writer(i, updates, accepted, seen);
            hv.advance(1 + i % 7);
            hv.set_runstate(VcpuId{1}, static_cast<runstate>(i % 4));
        }
        done = true;
    });
    uint64_t violations = 0;
    while (!done.load()) {
        abi::vcpu_runstate_info r{};
        if (!read_runstate(area.value, r))
            continue;
        accepted.fetch_add(1);
        if (r.time[0] + r.time[1] + r.time[2] + r.time[3] != r.state_entry_time - t0)
            ++violations;
    }
    writer.join();
    CHECK(violations == 0);
    CHECK(accepted >= wanted_accepted);
}

TEST_CASE("sim: stepping a runstate writer shows the reader rejecting each half-done stage")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 2});
    Area<abi::vcpu_runstate_info> area;
    sim::Scope s(hv, VcpuId{1});
    REQUIRE(hc::register_runstate_phys_area(VcpuId{1}, area, PhysAddr{area.address()}));
    hv.advance(100);
    hv.set_runstate(VcpuId{1}, runstate::runnable);
    hv.advance(100);
    auto w = hv.begin_runstate_update(VcpuId{1});
    abi::vcpu_runstate_info r{};
    CHECK(read_runstate(area.value, r));
    while (w.step())
        if (!w.done())
            CHECK_FALSE(read_runstate(area.value, r));
    CHECK(read_runstate(area.value, r));
}

TEST_CASE("sim: a reader following the pvclock version never accepts a torn time record")
{
    // At 1 GHz the simulated TSC counts nanoseconds (mul 2^31, shift 1), so
    // every record the simulator writes has tsc_timestamp == system_time.
    sim::Hypervisor hv({.tsc_hz = 1'000'000'000});
    REQUIRE(hv.tsc(VcpuId{0}) == hv.now());
    const auto& t = hv.shared_info().vcpu_info[0].time;
    std::atomic<bool> done{false};
    std::atomic<uint64_t> accepted{0};
    std::thread writer([&] {
        constexpr int updates = 20000;
        uint64_t seen = 0;
        for (int i = 0; i < updates || (accepted.load() < wanted_accepted && i < updates * backstop_factor); ++i) {
            pace_writer(i, updates, accepted, seen);
            hv.advance(1000);
            hv.update_time(VcpuId{0});
        }
        done = true;
    });
    uint64_t violations = 0;
    while (!done.load()) {
        abi::vcpu_time_info r{};
        if (!read_time(t, r))
            continue;
        accepted.fetch_add(1);
        if (r.tsc_timestamp != r.system_time)
            ++violations;
    }
    writer.join();
    CHECK(violations == 0);
    CHECK(accepted >= wanted_accepted);
}

TEST_CASE("sim: two threads acting as two vCPUs exchange IPIs through one Hypervisor")
{
    sim::Hypervisor hv({.guest = sim::GuestType::pvh, .vcpus = 2, .initially_up = 2});
    hc::Port to[2]{};
    {
        sim::Scope s(hv);
        to[0] = hc::evtchn_bind_ipi(VcpuId{0}).value();
        to[1] = hc::evtchn_bind_ipi(VcpuId{1}).value();
    }
    std::atomic<int> failures{0}; // Catch2 assertions are not thread-safe
    auto run = [&](uint32_t self) {
        sim::Scope s(hv, VcpuId{self});
        for (int i = 0; i < 2000; ++i) {
            if (!hc::evtchn_send(to[1 - self]) || !hc::sched_yield())
                ++failures;
        }
    };
    std::thread a(run, 0);
    std::thread b(run, 1);
    a.join();
    b.join();
    CHECK(failures == 0);
    CHECK(hv.port_pending(to[0].value));
    CHECK(hv.port_pending(to[1].value));
    CHECK(hv.calls(abi::hypercall::event_channel_op) == 2 + 4000);
}
