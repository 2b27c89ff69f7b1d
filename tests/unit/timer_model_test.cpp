// The timer driver against the sorted-list model (tests/fuzz/timer_model.hpp):
// over a million random operations, and every short sequence exhaustively.
#include "../fuzz/timer_model.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <vector>

using timer_model::Harness;
using timer_model::Op;
using timer_model::OpKind;
using timer_model::Options;

namespace {

void report(const Harness& h)
{
    for (const auto& f : h.failures())
        UNSCOPED_INFO(f);
}

/// A random operation, weighted towards what exercises the queue most.
Op random_op(std::mt19937_64& rng)
{
    // arm cancel advance tick deliver early drop etime idle down up adopt
    static constexpr unsigned weights[] = {30, 10, 8, 10, 8, 5, 3, 3, 10, 3, 4, 3};
    static_assert(sizeof(weights) / sizeof(weights[0]) == static_cast<size_t>(OpKind::count));
    unsigned total = 0;
    for (unsigned w : weights)
        total += w;
    unsigned pick = static_cast<unsigned>(rng() % total);
    unsigned kind = 0;
    while (pick >= weights[kind])
        pick -= weights[kind++];
    const uint64_t r = rng();
    return Op{static_cast<OpKind>(kind), static_cast<uint8_t>(r), static_cast<uint8_t>(r >> 8),
              static_cast<uint8_t>(r >> 16)};
}

} // namespace

TEST_CASE("TimerDriver model: a million random operations, none early, lost, doubled or out of order")
{
    const xen::sim::Version versions[] = {xen::sim::xen_4_17_2, xen::sim::xen_4_17_7, xen::sim::xen_4_20};
    std::mt19937_64 rng(20240611);
    uint64_t ops = 0, fires = 0, arms = 0, refused = 0;
    constexpr uint64_t target_ops = 1'000'000;
    constexpr uint64_t per_run = 50'000;
    for (int run = 0; ops < target_ops; ++run) {
        Options o;
        o.version = versions[run % 3];
        o.timer_slop_ns = run % 2 == 0 ? 0 : 50'000;
        o.vcpus = 1 + static_cast<uint32_t>(run % 4);
        o.timers = (run / 4) % 3 == 0 ? 3 : ((run / 4) % 3 == 1 ? 16 : 64);
        o.pvclock = run % 5 != 0;
        Harness h(o);
        for (uint64_t i = 0; i < per_run; ++i) {
            h.apply(random_op(rng));
            // A full drain now and then: everything armed so far must run exactly once.
            if (i % 10'000 == 9'999)
                h.drain();
            if (!h.ok())
                break;
        }
        h.drain();
        report(h);
        INFO("run " << run << ": vcpus " << o.vcpus << ", timers " << o.timers << ", slop " << o.timer_slop_ns
                    << ", pvclock " << o.pvclock << ", Xen " << o.version.major << "." << o.version.minor << "."
                    << o.version.patch);
        REQUIRE(h.ok());
        ops += h.totals().ops;
        fires += h.totals().fires;
        arms += h.totals().arms;
        refused += h.totals().refused;
    }
    CHECK(ops >= target_ops);
    // The runs must have done real work, not a million no-ops.
    CHECK(arms > ops / 5);
    CHECK(fires > ops / 10);
    CHECK(refused > 0);
}

TEST_CASE("TimerDriver model: every sequence of up to 6 operations over 3 timers")
{
    // The alphabet (10 operations, 1,111,111 sequences): arm each timer at
    // +1 us, or at +1 us with 1 us of slack (same deadline, later latest
    // time; arming two timers in a row makes ties), cancel each, and let
    // 1 us pass and take the upcall. Early, lost and -ETIME events, hotplug
    // and adopt are in the random test above.
    std::vector<Op> alphabet;
    for (uint8_t t = 0; t < 3; ++t) {
        alphabet.push_back(Op{OpKind::arm, 0, t, 3});    // +1000 ns
        alphabet.push_back(Op{OpKind::arm, 0, t, 0x23}); // +1000 ns, slack 1000 ns
        alphabet.push_back(Op{OpKind::cancel, 0, t, 0});
    }
    alphabet.push_back(Op{OpKind::tick, 0, 0, 1}); // +1000 ns, then deliver
    const size_t k = alphabet.size();

    Options o;
    o.vcpus = 1;
    o.timers = 3;
    o.pvclock = false;
    Harness h(o);
    uint64_t sequences = 0;
    std::vector<size_t> seq;
    for (size_t length = 0; length <= 6; ++length) {
        seq.assign(length, 0);
        for (;;) {
            for (size_t i : seq)
                h.apply(alphabet[i]);
            h.drain();
            ++sequences;
            if (!h.ok()) {
                std::string s;
                for (size_t i : seq)
                    s += std::to_string(i) + " ";
                report(h);
                INFO("sequence: " << s);
                REQUIRE(h.ok());
            }
            // Next sequence of this length (odometer).
            size_t pos = 0;
            while (pos < length && ++seq[pos] == k)
                seq[pos++] = 0;
            if (pos == length)
                break;
        }
    }
    uint64_t expected = 0, power = 1;
    for (int l = 0; l <= 6; ++l, power *= k)
        expected += power;
    CHECK(sequences == expected);
}
