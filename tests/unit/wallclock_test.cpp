// The wall clock from shared_info under the wc_version protocol.
#include <xen/time/wallclock.hpp>

#include <catch2/catch.hpp>
#include <support/pace.hpp>

#include <atomic>
#include <memory>
#include <thread>

using xen::WallTime;

namespace {
struct alignas(4096) Shared {
    xen::abi::shared_info info{};
};

void xen_set(xen::abi::shared_info& s, uint64_t sec, uint32_t nsec)
{
    const uint32_t v = __atomic_load_n(&s.wc_version, __ATOMIC_RELAXED);
    __atomic_store_n(&s.wc_version, v + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&s.wc_sec, static_cast<uint32_t>(sec), __ATOMIC_RELEASE);
    __atomic_store_n(&s.wc_sec_hi, static_cast<uint32_t>(sec >> 32), __ATOMIC_RELEASE);
    __atomic_store_n(&s.wc_nsec, nsec, __ATOMIC_RELEASE);
    __atomic_store_n(&s.wc_version, v + 2, __ATOMIC_RELEASE);
}
} // namespace

TEST_CASE("wallclock_base: seconds include wc_sec_hi (past 2106)", "[wallclock]")
{
    auto s = std::make_unique<Shared>();
    xen_set(s->info, (uint64_t{1} << 32) + 12, 345);
    REQUIRE(xen::wallclock_base(s->info).value() == WallTime{(uint64_t{1} << 32) + 12, 345});
}

TEST_CASE("wallclock_now: base plus system time, nanoseconds carried into seconds", "[wallclock]")
{
    auto s = std::make_unique<Shared>();
    xen_set(s->info, 1'700'000'000, 999'999'000);
    REQUIRE(xen::wallclock_now(s->info, 2'000'001'500).value() == WallTime{1'700'000'003, 500});
    REQUIRE(xen::wallclock_at({5, 0}, 0) == WallTime{5, 0});
}

TEST_CASE("wallclock_base: an odd wc_version gives busy_retry; a changed one is read again", "[wallclock]")
{
    auto s = std::make_unique<Shared>();
    xen_set(s->info, 100, 1);
    s->info.wc_version += 1;
    REQUIRE(xen::wallclock_base(s->info, 50).error() == xen::Errc::busy_retry);
    s->info.wc_version += 1;
    REQUIRE(xen::wallclock_base(s->info).value() == WallTime{100, 1});
}

TEST_CASE("wallclock_base: never accepts a half-written wall clock from a concurrent writer", "[wallclock][tsan]")
{
    // 200,000 reads, and then on until the reader has seen the wall clock
    // change this often, so that it really raced the writer. Past its reads,
    // the reader waits for the writer to finish the generation after the
    // one it read last before it reads again: on a busy host the writer may
    // be queued behind the reader, or not run at all during the 200,000.
    constexpr uint64_t wanted_reads = 200'000;
    constexpr uint64_t wanted_changes = 100;
    auto s = std::make_unique<Shared>();
    xen_set(s->info, 0, 0);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> writes{0};
    std::thread xen_thread([&] {
        for (uint64_t g = 1; !stop.load(std::memory_order_relaxed); ++g) {
            xen_set(s->info, g * 0x1'0000'0001ull, static_cast<uint32_t>(g % 1'000'000'000));
            writes.fetch_add(1, std::memory_order_relaxed);
        }
    });
    uint64_t torn = 0, read = 0, changes = 0, last_g = 0;
    while (read < wanted_reads || changes < wanted_changes) {
        if (read >= wanted_reads)
            xen::test::wait_until([&] { return writes.load(std::memory_order_relaxed) > last_g; });
        auto w = xen::wallclock_base(s->info);
        if (!w)
            continue;
        ++read;
        const uint64_t g = w->sec / 0x1'0000'0001ull;
        if (w->sec % 0x1'0000'0001ull != 0 || w->nsec != g % 1'000'000'000) {
            ++torn; // and no generation to wait on
            continue;
        }
        changes += g != last_g;
        last_g = g;
    }
    stop = true;
    xen_thread.join();
    INFO("reads " << read << ", writes " << writes.load() << ", changes seen " << changes);
    REQUIRE(torn == 0);
    REQUIRE(changes >= wanted_changes);
}
