// runstate_read against a writer thread that follows Xen's
// XEN_RUNSTATE_UPDATE protocol (Xen commit 2529c850ea): 10^7 snapshots, 0
// torn accepted; also built into the ThreadSanitizer binary. And a flag
// stuck set ends in busy_retry instead of a livelock.
#include <xen/runstate/snapshot.hpp>

#include <catch2/catch.hpp>
#include <support/pace.hpp>
#include <xen/support/types.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using xen::abi::runstate_update_flag;
using xen::abi::vcpu_runstate_info;

namespace {

/// Generation g of a runstate area: every field derived from g.
void expected(uint64_t g, vcpu_runstate_info& r)
{
    r.state = static_cast<int32_t>(g % 4);
    r.state_entry_time = g * 10 + 5;
    for (int i = 0; i < 4; ++i)
        r.time[i] = g * static_cast<uint64_t>(i + 1);
}

bool consistent(const vcpu_runstate_info& r)
{
    if (r.state_entry_time % 10 != 5)
        return false;
    vcpu_runstate_info want{};
    expected(r.state_entry_time / 10, want);
    return r.state == want.state && r.time[0] == want.time[0] && r.time[1] == want.time[1] &&
           r.time[2] == want.time[2] && r.time[3] == want.time[3];
}

/// Xen's update_runstate_area with the flag: entry | flag, wmb, the whole
/// struct (entry still flagged), wmb, entry with the flag clear. Release
/// stores stand in for the wmb (plain movs on x86; no fence for TSan).
void xen_update(vcpu_runstate_info& area, uint64_t g)
{
    vcpu_runstate_info v{};
    expected(g, v);
    __atomic_store_n(&area.state_entry_time, v.state_entry_time | runstate_update_flag, __ATOMIC_RELEASE);
    __atomic_store_n(&area.state, v.state, __ATOMIC_RELEASE);
    for (int i = 0; i < 4; ++i)
        __atomic_store_n(&area.time[i], v.time[i], __ATOMIC_RELEASE);
    __atomic_store_n(&area.state_entry_time, v.state_entry_time, __ATOMIC_RELEASE);
}

} // namespace

TEST_CASE("runstate_read: 10^7 snapshots against a writer following XEN_RUNSTATE_UPDATE accept 0 torn",
          "[runstate][concurrency][tsan]")
{
    constexpr uint64_t target_reads = 10'000'000;
    constexpr int readers = 2;
    // Each reader goes on past its share of reads until it has seen the
    // area change this often, so that it really raced the writer. Past its
    // share, a reader that still lacks changes waits for the writer to
    // finish the generation after the one it read last before it reads
    // again: on a busy host the writer may be queued behind the readers, and
    // the changes then come from the test's pacing, not from the host. At
    // ten times its share (which the pacing keeps out of reach) it stops,
    // and the test fails.
    constexpr uint64_t wanted_changes = 100;
    constexpr uint64_t share = target_reads / readers;
    xen::Area<vcpu_runstate_info> area;
    xen_update(area.value, 0);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> updates{0};
    std::thread xen_thread([&] {
        for (uint64_t g = 1; !stop.load(std::memory_order_relaxed); ++g) {
            xen_update(area.value, g);
            updates.fetch_add(1, std::memory_order_relaxed);
            for (int i = 0; i < 64; ++i)
                xen::arch::cpu_relax();
        }
    });
    std::atomic<uint64_t> torn{0}, accepted{0}, busy{0};
    std::vector<uint64_t> changes(readers);
    std::vector<std::thread> vcpus;
    for (int r = 0; r < readers; ++r) {
        vcpus.emplace_back([&, r] {
            uint64_t mine = 0, seen_changes = 0, last_entry = 0;
            while (mine < share || (seen_changes < wanted_changes && mine < share * 10)) {
                if (mine >= share) {
                    // Generation g is written once `updates` reaches g.
                    const uint64_t g = last_entry / 10;
                    xen::test::wait_until([&] { return updates.load(std::memory_order_relaxed) > g; });
                }
                auto s = xen::runstate_read(area.value);
                if (!s.has_value()) {
                    busy.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                ++mine;
                if (!consistent(*s) || (s->state_entry_time & runstate_update_flag) != 0)
                    torn.fetch_add(1, std::memory_order_relaxed);
                seen_changes += s->state_entry_time != last_entry;
                last_entry = s->state_entry_time;
            }
            accepted.fetch_add(mine, std::memory_order_relaxed);
            changes[static_cast<size_t>(r)] = seen_changes;
        });
    }
    for (auto& t : vcpus)
        t.join();
    stop = true;
    xen_thread.join();
    INFO("updates " << updates.load() << ", busy_retry " << busy.load() << ", changes seen " << changes[0] << " and "
                    << changes[1]);
    REQUIRE(accepted.load() >= target_reads);
    REQUIRE(torn.load() == 0);
    for (const uint64_t c : changes)
        REQUIRE(c >= wanted_changes); // the readers really raced the writer
}

TEST_CASE("runstate_read: an update flag stuck set ends in busy_retry after the bounded attempts", "[runstate]")
{
    xen::Area<vcpu_runstate_info> area;
    xen_update(area.value, 3);
    area.value.state_entry_time |= runstate_update_flag; // Xen stopped mid-update
    auto r = xen::runstate_read(area.value, 100);
    REQUIRE_FALSE(r.has_value());
    REQUIRE(r.error() == xen::Errc::busy_retry);
    // Once the writer finishes, the next read succeeds.
    area.value.state_entry_time &= ~runstate_update_flag;
    REQUIRE(xen::runstate_read(area.value).has_value());
}

TEST_CASE("runstate_live: adds the time since state_entry_time to the current state only", "[runstate]")
{
    vcpu_runstate_info s{};
    s.state = static_cast<int32_t>(xen::abi::runstate::runnable);
    s.state_entry_time = 1000;
    s.time[0] = 10;
    s.time[1] = 20;
    const auto live = xen::runstate_live(s, 1500);
    REQUIRE(live.time[0] == 10);
    REQUIRE(live.time[1] == 520);
    REQUIRE(xen::runstate_live(s, 900).time[1] == 20); // "now" before entry adds nothing
    REQUIRE(xen::runstate_total(live) == 530);
}
