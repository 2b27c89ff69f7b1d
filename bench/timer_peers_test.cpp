// The benchmark's peer queues (timer_peers.hpp) against a reference model,
// so that timer_bench compares xen::TimerQueue with correct queues: random
// arm / re-arm / cancel / pop sequences, ties included, checked operation
// by operation against a std::set of (deadline, arming order), with the
// heap's and the tree's own invariants checked as they go.
#include "timer_peers.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace {

struct HeapPeer {
    using Item = bench::HeapTimer;
    explicit HeapPeer(size_t n) : q(n), items(n) {}
    bench::QuadHeap q;
    std::vector<Item> items;
};

struct TreePeer {
    using Item = bench::RbTimer;
    explicit TreePeer(size_t n) : items(n) {}
    bench::RbTree q;
    std::vector<Item> items;
};

/// `ops` random operations on `n` timers with deadlines in [0, range): a
/// small range makes many ties. Every result is compared with the model.
template <class Peer>
void against_model(size_t n, uint64_t range, size_t ops, uint64_t seed, size_t check_every)
{
    Peer p(n);
    using Key = std::pair<uint64_t, uint64_t>; // deadline, arming order
    std::set<std::pair<Key, size_t>> model;
    std::vector<Key> key(n);
    std::vector<bool> armed(n, false);
    uint64_t seq = 0;
    std::mt19937_64 rng(seed);

    const auto index = [&](const typename Peer::Item* t) { return static_cast<size_t>(t - p.items.data()); };

    for (size_t k = 0; k < ops; ++k) {
        const size_t i = rng() % n;
        switch (rng() % 8) {
        case 0:
        case 1:
        case 2: { // arm, or re-arm if armed
            const uint64_t d = rng() % range;
            if (armed[i])
                model.erase({key[i], i});
            key[i] = {d, seq++};
            armed[i] = true;
            model.insert({key[i], i});
            p.q.arm(p.items[i], d);
            break;
        }
        case 3:
        case 4: { // cancel
            const bool was = p.q.cancel(p.items[i]);
            REQUIRE(was == armed[i]);
            if (armed[i])
                model.erase({key[i], i});
            armed[i] = false;
            break;
        }
        case 5:
        case 6: { // pop
            auto* t = p.q.pop();
            if (model.empty()) {
                REQUIRE(t == nullptr);
                break;
            }
            REQUIRE(t != nullptr);
            const auto want = model.begin()->second;
            REQUIRE(index(t) == want);
            REQUIRE_FALSE(t->armed());
            model.erase(model.begin());
            armed[want] = false;
            break;
        }
        default: { // first
            auto* t = p.q.first();
            if (model.empty())
                REQUIRE(t == nullptr);
            else
                REQUIRE((t != nullptr && index(t) == model.begin()->second));
            break;
        }
        }
        REQUIRE(p.q.size() == model.size());
        REQUIRE(p.items[i].armed() == armed[i]);
        if (k % check_every == 0)
            REQUIRE(p.q.valid());
    }
    REQUIRE(p.q.valid());
    // Drain: everything left comes out in the model's order.
    for (const auto& [k, want] : model) {
        auto* t = p.q.pop();
        REQUIRE(t != nullptr);
        REQUIRE(index(t) == want);
    }
    REQUIRE(p.q.pop() == nullptr);
    REQUIRE(p.q.valid());
}

template <class Peer>
void in_order_and_ties()
{
    Peer p(6);
    const uint64_t d[] = {50, 10, 40, 10, 30, 10};
    for (size_t i = 0; i < 6; ++i)
        p.q.arm(p.items[i], d[i]);
    // Re-arming timer 1 at the same deadline moves it behind 3 and 5.
    p.q.arm(p.items[1], 10);
    std::vector<size_t> out;
    while (auto* t = p.q.pop())
        out.push_back(static_cast<size_t>(t - p.items.data()));
    CHECK(out == std::vector<size_t>{3, 5, 1, 4, 2, 0});
}

} // namespace

TEST_CASE("QuadHeap: deadline order, ties in arming order") { in_order_and_ties<HeapPeer>(); }

TEST_CASE("RbTree: deadline order, ties in arming order") { in_order_and_ties<TreePeer>(); }

TEST_CASE("QuadHeap: random operations against a sorted model")
{
    against_model<HeapPeer>(8, 4, 20'000, 1, 1);     // tiny: every shape, many ties
    against_model<HeapPeer>(100, 50, 200'000, 2, 7); // ties and re-arms
    against_model<HeapPeer>(5'000, 1u << 30, 200'000, 3, 5'000);
}

TEST_CASE("RbTree: random operations against a sorted model")
{
    against_model<TreePeer>(8, 4, 20'000, 4, 1);
    against_model<TreePeer>(100, 50, 200'000, 5, 7);
    against_model<TreePeer>(5'000, 1u << 30, 200'000, 6, 5'000);
}
