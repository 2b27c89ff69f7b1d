// shared_info's wall clock under Xen's wc_version protocol (public xen.h:
// "wc_version: incremented ... when the wallclock is updated ... odd while
// an update is in progress", the same rule as vcpu_time_info's version).
#include <xen/time/wallclock.hpp>

namespace xen {

Result<WallTime> wallclock_base(const volatile abi::shared_info& shared, uint32_t max_attempts) noexcept
{
    return seqlock_read<WallTime>(max_attempts, [&](WallTime& w) {
        const uint32_t v1 = __atomic_load_n(&shared.wc_version, __ATOMIC_ACQUIRE);
        if ((v1 & 1) != 0)
            return false; // Xen is mid-update
        const uint32_t lo = __atomic_load_n(&shared.wc_sec, __ATOMIC_ACQUIRE);
        const uint32_t hi = __atomic_load_n(&shared.wc_sec_hi, __ATOMIC_ACQUIRE);
        const uint32_t nsec = __atomic_load_n(&shared.wc_nsec, __ATOMIC_ACQUIRE);
        // wc_sec_hi carries the seconds past 2^32 (year 2106) on x86-64.
        const uint64_t sec = (uint64_t{hi} << 32) | lo;
        w = WallTime{sec + nsec / 1'000'000'000, nsec % 1'000'000'000};
        return __atomic_load_n(&shared.wc_version, __ATOMIC_ACQUIRE) == v1;
    });
}

} // namespace xen
