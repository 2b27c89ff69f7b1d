/// \file
/// Per-vCPU counters of the timer driver, and a fixed-size log-linear
/// histogram for lateness (how long after its deadline a timer ran), from
/// which median, p99 and max are read. No allocation: the histogram is an
/// array inside the per-vCPU state.
#pragma once

#include <cstdint>

namespace xen {

/// Counts of values in log-linear buckets: exact below 16, then 16 buckets
/// per power of two up to 2^40 (so a quantile is within 1/16 of the true
/// value), one overflow bucket above. The maximum is kept exactly.
class LatenessHistogram {
public:
    /// Buckets below the overflow bucket.
    static constexpr uint32_t sub_buckets = 16;
    static constexpr uint32_t max_bits = 40; ///< values from 2^40 ns (about 18 min) go to the overflow bucket
    static constexpr uint32_t buckets = sub_buckets +
                                        (max_bits - 4) * sub_buckets; ///< buckets below the overflow one (592)

    /// Count one value (ns).
    void record(uint64_t value) noexcept;
    /// Values counted.
    uint64_t count() const noexcept { return count_; }
    /// The largest value counted (0 when empty).
    uint64_t max() const noexcept { return max_; }
    /// An upper bound of the q-quantile, q in per-mille (500 = median,
    /// 990 = p99): the top of the bucket holding the ceil(q/1000 * count)-th
    /// smallest value, but never above max(). 0 when empty.
    uint64_t quantile_permille(uint32_t q) const noexcept;
    /// Forget everything.
    void clear() noexcept;
    /// Add another histogram's counts (e.g. to sum over vCPUs).
    void merge(const LatenessHistogram& other) noexcept;

    /// The bucket of `value` and the largest value in bucket `i` (tests).
    static uint32_t bucket_of(uint64_t value) noexcept;
    /// The largest value in bucket `i` (tests).
    static uint64_t bucket_top(uint32_t i) noexcept;

private:
    uint32_t counts_[buckets + 1] = {};
    uint64_t count_ = 0;
    uint64_t max_ = 0;
};

/// What one vCPU's timer driver has done, since start or clear.
struct TimerStats {
    uint64_t hypercalls = 0;    ///< set/stop_singleshot and stop_periodic calls issued
    uint64_t expiries = 0;      ///< timer callbacks run
    uint64_t wakeups = 0;       ///< VIRQ_TIMER events handled
    uint64_t early_events = 0;  ///< events that found no timer due (before any deadline)
    uint64_t etime = 0;         ///< -ETIME answers (a host that reports "already passed")
    uint64_t capped = 0;        ///< programmings shortened to the maximum delta
    LatenessHistogram lateness; ///< handler time minus deadline, per expiry (ns)

    /// Reset every counter.
    void clear() noexcept;
    /// Add another vCPU's counts.
    void merge(const TimerStats& other) noexcept;
};

} // namespace xen
