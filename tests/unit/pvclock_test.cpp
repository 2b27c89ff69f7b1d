// pvclock: the scaling arithmetic against an independent reference, and the
// version seqlock against a writer that follows Xen's update protocol.
#include <xen/time/pvclock.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <support/pace.hpp>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>

using xen::Errc;
using xen::pvclock_scale;

namespace {

// Reference: the public formula taken literally, ((delta << shift) * mul) >> 32,
// on a 288-bit number of 32-bit limbs (little-endian), so no step can lose a
// bit; results past 64 bits saturate like the library's.
struct Wide {
    static constexpr int limbs = 9;
    uint32_t n[limbs]{};

    void shift_left(int s)
    {
        const int by_limbs = s / 32, by_bits = s % 32;
        for (int i = limbs - 1; i >= 0; --i) {
            const int src = i - by_limbs;
            uint64_t v = 0;
            if (src >= 0) {
                v = uint64_t{n[src]} << by_bits;
                if (by_bits != 0 && src >= 1)
                    v |= n[src - 1] >> (32 - by_bits);
            }
            n[i] = static_cast<uint32_t>(v);
        }
    }
    void shift_right(int s)
    {
        const int by_limbs = s / 32, by_bits = s % 32;
        for (int i = 0; i < limbs; ++i) {
            const int src = i + by_limbs;
            uint64_t v = 0;
            if (src < limbs) {
                v = n[src] >> by_bits;
                if (by_bits != 0 && src + 1 < limbs)
                    v |= uint64_t{n[src + 1]} << (32 - by_bits);
            }
            n[i] = static_cast<uint32_t>(v);
        }
    }
    void multiply(uint32_t m)
    {
        uint64_t carry = 0;
        for (auto& limb : n) {
            const uint64_t t = uint64_t{limb} * m + carry;
            limb = static_cast<uint32_t>(t);
            carry = t >> 32;
        }
    }
};

uint64_t reference_scale(uint64_t delta, uint32_t mul, int shift)
{
    Wide w;
    w.n[0] = static_cast<uint32_t>(delta);
    w.n[1] = static_cast<uint32_t>(delta >> 32);
    if (shift < 0)
        w.shift_right(-shift);
    else
        w.shift_left(shift);
    w.multiply(mul);
    w.shift_right(32);
    for (int i = 2; i < Wide::limbs; ++i)
        if (w.n[i] != 0)
            return ~uint64_t{0};
    return (uint64_t{w.n[1]} << 32) | w.n[0];
}

/// Xen's time scale for a TSC of `hz` ticks per second (the rule of
/// set_time_scale: normalise to (1e9, 2e9] ticks by halving or doubling,
/// counting the shift, then mul = 1e9 / normalised as a 0.32 fraction).
struct Scale {
    uint32_t mul;
    int8_t shift;
};
Scale xen_time_scale(uint64_t hz)
{
    int shift = 0;
    while (hz > 2'000'000'000ull) {
        hz >>= 1;
        --shift;
    }
    uint32_t tps = static_cast<uint32_t>(hz);
    while (tps <= 1'000'000'000u) {
        tps <<= 1;
        ++shift;
    }
    return {static_cast<uint32_t>((1'000'000'000ull << 32) / tps), static_cast<int8_t>(shift)};
}

/// Deltas that matter: any 64-bit value, ones below 2^32, ones near the
/// 2^32 ns (4.295 s) wrap of a 64-bit product, and log-uniform sizes.
uint64_t random_delta(std::mt19937_64& rng)
{
    switch (rng() % 4) {
    case 0: return rng();
    case 1: return rng() & 0xffff'ffffu;
    case 2: return (uint64_t{1 + rng() % 8} << 32) + (rng() % (1u << 21)) - (1u << 20);
    default: return rng() >> (rng() % 64);
    }
}

uint32_t random_mul(std::mt19937_64& rng)
{
    // Half in Xen's range [2^31, 2^32), half anywhere.
    const uint32_t m = static_cast<uint32_t>(rng());
    return (rng() & 1) != 0 ? (m | 0x8000'0000u) : m;
}

constexpr uint64_t scale_samples = 1'000'000;

} // namespace

TEST_CASE("pvclock_scale: matches the 288-bit reference on 10^6 random inputs over Xen's shifts -34..30", "[pvclock]")
{
    std::mt19937_64 rng(0x5eed'c10c);
    uint64_t mismatches = 0;
    for (uint64_t i = 0; i < scale_samples; ++i) {
        const uint64_t delta = random_delta(rng);
        const uint32_t mul = random_mul(rng);
        const int shift = static_cast<int>(rng() % 65) - 34;
        const uint64_t got = pvclock_scale(delta, mul, static_cast<int8_t>(shift));
        const uint64_t want = reference_scale(delta, mul, shift);
        if (got != want) {
            if (++mismatches <= 5)
                UNSCOPED_INFO("delta=" << delta << " mul=" << mul << " shift=" << shift << " got=" << got
                                       << " want=" << want);
        }
    }
    REQUIRE(mismatches == 0);
}

TEST_CASE("pvclock_scale: matches the reference for every int8 shift, including ones Xen never uses", "[pvclock]")
{
    std::mt19937_64 rng(0xa115'1f7);
    uint64_t mismatches = 0;
    for (int shift = -128; shift <= 127; ++shift) {
        for (int i = 0; i < 2000; ++i) {
            const uint64_t delta = random_delta(rng);
            const uint32_t mul = random_mul(rng);
            if (pvclock_scale(delta, mul, static_cast<int8_t>(shift)) != reference_scale(delta, mul, shift))
                ++mismatches;
        }
        REQUIRE(pvclock_scale(0, 0xffff'ffffu, static_cast<int8_t>(shift)) == 0);
    }
    REQUIRE(mismatches == 0);
}

TEST_CASE("pvclock_scale: no overflow more than 4.295 s after tsc_timestamp", "[pvclock]")
{
    // 1 GHz: Xen's scale is shift +1, mul 2^31; one tick is one ns.
    const Scale ghz = xen_time_scale(1'000'000'000);
    REQUIRE(ghz.shift == 1);
    REQUIRE(ghz.mul == 0x8000'0000u);
    const uint64_t five_s = 5'000'000'000;
    REQUIRE(pvclock_scale(five_s, ghz.mul, ghz.shift) == five_s);
    // The 64-bit product a naive reader computes has wrapped by then.
    const uint64_t naive = ((five_s << ghz.shift) * ghz.mul) >> 32;
    REQUIRE(naive != five_s);

    // 3 GHz (shift -1): one hour of ticks is one hour, to 1 ppm.
    const Scale three = xen_time_scale(3'000'000'000);
    REQUIRE(three.shift == -1);
    const uint64_t hour_ns = 3'600'000'000'000;
    const uint64_t got = pvclock_scale(3 * hour_ns, three.mul, three.shift);
    REQUIRE(got <= hour_ns);
    REQUIRE(hour_ns - got < hour_ns / 1'000'000);

    // Any delta at all: a century of 3 GHz ticks still scales exactly.
    const uint64_t century = 3'000'000'000ull * 3600 * 24 * 36525;
    REQUIRE(pvclock_scale(century, three.mul, three.shift) == reference_scale(century, three.mul, three.shift));
}

TEST_CASE("pvclock_scale: a result past 64 bits saturates instead of wrapping", "[pvclock]")
{
    REQUIRE(pvclock_scale(~uint64_t{0}, 0xffff'ffffu, 30) == ~uint64_t{0});
    REQUIRE(pvclock_scale(1, 1, 127) == ~uint64_t{0});
    REQUIRE(pvclock_scale(~uint64_t{0}, 0xffff'ffffu, 0) == reference_scale(~uint64_t{0}, 0xffff'ffffu, 0));
    REQUIRE(pvclock_scale(~uint64_t{0}, 0xffff'ffffu, -128) == 0);
}

TEST_CASE("pvclock_scale: Xen's scale for real TSC frequencies keeps shift within -34..30", "[pvclock]")
{
    for (uint64_t hz : {1ull, 1'000'000ull, 100'000'000ull, 999'999'999ull, 1'000'000'000ull, 2'000'000'000ull,
                        2'000'000'001ull, 3'600'000'000ull, 10'000'000'000ull, ~0ull}) {
        const Scale s = xen_time_scale(hz);
        INFO("hz " << hz);
        REQUIRE(s.shift >= -34);
        REQUIRE(s.shift <= 30);
        REQUIRE(s.mul >= 0x8000'0000u);
        // One second of ticks is one second, to 2 ns (mul and the final shift each floor).
        if (hz >= 1'000'000) {
            const uint64_t ns = pvclock_scale(hz, s.mul, s.shift);
            REQUIRE(ns <= 1'000'000'000);
            REQUIRE(1'000'000'000 - ns <= 2);
        }
    }
}

TEST_CASE("pvclock_time_at: a TSC below tsc_timestamp counts as no time passed", "[pvclock]")
{
    const xen::PvclockRecord r{1'000'000, 5'000'000'000, 0x8000'0000u, 1, 0};
    REQUIRE(xen::pvclock_time_at(r, 999'999) == 5'000'000'000);
    REQUIRE(xen::pvclock_time_at(r, 0) == 5'000'000'000);
    REQUIRE(xen::pvclock_time_at(r, 1'000'000) == 5'000'000'000);
    REQUIRE(xen::pvclock_time_at(r, 1'000'123) == 5'000'000'123);
}

TEST_CASE("pvclock_time_at: a record stamped before guest TSC zero still counts forward", "[pvclock]")
{
    // As seen on a PVH dom0 under Xen 4.17: the first record's tsc_timestamp
    // is 2^64 - 520234913 in guest TSC terms while the TSC reads 463424438.
    const uint64_t stamp = ~uint64_t{0} - 520'234'912;                    // 2^64 - 520234913
    const xen::PvclockRecord r{stamp, 7'000'000'000, 0x8000'0000u, 1, 0}; // 1 ns per tick
    REQUIRE(xen::pvclock_time_at(r, 463'424'438) == 7'000'000'000 + 983'659'351);
    REQUIRE(xen::pvclock_time_at(r, stamp - 5) == 7'000'000'000);
}

namespace {
xen::abi::vcpu_time_info record(uint32_t version, uint64_t tsc_ts, uint64_t system_time, uint32_t mul, int8_t shift,
                                uint8_t flags)
{
    xen::abi::vcpu_time_info t{};
    t.version = version;
    t.tsc_timestamp = tsc_ts;
    t.system_time = system_time;
    t.tsc_to_system_mul = mul;
    t.tsc_shift = shift;
    t.flags = flags;
    return t;
}
} // namespace

TEST_CASE("pvclock_read: system_time plus the scaled TSC delta, with the record's flags", "[pvclock]")
{
    auto t = record(4, 1000, 7'000'000'000, 0x8000'0000u, 1, xen::abi::pvclock_tsc_stable);
    auto r = xen::pvclock_read(t, [] { return uint64_t{1500}; });
    REQUIRE(r.has_value());
    REQUIRE(r->system_time_ns == 7'000'000'500);
    REQUIRE(r->flags == xen::abi::pvclock_tsc_stable);
}

TEST_CASE("pvclock_read: a record rewritten during the read is read again, not accepted", "[pvclock]")
{
    auto t = record(2, 0, 1'000, 0x8000'0000u, 1, 0);
    int tsc_reads = 0;
    auto tsc = [&] {
        if (++tsc_reads == 1) {
            // Xen updates the record between our field loads and the
            // version re-check: odd, new body, even.
            t.version = 3;
            t.system_time = 9'000;
            t.flags = xen::abi::pvclock_guest_stopped;
            t.version = 4;
        }
        return uint64_t{10};
    };
    auto r = xen::pvclock_read(t, tsc);
    REQUIRE(r.has_value());
    REQUIRE(tsc_reads == 2);
    REQUIRE(r->system_time_ns == 9'010);
    REQUIRE(r->flags == xen::abi::pvclock_guest_stopped);
}

TEST_CASE("pvclock_read: a version left odd gives busy_retry after the bounded attempts", "[pvclock]")
{
    auto t = record(7, 0, 1'000, 0x8000'0000u, 1, 0);
    int tsc_reads = 0;
    auto r = xen::pvclock_read(
        t, [&] { return uint64_t(++tsc_reads); }, 50);
    REQUIRE_FALSE(r.has_value());
    REQUIRE(r.error() == Errc::busy_retry);
    REQUIRE(tsc_reads == 0); // never sampled against a record mid-update
}

namespace {
// Generation g of the writer's record. Every field depends on g, so a read
// mixing two generations gives a time that matches no generation.
constexpr uint64_t reader_tsc = 0x20'0000;
xen::PvclockRecord generation(uint64_t g)
{
    return xen::PvclockRecord{
        (g * 40503) & 0xf'ffff,                                // tsc_timestamp < reader_tsc
        g << 32,                                               // system_time: g in the high half
        0x8000'0000u | static_cast<uint32_t>(g * 2654435761u), // mul
        static_cast<int8_t>(static_cast<int>(g % 7) - 3),      // shift -3..3
        static_cast<uint8_t>(g & 3),                           // flags
    };
}
} // namespace

TEST_CASE("pvclock_read: never accepts a torn record while a writer follows Xen's version protocol",
          "[pvclock][concurrency]")
{
    xen::abi::vcpu_time_info t{};
    {
        auto g0 = generation(0);
        t = record(0, g0.tsc_timestamp, g0.system_time, g0.tsc_to_system_mul, g0.tsc_shift, g0.flags);
    }
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> writes{0};
    std::thread writer([&] {
        // Xen's order: version odd; body; version even (each store ordered
        // after the one before, as x86 stores are).
        for (uint64_t g = 1; !stop.load(std::memory_order_relaxed); ++g) {
            const auto r = generation(g);
            __atomic_store_n(&t.version, static_cast<uint32_t>(2 * g - 1), __ATOMIC_RELEASE);
            __atomic_store_n(&t.tsc_timestamp, r.tsc_timestamp, __ATOMIC_RELEASE);
            __atomic_store_n(&t.system_time, r.system_time, __ATOMIC_RELEASE);
            __atomic_store_n(&t.tsc_to_system_mul, r.tsc_to_system_mul, __ATOMIC_RELEASE);
            __atomic_store_n(&t.tsc_shift, r.tsc_shift, __ATOMIC_RELEASE);
            __atomic_store_n(&t.flags, r.flags, __ATOMIC_RELEASE);
            __atomic_store_n(&t.version, static_cast<uint32_t>(2 * g), __ATOMIC_RELEASE);
            writes.fetch_add(1, std::memory_order_relaxed);
        }
    });

    // 200,000 reads, and then on until the reader has seen this many
    // generations, so that it really raced the writer: past its reads it
    // waits for the writer to finish the generation after the one it read
    // last (on a busy host the writer may not have run at all yet).
    constexpr int reads = 200'000;
    constexpr uint64_t wanted_generations = 100;
    int accepted = 0, busy = 0, torn = 0;
    uint64_t generations_seen = 0, last_g = 0;
    for (int i = 0; i < reads || generations_seen < wanted_generations; ++i) {
        if (i >= reads)
            xen::test::wait_until([&] { return writes.load(std::memory_order_relaxed) > last_g; });
        auto r = xen::pvclock_read(t, [] { return reader_tsc; });
        if (!r.has_value()) {
            REQUIRE(r.error() == Errc::busy_retry);
            ++busy;
            continue;
        }
        ++accepted;
        const uint64_t g = r->system_time_ns >> 32;
        const auto want = generation(g);
        if (r->system_time_ns != xen::pvclock_time_at(want, reader_tsc) || r->flags != want.flags) {
            ++torn; // and no generation to wait on
            continue;
        }
        if (g != last_g)
            ++generations_seen;
        last_g = g;
    }
    stop.store(true);
    writer.join();

    INFO("accepted " << accepted << ", busy " << busy << ", generations seen " << generations_seen);
    REQUIRE(torn == 0);
    REQUIRE(generations_seen >= wanted_generations);
}

// --- against the simulated Xen ---------------------------------------------

TEST_CASE("pvclock_read: follows the simulated Xen's clock, also long after the record's tsc_timestamp",
          "[pvclock][sim]")
{
    xen::sim::Hypervisor hv;
    xen::sim::Scope scope(hv, xen::VcpuId{0});
    const auto& ti = hv.vcpu_info(xen::VcpuId{0}).time;
    auto within = [&](uint64_t t) {
        // The simulated TSC is Xen's time scaled back, rounded down: the
        // read may trail NOW() by a few ns, never lead it.
        INFO("pvclock " << t << ", Xen " << hv.now());
        REQUIRE(t <= hv.now());
        REQUIRE(hv.now() - t < 4);
    };
    within(xen::pvclock_read(ti, xen::sim::rdtsc).value().system_time_ns);
    hv.advance(1'000'000'000);
    within(xen::pvclock_read(ti, xen::sim::rdtsc).value().system_time_ns);
    hv.advance(10'000'000'000); // the record is now 11 s old: past the 2^32 ns wrap
    within(xen::pvclock_read(ti, xen::sim::rdtsc).value().system_time_ns);
}

TEST_CASE("pvclock_read: between the steps of Xen's update it refuses the record; after them it reads the new one",
          "[pvclock][sim]")
{
    xen::sim::Hypervisor hv;
    xen::sim::Scope scope(hv, xen::VcpuId{0});
    const auto& ti = hv.vcpu_info(xen::VcpuId{0}).time;
    hv.advance(5'000'000'000);
    auto writer = hv.begin_time_update(xen::VcpuId{0});
    REQUIRE(writer.step()); // version odd
    CHECK(xen::pvclock_read(ti, xen::sim::rdtsc, 8).error() == Errc::busy_retry);
    REQUIRE(writer.step()); // body written, version still odd
    CHECK(xen::pvclock_read(ti, xen::sim::rdtsc, 8).error() == Errc::busy_retry);
    REQUIRE(writer.step()); // version even
    REQUIRE(writer.done());
    auto r = xen::pvclock_read(ti, xen::sim::rdtsc, 8);
    REQUIRE(r.has_value());
    CHECK(r->system_time_ns <= hv.now());
    CHECK(hv.now() - r->system_time_ns < 4);
}
