/// \file
/// pvclock: Xen system time from a vcpu_time_info record and the TSC.
///
///   time = system_time + ((((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32)
///
/// (public xen.h, struct vcpu_time_info; a negative shift shifts right). The
/// arithmetic is pure and constexpr; pvclock_read adds Xen's version seqlock
/// and an ordered TSC read. Header-only: it inlines into the caller's clock.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/arch/x86.hpp>
#include <xen/support/result.hpp>
#include <xen/support/seqlock.hpp>

namespace xen {

namespace detail {
// -Wpedantic flags __int128 as an extension; it is GCC's, on x86-64, also
// freestanding, and compiles to mul/shrd.
__extension__ typedef unsigned __int128 pvclock_u128;
} // namespace detail

/// Scale a TSC delta to ns: shift first (negative: right shift, dropping low
/// bits as Xen's own scale_delta does), multiply by the 32.32 fraction
/// `mul`, keep bits 32 and up. A 128-bit intermediate means no overflow at
/// any delta: a 64-bit `delta * mul` wraps once about 2^32 ns (4.295 s) have
/// passed since tsc_timestamp. Xen's records have shift in [-34, 30]
/// (set_time_scale, for any u64 frequency) and mul in [2^31, 2^32); every
/// int8 shift is handled. A result beyond 64 bits (centuries) saturates.
constexpr uint64_t pvclock_scale(uint64_t delta_tsc, uint32_t mul, int8_t shift) noexcept
{
    using u128 = detail::pvclock_u128;
    if (shift < 0) {
        // Right shift before the multiply, as the formula says: the product
        // is then < 2^96 and the result < 2^64.
        const uint64_t d = shift <= -64 ? 0 : delta_tsc >> -shift;
        return static_cast<uint64_t>((u128{d} * mul) >> 32);
    }
    // Left shift: (d << s) * mul == (d * mul) << s exactly in integers, and
    // d * mul < 2^96, so shift the product instead and stay within 128 bits.
    const u128 product = u128{delta_tsc} * mul;
    if (product == 0)
        return 0;
    if (shift > 32) {
        // Only a shift no Xen produces gets here; saturate past 64 bits.
        const int up = shift - 32;
        if (up >= 64 || (product >> (64 - up)) != 0)
            return ~uint64_t{0};
        return static_cast<uint64_t>(product << up);
    }
    const u128 scaled = product >> (32 - shift);
    return (scaled >> 64) != 0 ? ~uint64_t{0} : static_cast<uint64_t>(scaled);
}

namespace detail {

/// Every Xen record for a TSC of 1 GHz or more: shift in (-64, 0], and
/// system_time below 2^63 (292 years). For such a record and a TSC distance
/// below 2^63 ticks, system_time + pvclock_scale(distance) is
/// short_time_at: the fraction moved up 32 bits so the scaled delta is the
/// high half of one 64x64 multiply, and the sum cannot overflow. A clock
/// read waits for this chain, so it is kept short: shift, multiply, add.
constexpr bool short_form(int8_t shift, uint64_t system_time) noexcept
{
    return shift <= 0 && shift > -64 && static_cast<int64_t>(system_time) >= 0;
}

constexpr uint64_t short_time_at(uint64_t system_time, uint32_t mul, int8_t shift, uint64_t distance) noexcept
{
    const uint64_t d = distance >> -shift;
    return system_time + static_cast<uint64_t>((pvclock_u128{d} * (uint64_t{mul} << 32)) >> 64);
}

} // namespace detail

/// A consistent copy of the fields of a vcpu_time_info that time needs.
struct PvclockRecord {
    uint64_t tsc_timestamp;     ///< the TSC at which the record reads system_time
    uint64_t system_time;       ///< Xen system time (ns) at tsc_timestamp
    uint32_t tsc_to_system_mul; ///< ns per TSC tick, 32.32 fixed point, applied after tsc_shift
    int8_t tsc_shift;           ///< TSC ticks are shifted left by this first (right if negative)
    uint8_t flags;              ///< abi::pvclock_tsc_stable, abi::pvclock_guest_stopped
};

/// System time in ns at TSC value `tsc` by record `r`. The TSC distance is
/// taken modulo 2^64 and read as signed: a record may be stamped "before
/// TSC zero" in the guest's TSC terms (a PVH dom0's first record carries a
/// tsc_timestamp of 2^64 - 520e6 while the guest TSC reads 463e6: 983e6
/// ticks have passed, not none). A TSC truly below the record's
/// tsc_timestamp (read on another pCPU, or just before an update) counts as
/// no time passed: time never falls below system_time. Saturates instead
/// of wrapping.
constexpr uint64_t pvclock_time_at(const PvclockRecord& r, uint64_t tsc) noexcept
{
    const uint64_t distance = tsc - r.tsc_timestamp; // modulo 2^64
    if (static_cast<int64_t>(distance) >= 0 && detail::short_form(r.tsc_shift, r.system_time)) [[likely]]
        return detail::short_time_at(r.system_time, r.tsc_to_system_mul, r.tsc_shift, distance);
    const uint64_t delta = static_cast<int64_t>(distance) > 0 ? distance : 0;
    uint64_t t = 0;
    if (__builtin_add_overflow(r.system_time, pvclock_scale(delta, r.tsc_to_system_mul, r.tsc_shift), &t))
        return ~uint64_t{0};
    return t;
}

/// One pvclock reading: Xen system time and the record's flags
/// (abi::pvclock_tsc_stable, abi::pvclock_guest_stopped).
struct PvclockTime {
    uint64_t system_time_ns; ///< Xen system time, ns
    uint8_t flags;           ///< the record's flags
};

/// A consistent record together with the TSC sampled inside the read and the
/// (even) version it was read at: what a clock needs beyond the time itself
/// (SystemClock keeps the record to publish it, and the version to report
/// XEN_PVCLOCK_GUEST_STOPPED once per record).
struct PvclockSample {
    PvclockRecord record; ///< the consistent copy
    uint64_t tsc;         ///< the TSC read between the two version loads
    uint32_t version;     ///< the (even) version the record was read at
};

/// Read `ti` consistently (Xen's version seqlock: an attempt fails while
/// the version is odd or when it changed across the field loads) and return
/// the record with a TSC value `tsc()` sampled inside the read, and the
/// version; time = pvclock_time_at(s.record, s.tsc). `tsc` must be ordered
/// after the version load (arch::rdtsc_ordered on the target; tests inject
/// their own). Errors: busy_retry after `max_attempts` inconsistent reads.
template <class TscFn>
[[gnu::always_inline]] inline Result<PvclockSample>
pvclock_sample(const volatile abi::vcpu_time_info& ti, TscFn&& tsc,
               uint32_t max_attempts = seqlock_max_attempts) noexcept
{
    // Every load is an acquire (a plain mov on x86, where Xen's stores are
    // seen in order): no load can move above the one before it, so the
    // second version load comes after every field load. No fence needed.
    return seqlock_read<PvclockSample>(max_attempts, [&](PvclockSample& s) {
        const uint32_t v1 = __atomic_load_n(&ti.version, __ATOMIC_ACQUIRE);
        if ((v1 & 1) != 0)
            return false; // Xen is mid-update
        s.record = PvclockRecord{
            __atomic_load_n(&ti.tsc_timestamp, __ATOMIC_ACQUIRE),
            __atomic_load_n(&ti.system_time, __ATOMIC_ACQUIRE),
            __atomic_load_n(&ti.tsc_to_system_mul, __ATOMIC_ACQUIRE),
            __atomic_load_n(&ti.tsc_shift, __ATOMIC_ACQUIRE),
            __atomic_load_n(&ti.flags, __ATOMIC_ACQUIRE),
        };
        s.tsc = tsc();
        s.version = v1;
        // Unchanged and even: no update overlapped the field loads.
        return __atomic_load_n(&ti.version, __ATOMIC_ACQUIRE) == v1;
    });
}

/// System time now from `ti`: pvclock_sample, then pvclock_time_at. Same
/// rule for `tsc`; the one-argument overload uses arch::rdtsc_ordered.
/// Errors: busy_retry after `max_attempts` inconsistent reads.
template <class TscFn>
[[gnu::always_inline]] inline Result<PvclockTime> pvclock_read(const volatile abi::vcpu_time_info& ti, TscFn&& tsc,
                                                               uint32_t max_attempts = seqlock_max_attempts) noexcept
{
    return pvclock_sample(ti, tsc, max_attempts).transform([](const PvclockSample& s) {
        return PvclockTime{pvclock_time_at(s.record, s.tsc), s.record.flags};
    });
}

/// pvclock_read with the ordered hardware TSC (the target's clock read).
inline Result<PvclockTime> pvclock_read(const volatile abi::vcpu_time_info& ti) noexcept
{
    return pvclock_read(ti, [] { return arch::rdtsc_ordered(); });
}

} // namespace xen
