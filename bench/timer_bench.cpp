// Timer queue throughput: xen::TimerQueue (intrusive radix wheel) against a
// std::multimap queue (what a kernel without an intrusive queue would
// write), measured in the same run at 10^3 .. 10^6 armed timers.
//
// - re-arm: cancel a random armed timer and arm it again at a random
//   deadline (a timeout pushed back: arm + cancel at a random place);
// - expiry: take the earliest timer and arm it again a random time later
//   (the "hold" model of a steady stream of expiries);
// - drain: arm n timers, then expire them all.
//
// Prints ns per operation (median of several rounds) and the ratio
// multimap / TimerQueue. Not a test: figures depend on the machine; build
// without sanitizers for meaningful numbers.
//
//   timer_bench [--quick]
#include <xen/time/timer_queue.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

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
    static uint64_t deadline(const Item& t) { return t.deadline; }
    Map q;
    std::vector<std::unique_ptr<Item>> items;
};

volatile uint64_t sink;

template <class Q>
double rearm_ns(size_t n, size_t ops, const std::vector<uint64_t>& d, const std::vector<uint32_t>& p)
{
    Q q(n);
    for (size_t i = 0; i < n; ++i)
        q.arm(q.item(i), d[i]);
    const auto t0 = Clock::now();
    for (size_t k = 0; k < ops; ++k) {
        auto& t = q.item(p[k]);
        q.cancel(t);
        q.arm(t, d[(k + n) % d.size()]);
    }
    const auto t1 = Clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(ops);
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
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(ops);
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
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n);
}

template <class F>
double median_of(int rounds, F f)
{
    std::vector<double> v;
    for (int r = 0; r < rounds; ++r)
        v.push_back(f());
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const int rounds = quick ? 3 : 5;
    std::printf("# timer queue: ns per operation, median of %d rounds; ratio = multimap / TimerQueue\n", rounds);
    std::printf("%-9s %-8s %12s %12s %8s\n", "timers", "op", "TimerQueue", "multimap", "ratio");
    for (size_t n : {size_t{1'000}, size_t{10'000}, size_t{100'000}, size_t{1'000'000}}) {
        if (quick && n > 100'000)
            break;
        const size_t ops = std::max<size_t>(n, quick ? 200'000 : 1'000'000);
        const auto d = deadlines(n + ops, n);
        const auto p = picks(ops, n, n + 1);
        const double ra = median_of(rounds, [&] { return rearm_ns<Intrusive>(n, ops, d, p); });
        const double rb = median_of(rounds, [&] { return rearm_ns<Multimap>(n, ops, d, p); });
        std::printf("%-9zu %-8s %12.1f %12.1f %7.2fx\n", n, "re-arm", ra, rb, rb / ra);
        const double ea = median_of(rounds, [&] { return expiry_ns<Intrusive>(n, ops, d); });
        const double eb = median_of(rounds, [&] { return expiry_ns<Multimap>(n, ops, d); });
        std::printf("%-9zu %-8s %12.1f %12.1f %7.2fx\n", n, "expiry", ea, eb, eb / ea);
        const double da = median_of(rounds, [&] { return drain_ns<Intrusive>(n, d); });
        const double db = median_of(rounds, [&] { return drain_ns<Multimap>(n, d); });
        std::printf("%-9zu %-8s %12.1f %12.1f %7.2fx\n", n, "drain", da, db, db / da);
        std::fflush(stdout);
    }
    return 0;
}
