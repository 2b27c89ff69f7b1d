/// \file
/// Wall clock from shared_info (public xen.h): Xen keeps the wall-clock time
/// at system time 0 in wc_sec (+ wc_sec_hi << 32 on x86-64) and wc_nsec,
/// guarded by wc_version like a vcpu_time_info (odd while Xen writes it).
/// Wall time now = that base + the system time from SystemClock.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/support/result.hpp>
#include <xen/support/seqlock.hpp>

namespace xen {

/// Seconds and nanoseconds since 1970-01-01T00:00:00Z (UTC, as Xen keeps it).
struct WallTime {
    uint64_t sec;  ///< seconds since the epoch
    uint32_t nsec; ///< below 1'000'000'000

    /// The same instant.
    constexpr bool operator==(const WallTime&) const noexcept = default;
};

/// The wall-clock time at Xen system time 0, read consistently (an attempt
/// fails while wc_version is odd or when it changed across the copy). Xen
/// rewrites the wall clock only when dom0 sets the time (XENPF_settime)
/// and at resume. A wc_nsec of a second or more (never written by Xen) is
/// carried into the seconds. Errors: busy_retry after `max_attempts`
/// inconsistent reads.
Result<WallTime> wallclock_base(const volatile abi::shared_info& shared,
                                uint32_t max_attempts = seqlock_max_attempts) noexcept;

/// `base` advanced by `system_ns` nanoseconds of Xen system time. Pure.
constexpr WallTime wallclock_at(WallTime base, uint64_t system_ns) noexcept
{
    const uint64_t total_ns = uint64_t{base.nsec} + system_ns % 1'000'000'000;
    return WallTime{base.sec + system_ns / 1'000'000'000 + total_ns / 1'000'000'000,
                    static_cast<uint32_t>(total_ns % 1'000'000'000)};
}

/// The wall-clock time now: wallclock_base + `system_ns` (a SystemClock
/// reading). Errors: as wallclock_base.
inline Result<WallTime> wallclock_now(const volatile abi::shared_info& shared, uint64_t system_ns) noexcept
{
    return wallclock_base(shared).transform([system_ns](const WallTime& b) { return wallclock_at(b, system_ns); });
}

} // namespace xen
