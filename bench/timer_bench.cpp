// Timer queue throughput: xen::TimerQueue (intrusive radix wheel) against
// the queues a kernel would use instead (timer_peers.hpp): a 4-ary heap
// with the index in the timer (Go's runtime) and an intrusive red-black
// tree with the leftmost cached (Linux's timerqueue); optionally also a
// std::multimap queue. Measured in the same run at 10^3 .. 10^6 armed
// timers:
//
// - re-arm: arm an armed timer, picked at random, again at a random
//   deadline (a timeout pushed back), by each queue's own re-arm path;
// - expiry: take the earliest timer and arm it again a random time later
//   (the "hold" model of a steady stream of expiries);
// - churn: time advances, about one timer comes due per step; each step
//   re-arms a random timer ahead of now and pops and re-arms every due one
//   (a kernel's mix; charges work a queue defers on re-arm);
// - drain: arm n timers, then expire them all.
//
// Each round measures every queue back to back on the same operation
// sequence; a ratio (peer ns / TimerQueue ns, above 1 when TimerQueue is
// faster) is taken within a round, and the median over rounds is printed,
// with the lowest and highest. "best" is the faster peer of each round. The
// issue-16 goals are checked and printed: best / TimerQueue >= 1.5 on
// re-arm and >= 1.0 on expiry. Not a test: figures depend on the machine;
// build without sanitizers for meaningful numbers.
//
//   timer_bench [--quick] [--multimap] [--rounds N] [--sizes 1000,10000,...]
#include "timer_peers.hpp"

#include <xen/time/timer_queue.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <random>
#include <type_traits>
#include <vector>

namespace {

// The thread's CPU time, not the wall clock: on a shared host the wall
// clock also counts the time other work held the CPU.
struct Clock {
    using time_point = std::chrono::nanoseconds;
    static time_point now()
    {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    }
};

void nothing(xen::Timer&, xen::VcpuId, uint64_t, void*) noexcept {}

constexpr uint64_t window = 1'000'000'000; // deadlines spread over 1 s

/// Random deadlines drawn up front, so both queues see the same sequence
/// and the generator is not timed.
std::vector<uint64_t> deadlines(size_t n, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<uint64_t> d(n);
    for (auto& x : d)
        x = rng() % window;
    return d;
}

std::vector<uint32_t> picks(size_t n, size_t range, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<uint32_t> p(n);
    for (auto& x : p)
        x = static_cast<uint32_t>(rng() % range);
    return p;
}

// Each queue has n timer objects; an operation names one by index (re-arm)
// or gets one back from pop (expiry), as a kernel's callback gets its timer.
struct Intrusive {
    using Item = xen::Timer;
    explicit Intrusive(size_t n)
    {
        items.reserve(n);
        for (size_t i = 0; i < n; ++i)
            items.emplace_back(std::make_unique<xen::Timer>(&nothing, nullptr));
    }
    Item& item(size_t i) { return *items[i]; }
    void arm(Item& t, uint64_t d) { q.arm(t, d); }
    void cancel(Item& t) { (void)q.cancel(t); }
    Item* pop() { return q.pop(); }
    Item* pop_due(uint64_t now) { return q.pop_due(now); }
    static uint64_t deadline(const Item& t) { return t.deadline(); }
    xen::TimerQueue q;
    std::vector<std::unique_ptr<xen::Timer>> items;
};

// The queue a kernel without intrusive timers would write: a multimap from
// deadline to timer object, each object remembering its place for cancel.
struct Multimap {
    struct Item;
    using Map = std::multimap<uint64_t, Item*>;
    struct Item {
        Map::iterator where;
        uint64_t deadline = 0;
        bool armed = false;
    };
    explicit Multimap(size_t n)
    {
        items.reserve(n);
        for (size_t i = 0; i < n; ++i)
            items.emplace_back(std::make_unique<Item>());
    }
    Item& item(size_t i) { return *items[i]; }
    void arm(Item& t, uint64_t d)
    {
        if (t.armed)
            q.erase(t.where);
        t.where = q.emplace(d, &t);
        t.deadline = d;
        t.armed = true;
    }
    void cancel(Item& t)
    {
        if (t.armed) {
            q.erase(t.where);
            t.armed = false;
        }
    }
    Item* pop()
    {
        auto it = q.begin();
        Item* t = it->second;
        t->armed = false;
        q.erase(it);
        return t;
    }
    Item* pop_due(uint64_t now) { return !q.empty() && q.begin()->first <= now ? pop() : nullptr; }
    static uint64_t deadline(const Item& t) { return t.deadline; }
    Map q;
    std::vector<std::unique_ptr<Item>> items;
};

// The peers, with the same timer objects allocated one by one.
template <class Queue, class Timer>
struct Peer {
    using Item = Timer;
    explicit Peer(size_t n) : q(make(n))
    {
        items.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            items.emplace_back(std::make_unique<Timer>());
            items.back()->fn = &no_op;
        }
    }
    static void no_op(void*) {}
    static Queue make(size_t n)
    {
        if constexpr (std::is_constructible_v<Queue, size_t>)
            return Queue(n);
        else
            return Queue();
    }
    Item& item(size_t i) { return *items[i]; }
    void arm(Item& t, uint64_t d) { q.arm(t, d); }
    void cancel(Item& t) { (void)q.cancel(t); }
    Item* pop() { return q.pop(); }
    Item* pop_due(uint64_t now)
    {
        Item* t = q.first();
        return t != nullptr && t->deadline <= now ? q.pop() : nullptr;
    }
    static uint64_t deadline(const Item& t) { return t.deadline; }
    Queue q;
    std::vector<std::unique_ptr<Timer>> items;
};
using Heap = Peer<bench::QuadHeap, bench::HeapTimer>;
using Tree = Peer<bench::RbTree, bench::RbTimer>;

volatile uint64_t sink;

double per_op(Clock::time_point t0, Clock::time_point t1, size_t ops)
{
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(ops);
}

template <class Q>
double rearm_ns(size_t n, size_t ops, const std::vector<uint64_t>& d, const std::vector<uint32_t>& p)
{
    Q q(n);
    for (size_t i = 0; i < n; ++i)
        q.arm(q.item(i), d[i]);
    const auto t0 = Clock::now();
    for (size_t k = 0; k < ops; ++k)
        q.arm(q.item(p[k]), d[(k + n) % d.size()]);
    const auto t1 = Clock::now();
    return per_op(t0, t1, ops);
}

template <class Q>
double expiry_ns(size_t n, size_t ops, const std::vector<uint64_t>& d)
{
    Q q(n);
    for (size_t i = 0; i < n; ++i)
        q.arm(q.item(i), d[i]);
    uint64_t sum = 0;
    const auto t0 = Clock::now();
    for (size_t k = 0; k < ops; ++k) {
        auto* t = q.pop();
        const uint64_t now = Q::deadline(*t);
        sum += now;
        q.arm(*t, now + d[k % d.size()]);
    }
    const auto t1 = Clock::now();
    sink = sum;
    return per_op(t0, t1, ops);
}

// A kernel's mix: time advances by window / n a step, so about one timer
// comes due per step. Each step re-arms a random timer to a random time
// ahead of now (a timeout pushed back, or brought forward), then pops every
// due timer and arms it again ahead of now. ns per step. Unlike re-arm
// alone, the time a queue saves by deferring work on re-arm is charged
// here, when the timers' time comes.
template <class Q>
double churn_ns(size_t n, size_t ops, const std::vector<uint64_t>& d, const std::vector<uint32_t>& p)
{
    Q q(n);
    for (size_t i = 0; i < n; ++i)
        q.arm(q.item(i), d[i]);
    const uint64_t step = window / n;
    uint64_t now = 0;
    uint64_t fired = 0;
    const auto t0 = Clock::now();
    for (size_t k = 0; k < ops; ++k) {
        now += step;
        q.arm(q.item(p[k]), now + d[(k + n) % d.size()]);
        size_t j = k;
        while (auto* t = q.pop_due(now)) {
            q.arm(*t, now + d[++j % d.size()]);
            ++fired;
        }
    }
    const auto t1 = Clock::now();
    sink = fired;
    return per_op(t0, t1, ops);
}

template <class Q>
double drain_ns(size_t n, const std::vector<uint64_t>& d)
{
    Q q(n);
    uint64_t count = 0;
    const auto t0 = Clock::now();
    for (size_t i = 0; i < n; ++i)
        q.arm(q.item(i), d[i]);
    for (size_t i = 0; i < n; ++i)
        count += q.pop() != nullptr;
    const auto t1 = Clock::now();
    sink = count;
    return per_op(t0, t1, n);
}

struct Spread {
    double median, low, high;
};

Spread spread(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

enum Which { tq, heap, tree, mmap, kinds };
const char* const names[kinds] = {"TimerQueue", "4-ary heap", "rb-tree", "multimap"};

/// One operation at one size: `rounds` rounds, each running every queue once
/// (in a rotating order, so no queue always runs first), `run(which)`
/// answering ns per operation.
template <class Run>
void measure(const char* op, size_t n, int rounds, bool with_multimap, double goal, Run run)
{
    std::vector<double> ns[kinds];
    std::vector<double> ratio[kinds]; // peer / TimerQueue, per round
    std::vector<double> best;         // fastest peer / TimerQueue, per round
    const int used = with_multimap ? kinds : mmap;
    for (int r = 0; r < rounds; ++r) {
        double x[kinds] = {};
        for (int i = 0; i < used; ++i) {
            const int w = (i + r) % used;
            x[w] = run(static_cast<Which>(w));
        }
        for (int w = 0; w < used; ++w) {
            ns[w].push_back(x[w]);
            ratio[w].push_back(x[w] / x[tq]);
        }
        best.push_back(std::min(x[heap], x[tree]) / x[tq]);
    }
    std::printf("%-8zu %-7s", n, op);
    for (int w = 0; w < used; ++w)
        std::printf(" %11.1f", spread(ns[w]).median);
    for (int w = heap; w < used; ++w) {
        const Spread s = spread(ratio[w]);
        std::printf("  %5.2fx", s.median);
    }
    const Spread b = spread(best);
    std::printf("  %5.2fx (%.2f-%.2f)", b.median, b.low, b.high);
    if (goal > 0)
        std::printf("  >= %.1fx: %s", goal, b.median >= goal ? "met" : "NOT MET");
    std::printf("\n");
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv)
{
    bool quick = false;
    bool with_multimap = false;
    int rounds = 0;
    std::vector<size_t> sizes = {1'000, 10'000, 100'000, 1'000'000};
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (std::strcmp(argv[i], "--multimap") == 0) {
            with_multimap = true;
        } else if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
            sizes.clear();
            for (char* s = argv[++i]; *s != '\0';) {
                char* end = nullptr;
                sizes.push_back(std::strtoull(s, &end, 10));
                s = *end == ',' ? end + 1 : end;
                if (end == s && *s != '\0')
                    break;
            }
        } else {
            std::fprintf(stderr, "usage: timer_bench [--quick] [--multimap] [--rounds N] [--sizes N,N,...]\n");
            return 2;
        }
    }
    if (sizes.empty() || std::find(sizes.begin(), sizes.end(), size_t{0}) != sizes.end()) {
        std::fprintf(stderr, "timer_bench: --sizes wants numbers above 0, separated by commas\n");
        return 2;
    }
    if (rounds <= 0)
        rounds = quick ? 3 : 5;
    if (quick)
        sizes.erase(std::remove_if(sizes.begin(), sizes.end(), [](size_t n) { return n > 100'000; }), sizes.end());

    std::printf("# timer queue: ns per operation, median of %d rounds; every queue runs in every round\n", rounds);
    std::printf("# ratio = peer ns / TimerQueue ns in the same round (above 1: TimerQueue faster), median;\n");
    std::printf("# best = the faster of 4-ary heap and rb-tree in each round: median (lowest-highest)\n");
    std::printf("# goals (issue 16): best >= 1.5x on re-arm, >= 1.0x on expiry, at every size\n");
    std::printf("%-8s %-7s", "timers", "op");
    const int used = with_multimap ? kinds : mmap;
    for (int w = 0; w < used; ++w)
        std::printf(" %11s", names[w]);
    std::printf("  %6s  %6s", "heap", "rb");
    if (with_multimap)
        std::printf("  %6s", "mmap");
    std::printf("  %s\n", "best");
    for (const size_t n : sizes) {
        const size_t ops = std::max<size_t>(n, quick ? 200'000 : 1'000'000);
        const auto d = deadlines(n + ops, n);
        const auto p = picks(ops, n, n + 1);
        measure("re-arm", n, rounds, with_multimap, 1.5, [&](Which w) {
            switch (w) {
            case tq: return rearm_ns<Intrusive>(n, ops, d, p);
            case heap: return rearm_ns<Heap>(n, ops, d, p);
            case tree: return rearm_ns<Tree>(n, ops, d, p);
            default: return rearm_ns<Multimap>(n, ops, d, p);
            }
        });
        measure("expiry", n, rounds, with_multimap, 1.0, [&](Which w) {
            switch (w) {
            case tq: return expiry_ns<Intrusive>(n, ops, d);
            case heap: return expiry_ns<Heap>(n, ops, d);
            case tree: return expiry_ns<Tree>(n, ops, d);
            default: return expiry_ns<Multimap>(n, ops, d);
            }
        });
        measure("churn", n, rounds, with_multimap, 0, [&](Which w) {
            switch (w) {
            case tq: return churn_ns<Intrusive>(n, ops, d, p);
            case heap: return churn_ns<Heap>(n, ops, d, p);
            case tree: return churn_ns<Tree>(n, ops, d, p);
            default: return churn_ns<Multimap>(n, ops, d, p);
            }
        });
        measure("drain", n, rounds, with_multimap, 0, [&](Which w) {
            switch (w) {
            case tq: return drain_ns<Intrusive>(n, d);
            case heap: return drain_ns<Heap>(n, d);
            case tree: return drain_ns<Tree>(n, d);
            default: return drain_ns<Multimap>(n, d);
            }
        });
    }
    return 0;
}
