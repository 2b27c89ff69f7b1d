// pvclock_scale against an independent reference on 10^7 random inputs:
// every int8 shift (weighted to Xen's -34..30), the whole 32-bit mul range,
// deltas of every bit length, and the overflow edge at 2^32 ns (4.295 s)
// after tsc_timestamp where a 64-bit product wraps.
#include <xen/time/pvclock.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>

namespace {

// Reference: the formula of public xen.h taken literally on a 256-bit
// integer held in four 64-bit words (little-endian): shift the delta (left
// or right), multiply by mul, drop 32 bits. No step can lose a bit.
using U256 = std::array<uint64_t, 4>;
__extension__ typedef unsigned __int128 u128;

U256 shl(const U256& v, int s)
{
    U256 r{};
    if (s >= 256)
        return r;
    const int words = s / 64, bits = s % 64;
    for (int i = 3; i >= words; --i) {
        r[i] = v[i - words] << bits;
        if (bits != 0 && i - words - 1 >= 0)
            r[i] |= v[i - words - 1] >> (64 - bits);
    }
    return r;
}

U256 shr(const U256& v, int s)
{
    U256 r{};
    if (s >= 256)
        return r;
    const int words = s / 64, bits = s % 64;
    for (int i = 0; i + words < 4; ++i) {
        r[i] = v[i + words] >> bits;
        if (bits != 0 && i + words + 1 < 4)
            r[i] |= v[i + words + 1] << (64 - bits);
    }
    return r;
}

U256 mul32(const U256& v, uint32_t m)
{
    U256 r{};
    u128 carry = 0;
    for (int i = 0; i < 4; ++i) {
        const u128 t = static_cast<u128>(v[i]) * m + carry;
        r[i] = static_cast<uint64_t>(t);
        carry = t >> 64;
    }
    return r;
}

uint64_t reference(uint64_t delta, uint32_t mul, int shift)
{
    U256 v{delta, 0, 0, 0};
    v = shift >= 0 ? shl(v, shift) : shr(v, -shift);
    v = shr(mul32(v, mul), 32);
    if (v[1] != 0 || v[2] != 0 || v[3] != 0)
        return ~uint64_t{0}; // past 64 bits: the library saturates
    return v[0];
}

uint64_t random_delta(std::mt19937_64& rng)
{
    const int bits = static_cast<int>(rng() % 65); // 0..64 significant bits
    return bits == 0 ? 0 : (bits == 64 ? rng() : rng() & ((uint64_t{1} << bits) - 1));
}

} // namespace

TEST_CASE("pvclock_scale: equals the 256-bit reference on 10^7 random inputs across every int8 shift", "[clock][scale]")
{
    constexpr uint64_t samples = 10'000'000;
    std::mt19937_64 rng(0xc10c'5ca1e);
    uint64_t mismatches = 0, in_xen_range = 0;
    std::array<uint64_t, 256> per_shift{};
    for (uint64_t i = 0; i < samples; ++i) {
        const uint64_t delta = random_delta(rng);
        const uint32_t mul = static_cast<uint32_t>(rng());
        // Three in four in Xen's range (set_time_scale gives -34..30), the
        // rest anywhere in int8.
        const int shift = (i % 4 != 0) ? static_cast<int>(rng() % 65) - 34 : static_cast<int>(rng() % 256) - 128;
        in_xen_range += (shift >= -34 && shift <= 30);
        ++per_shift[static_cast<size_t>(shift + 128)];
        const uint64_t got = xen::pvclock_scale(delta, mul, static_cast<int8_t>(shift));
        const uint64_t want = reference(delta, mul, shift);
        if (got != want && ++mismatches <= 5)
            UNSCOPED_INFO("delta=" << delta << " mul=" << mul << " shift=" << shift << " got=" << got
                                   << " want=" << want);
    }
    REQUIRE(mismatches == 0);
    REQUIRE(in_xen_range >= samples / 2);
    for (uint64_t n : per_shift)
        REQUIRE(n > 0); // every shift was exercised
}

TEST_CASE("pvclock_scale: exact on both sides of the 4.295 s edge for Xen's scales of real TSC rates", "[clock][scale]")
{
    // Xen's set_time_scale for these rates: bring ticks/s into (1e9, 2e9] by
    // powers of two, mul = 1e9 * 2^32 / that.
    for (uint64_t hz : {1'000'000'000ull, 1'999'999'999ull, 2'400'000'000ull, 3'000'000'000ull, 4'700'000'000ull}) {
        uint64_t tps = hz;
        int shift = 0;
        while (tps > 2'000'000'000ull) {
            tps >>= 1;
            --shift;
        }
        while (tps <= 1'000'000'000ull) {
            tps <<= 1;
            ++shift;
        }
        const auto mul = static_cast<uint32_t>((uint64_t{1'000'000'000} << 32) / tps);
        // Ticks for 2^32 ns, then a window of deltas around it and far past it.
        const uint64_t edge = static_cast<uint64_t>((static_cast<u128>(uint64_t{1} << 32) * hz) / 1'000'000'000);
        uint64_t wrapped_naive = 0;
        for (int64_t k = -100'000; k <= 100'000; ++k) {
            const uint64_t d = edge + static_cast<uint64_t>(k * 997);
            REQUIRE(xen::pvclock_scale(d, mul, static_cast<int8_t>(shift)) == reference(d, mul, shift));
            const uint64_t shifted = shift >= 0 ? d << shift : d >> -shift;
            const u128 wide = static_cast<u128>(shifted) * mul;
            wrapped_naive += (wide >> 64) != 0; // a 64-bit product would have lost these bits
        }
        INFO("hz " << hz);
        REQUIRE(wrapped_naive > 0);
        for (uint64_t seconds : {5ull, 60ull, 3600ull, 86'400ull * 365}) {
            const uint64_t d = hz * seconds;
            const uint64_t ns = xen::pvclock_scale(d, mul, static_cast<int8_t>(shift));
            REQUIRE(ns == reference(d, mul, shift));
            REQUIRE(ns <= seconds * 1'000'000'000);
            REQUIRE(seconds * 1'000'000'000 - ns <= seconds * 1'000'000'000 / 1'000'000 + 2); // within 1 ppm
        }
    }
}

TEST_CASE("pvclock_time_at: equals system_time + the reference (saturating, clamped) on 5 x 10^6 random records",
          "[clock][scale]")
{
    // pvclock_time_at has a short path for shift <= 0 with the TSC at or
    // past the stamp (every Xen record of a 1 GHz+ TSC) and the general one
    // for the rest: both must give the formula's value.
    constexpr uint64_t samples = 5'000'000;
    std::mt19937_64 rng(0x71e'a7);
    uint64_t mismatches = 0, short_path = 0;
    for (uint64_t i = 0; i < samples; ++i) {
        const uint64_t stamp = rng();
        const uint64_t delta = random_delta(rng);
        // Half the TSCs at or past the stamp by `delta`, a quarter before
        // it, a quarter anywhere (the distance then reads as signed).
        const uint64_t tsc = i % 4 < 2 ? stamp + delta : (i % 4 == 2 ? stamp - delta : rng());
        const uint32_t mul = static_cast<uint32_t>(rng());
        const int shift = (i % 4 != 3) ? static_cast<int>(rng() % 65) - 34 : static_cast<int>(rng() % 256) - 128;
        // System times small, near the top (saturation), and anywhere.
        const uint64_t base = i % 3 == 0 ? rng() >> 20 : (i % 3 == 1 ? ~uint64_t{0} - (rng() >> 30) : rng());
        const xen::PvclockRecord r{stamp, base, mul, static_cast<int8_t>(shift), 0};
        const uint64_t distance = tsc - stamp;
        const uint64_t counted = static_cast<int64_t>(distance) > 0 ? distance : 0;
        const uint64_t scaled = reference(counted, mul, shift);
        const uint64_t want = scaled > ~uint64_t{0} - base ? ~uint64_t{0} : base + scaled;
        short_path += static_cast<int64_t>(distance) >= 0 && shift <= 0 && shift > -64;
        const uint64_t got = xen::pvclock_time_at(r, tsc);
        if (got != want && ++mismatches <= 5)
            UNSCOPED_INFO("stamp=" << stamp << " tsc=" << tsc << " base=" << base << " mul=" << mul
                                   << " shift=" << shift << " got=" << got << " want=" << want);
    }
    REQUIRE(mismatches == 0);
    REQUIRE(short_path >= samples / 4);
    REQUIRE(short_path <= samples - samples / 5);
}
