// TimerQueue on its own (no Xen): order, ties, cancel, re-arm, slack, and a
// randomized comparison with a sorted list. LatenessHistogram quantiles.
#include <xen/time/timer_queue.hpp>
#include <xen/time/timer_stats.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

using xen::LatenessHistogram;
using xen::Timer;
using xen::TimerQueue;
using xen::VcpuId;

namespace {

void nothing(Timer&, VcpuId, uint64_t, void*) noexcept {}

/// n timers whose context is their index.
struct Timers {
    explicit Timers(size_t n)
    {
        for (size_t i = 0; i < n; ++i)
            all.push_back(std::make_unique<Timer>(&nothing, reinterpret_cast<void*>(i)));
    }
    Timer& operator[](size_t i) { return *all[i]; }
    static size_t index(const Timer* t) { return reinterpret_cast<size_t>(t->context()); }
    std::vector<std::unique_ptr<Timer>> all;
};

std::vector<size_t> drain(TimerQueue& q, uint64_t now = ~uint64_t{0})
{
    std::vector<size_t> out;
    while (Timer* t = q.pop_due(now))
        out.push_back(Timers::index(t));
    return out;
}

} // namespace

TEST_CASE("TimerQueue: timers come out in deadline order")
{
    Timers t(5);
    TimerQueue q;
    q.arm(t[0], 50);
    q.arm(t[1], 10);
    q.arm(t[2], 40);
    q.arm(t[3], 20);
    q.arm(t[4], 30);
    CHECK(q.size() == 5);
    CHECK(drain(q) == std::vector<size_t>{1, 3, 4, 2, 0});
    CHECK(q.empty());
    CHECK_FALSE(t[0].armed());
}

TEST_CASE("TimerQueue: equal deadlines come out in arming order")
{
    Timers t(6);
    TimerQueue q;
    for (size_t i : {3, 1, 5, 0, 4, 2})
        q.arm(t[i], 100);
    CHECK(drain(q) == std::vector<size_t>{3, 1, 5, 0, 4, 2});
}

TEST_CASE("TimerQueue: a re-armed timer takes its new deadline and a new place in arming order")
{
    Timers t(3);
    TimerQueue q;
    q.arm(t[0], 100);
    q.arm(t[1], 100);
    q.arm(t[2], 100);
    q.arm(t[0], 100); // re-arm: now the last of the three
    CHECK(q.size() == 3);
    CHECK(drain(q) == std::vector<size_t>{1, 2, 0});

    q.arm(t[0], 100);
    q.arm(t[1], 200);
    q.arm(t[1], 50); // moved earlier
    CHECK(drain(q) == std::vector<size_t>{1, 0});
}

TEST_CASE("TimerQueue: cancel takes a timer out wherever it is, once")
{
    Timers t(8);
    TimerQueue q;
    for (size_t i = 0; i < 8; ++i)
        q.arm(t[i], 10 * (8 - i));
    (void)q.pop(); // shape the heap: children under the root
    CHECK(q.cancel(t[0]));
    CHECK_FALSE(q.cancel(t[0]));
    CHECK(q.cancel(t[4]));
    CHECK(q.cancel(t[6])); // the first one now
    CHECK(q.size() == 4);
    CHECK(drain(q) == std::vector<size_t>{5, 3, 2, 1});
}

TEST_CASE("TimerQueue: cancel of a timer of another queue does nothing")
{
    Timers t(1);
    TimerQueue a;
    TimerQueue b;
    a.arm(t[0], 5);
    CHECK_FALSE(b.cancel(t[0]));
    CHECK(a.size() == 1);
    CHECK(t[0].armed());
}

TEST_CASE("TimerQueue: pop_due runs nothing before its deadline")
{
    Timers t(3);
    TimerQueue q;
    q.arm(t[0], 100);
    q.arm(t[1], 200);
    q.arm(t[2], 300);
    CHECK(q.pop_due(99) == nullptr);
    CHECK(drain(q, 200) == std::vector<size_t>{0, 1});
    CHECK(q.first() == &t[2]);
}

TEST_CASE("TimerQueue: slack orders by latest time and lets due followers share the wake-up")
{
    Timers t(3);
    TimerQueue q;
    q.arm(t[0], 100, 900); // due at 100, may wait until 1000
    q.arm(t[1], 500);      // due at 500, latest 500: comes first
    q.arm(t[2], 2000);
    CHECK(q.first() == &t[1]);
    CHECK(q.first()->latest() == 500);
    // The wake-up for t1 (at 500) also runs t0, whose deadline has passed.
    CHECK(drain(q, 500) == std::vector<size_t>{1, 0});
    CHECK(q.first() == &t[2]);
}

TEST_CASE("TimerQueue: slack stops at the first timer not yet due")
{
    Timers t(3);
    TimerQueue q;
    q.arm(t[0], 100);
    q.arm(t[1], 400, 100); // latest 500, not due at 300
    q.arm(t[2], 200, 400); // latest 600, due at 300 but after t1 in order
    CHECK(drain(q, 300) == std::vector<size_t>{0});
    CHECK(drain(q, 400) == std::vector<size_t>{1, 2});
}

TEST_CASE("TimerQueue: deadline plus slack saturates")
{
    Timers t(1);
    TimerQueue q;
    q.arm(t[0], ~uint64_t{0} - 5, 100);
    CHECK(t[0].latest() == ~uint64_t{0});
    CHECK(t[0].deadline() == ~uint64_t{0} - 5);
}

TEST_CASE("TimerQueue: cancel of a timer of another queue leaves both queues intact")
{
    Timers t(4);
    TimerQueue a;
    TimerQueue b;
    a.arm(t[0], 100);
    b.arm(t[1], 50);
    a.arm(t[2], 70);
    CHECK_FALSE(a.cancel(t[1]));
    CHECK_FALSE(b.cancel(t[2]));
    CHECK(drain(a) == std::vector<size_t>{2, 0});
    CHECK(drain(b) == std::vector<size_t>{1});
}

TEST_CASE("TimerQueue: timers armed below where the wheel has moved on still come first, in order")
{
    Timers t(6);
    TimerQueue q;
    q.arm(t[0], 1'000'000);
    q.arm(t[1], 2'000'000);
    CHECK(q.pop() == &t[0]); // the wheel's base is now near 1 ms
    q.arm(t[2], 500);        // far below it
    q.arm(t[3], 100);
    q.arm(t[4], 500); // a tie with t2: after it
    q.arm(t[5], 1'500'000);
    CHECK(drain(q) == std::vector<size_t>{3, 2, 4, 5, 1});
}

TEST_CASE("TimerQueue: a timer re-armed within or past its bucket stays put but keeps its order")
{
    // Re-arming at or after the start of its bucket leaves a timer in place
    // (timer_queue.cpp, arm); it moves when its bucket comes up. It must
    // still come out in (latest, arming order) among timers armed after it.
    Timers t(4);
    TimerQueue q;
    SECTION("moved by a cascade behind timers of the same time armed after it")
    {
        q.arm(t[0], 70);  // level 1, bucket 1
        q.arm(t[0], 200); // stays in bucket 1
        q.arm(t[1], 200); // level 1, bucket 3
        q.arm(t[2], 200);
        q.arm(t[3], 199);
        CHECK(drain(q) == std::vector<size_t>{3, 0, 1, 2});
    }
    SECTION("in a level-0 bucket, found stale when its time comes up")
    {
        q.arm(t[0], 10);
        q.arm(t[0], 20); // stays in the bucket of time 10
        q.arm(t[1], 15);
        q.arm(t[2], 20);
        q.arm(t[3], 10);
        CHECK(drain(q, 9).empty());
        CHECK(drain(q, 19) == std::vector<size_t>{3, 1});
        CHECK(drain(q) == std::vector<size_t>{0, 2});
    }
    SECTION("earlier within its bucket: it may become the first")
    {
        q.arm(t[0], 100); // both level 1, bucket 1
        q.arm(t[1], 120);
        CHECK(q.first() == &t[0]);
        q.arm(t[1], 90);
        CHECK(q.first() == &t[1]);
        q.arm(t[1], 127); // the first, pushed back: no longer first
        CHECK(q.first() == &t[0]);
        CHECK(drain(q) == std::vector<size_t>{0, 1});
    }
    SECTION("re-armed to the very time of its level-0 bucket: behind those armed since")
    {
        q.arm(t[0], 10);
        q.arm(t[1], 10);
        q.arm(t[2], 12);
        q.arm(t[0], 10);
        q.arm(t[2], 10);
        CHECK(drain(q) == std::vector<size_t>{1, 0, 2});
    }
    SECTION("pushed back many times, then cancelled")
    {
        for (uint64_t d = 64; d < 100'000; d += 97)
            q.arm(t[0], d);
        q.arm(t[1], 99'999);
        CHECK(q.cancel(t[0]));
        CHECK(q.size() == 1);
        CHECK(drain(q) == std::vector<size_t>{1});
    }
}

TEST_CASE("TimerQueue: times far apart (levels of the wheel) and near the top of 64 bits")
{
    Timers t(8);
    TimerQueue q;
    const uint64_t times[] = {~uint64_t{0}, uint64_t{1} << 63,      1, 0, uint64_t{1} << 40, 63,
                              64,           (uint64_t{1} << 63) + 1};
    for (size_t i = 0; i < 8; ++i)
        q.arm(t[i], times[i]);
    CHECK(drain(q) == std::vector<size_t>{3, 2, 5, 6, 4, 1, 7, 0});
}

TEST_CASE("TimerQueue: random arm, re-arm, cancel and pop agree with a sorted list")
{
    std::mt19937_64 rng(12345);
    constexpr size_t n = 200;
    Timers t(n);
    TimerQueue q;
    struct Ref {
        uint64_t latest, seq;
        size_t id;
        bool operator<(const Ref& o) const { return latest != o.latest ? latest < o.latest : seq < o.seq; }
    };
    std::vector<Ref> ref;
    uint64_t seq = 0;
    auto ref_remove = [&](size_t id) {
        auto it = std::find_if(ref.begin(), ref.end(), [&](const Ref& r) { return r.id == id; });
        if (it == ref.end())
            return false;
        ref.erase(it);
        return true;
    };
    for (int step = 0; step < 200'000; ++step) {
        const size_t id = rng() % n;
        switch (rng() % 4) {
        case 0:
        case 1: {
            // Many ties in a small range, and times spread over every level of
            // the wheel (also below where pops have moved it).
            const uint64_t deadline = rng() % 2 == 0 ? rng() % 64 : (rng() >> (rng() % 64)) >> 1;
            const uint64_t slack = rng() % 3 == 0 ? rng() % 16 : 0;
            q.arm(t[id], deadline, slack);
            ref_remove(id);
            ref.insert(std::upper_bound(ref.begin(), ref.end(), Ref{deadline + slack, seq, id}),
                       Ref{deadline + slack, seq, id});
            ++seq;
            break;
        }
        case 2: REQUIRE(q.cancel(t[id]) == ref_remove(id)); break;
        case 3: {
            Timer* x = q.pop();
            if (ref.empty()) {
                REQUIRE(x == nullptr);
            } else {
                REQUIRE(x != nullptr);
                REQUIRE(Timers::index(x) == ref.front().id);
                ref.erase(ref.begin());
            }
            break;
        }
        }
        REQUIRE(q.size() == ref.size());
        REQUIRE((q.first() == nullptr) == ref.empty());
        if (!ref.empty())
            REQUIRE(Timers::index(q.first()) == ref.front().id);
    }
}

TEST_CASE("LatenessHistogram: buckets are exact below 16 and within 1/16 above")
{
    for (uint64_t v = 0; v < 16; ++v)
        CHECK(LatenessHistogram::bucket_top(LatenessHistogram::bucket_of(v)) == v);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 100'000; ++i) {
        const uint64_t v = rng() >> (rng() % 64);
        const uint32_t b = LatenessHistogram::bucket_of(v);
        const uint64_t top = LatenessHistogram::bucket_top(b);
        REQUIRE(top >= v);
        if (v < (uint64_t{1} << LatenessHistogram::max_bits)) {
            REQUIRE(b < LatenessHistogram::buckets);
            REQUIRE(top - v <= v / 16);
            if (b > 0)
                REQUIRE(LatenessHistogram::bucket_top(b - 1) < v);
        } else {
            REQUIRE(b == LatenessHistogram::buckets);
        }
    }
}

TEST_CASE("LatenessHistogram: median, p99 and max of known values")
{
    LatenessHistogram h;
    CHECK(h.quantile_permille(500) == 0);
    for (uint64_t v = 1; v <= 1000; ++v)
        h.record(v * 1000); // 1 us .. 1 ms
    CHECK(h.count() == 1000);
    CHECK(h.max() == 1'000'000);
    const uint64_t p50 = h.quantile_permille(500);
    const uint64_t p99 = h.quantile_permille(990);
    CHECK(p50 >= 500'000);
    CHECK(p50 <= 500'000 + 500'000 / 16);
    CHECK(p99 >= 990'000);
    CHECK(p99 <= 1'000'000);
    CHECK(h.quantile_permille(1000) == 1'000'000);

    LatenessHistogram other;
    other.record(5'000'000);
    h.merge(other);
    CHECK(h.count() == 1001);
    CHECK(h.max() == 5'000'000);
    h.clear();
    CHECK(h.count() == 0);
    CHECK(h.max() == 0);
}
