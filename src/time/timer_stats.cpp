// LatenessHistogram and TimerStats.
#include <xen/time/timer_stats.hpp>

namespace xen {

uint32_t LatenessHistogram::bucket_of(uint64_t value) noexcept
{
    if (value < sub_buckets)
        return static_cast<uint32_t>(value);
    const uint32_t msb = 63u - static_cast<uint32_t>(__builtin_clzll(value));
    if (msb >= max_bits)
        return buckets; // overflow
    // 16 equal steps between 2^msb and 2^(msb+1): the 4 bits below the msb.
    const uint32_t sub = static_cast<uint32_t>(value >> (msb - 4)) & (sub_buckets - 1);
    return sub_buckets + (msb - 4) * sub_buckets + sub;
}

uint64_t LatenessHistogram::bucket_top(uint32_t i) noexcept
{
    if (i < sub_buckets)
        return i;
    if (i >= buckets)
        return ~uint64_t{0};
    const uint32_t msb = (i - sub_buckets) / sub_buckets + 4;
    const uint64_t sub = (i - sub_buckets) % sub_buckets;
    const uint64_t step = uint64_t{1} << (msb - 4);
    return (uint64_t{1} << msb) + (sub + 1) * step - 1;
}

void LatenessHistogram::record(uint64_t value) noexcept
{
    uint32_t& c = counts_[bucket_of(value)];
    if (c != ~uint32_t{0})
        ++c;
    ++count_;
    if (value > max_)
        max_ = value;
}

uint64_t LatenessHistogram::quantile_permille(uint32_t q) const noexcept
{
    if (count_ == 0)
        return 0;
    if (q > 1000)
        q = 1000;
    // The rank of the wanted value, 1-based: ceil(q * count / 1000), at
    // least 1, split so that nothing overflows 64 bits (and no 128-bit
    // division, which would need libgcc in a kernel).
    uint64_t rank = (count_ / 1000) * q + ((count_ % 1000) * q + 999) / 1000;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i <= buckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            const uint64_t top = bucket_top(i);
            return top < max_ ? top : max_;
        }
    }
    return max_;
}

void LatenessHistogram::clear() noexcept
{
    for (auto& c : counts_)
        c = 0;
    count_ = 0;
    max_ = 0;
}

void LatenessHistogram::merge(const LatenessHistogram& other) noexcept
{
    for (uint32_t i = 0; i <= buckets; ++i) {
        const uint64_t sum = uint64_t{counts_[i]} + other.counts_[i];
        counts_[i] = sum > ~uint32_t{0} ? ~uint32_t{0} : static_cast<uint32_t>(sum);
    }
    count_ += other.count_;
    if (other.max_ > max_)
        max_ = other.max_;
}

void TimerStats::clear() noexcept
{
    hypercalls = expiries = wakeups = early_events = etime = capped = 0;
    lateness.clear();
}

void TimerStats::merge(const TimerStats& other) noexcept
{
    hypercalls += other.hypercalls;
    expiries += other.expiries;
    wakeups += other.wakeups;
    early_events += other.early_events;
    etime += other.etime;
    capped += other.capped;
    lateness.merge(other.lateness);
}

} // namespace xen
