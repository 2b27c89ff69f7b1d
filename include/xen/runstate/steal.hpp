/// \file
/// The steal-time clock of one vCPU: time Xen kept it from running while it
/// wanted to run (RUNSTATE_runnable) or while the domain was paused
/// (RUNSTATE_offline), accumulated from runstate snapshots.
///
/// Three rules (docs/steal.md, "The steal clock"):
/// - baseline at online: a fresh vCPU sits in RUNSTATE_offline from domain
///   creation, and a hot-unplugged one while it is down; neither is steal, so
///   start() (at first online and at every re-online) takes a new baseline;
/// - monotonic by construction: only non-negative deltas are added. A total
///   below the previous one means Xen's totals restarted (save/restore,
///   migration make a new domain): the new total is the time since the
///   restart and is added whole, never subtracted;
/// - the totals come from consistent snapshots (Runstate::snapshot).
#pragma once

#include <cstdint>
#include <xen/abi/vcpu.hpp>

namespace xen {

/// One vCPU's accumulated runstate time since it came online. Updated by one
/// vCPU at a time (its owner, or the caller under the kernel's lock).
class StealClock {
public:
    constexpr StealClock() noexcept = default;

    /// The vCPU came online (first bring-up or re-online after hotplug):
    /// `s` becomes the baseline; what Xen counted before is not added.
    /// Accumulated totals are kept. Never fails.
    constexpr void start(const abi::vcpu_runstate_info& s) noexcept
    {
        for (int i = 0; i < 4; ++i)
            prev_[i] = s.time[i];
        started_ = true;
    }

    /// Add what `s` shows since the previous snapshot (or the baseline).
    /// Before start() the snapshot only becomes the baseline. Never fails.
    constexpr void update(const abi::vcpu_runstate_info& s) noexcept
    {
        if (!started_) {
            start(s);
            return;
        }
        for (int i = 0; i < 4; ++i) {
            acc_[i] += delta(i, s.time[i]);
            prev_[i] = s.time[i];
        }
    }

    /// The domain was restored into a new one: Xen's totals start again
    /// from 0, so the next update() adds them whole (the time the new domain
    /// spent paused and offline before this vCPU ran counts as steal, as in
    /// Linux's xen_manage_runstate_time). Call after a last update() in the
    /// old domain: nothing counted so far is lost, and steal never goes
    /// back however many restores follow. Never fails.
    constexpr void restart() noexcept
    {
        for (uint64_t& p : prev_)
            p = 0;
    }

    /// Steal so far: runnable + offline since the baseline.
    constexpr uint64_t steal_ns() const noexcept
    {
        return acc_[static_cast<int>(abi::runstate::runnable)] + acc_[static_cast<int>(abi::runstate::offline)];
    }
    /// The vCPU's own running time since the baseline.
    constexpr uint64_t running_ns() const noexcept { return acc_[static_cast<int>(abi::runstate::running)]; }
    /// Time in one runstate since the baseline.
    constexpr uint64_t time_ns(abi::runstate s) const noexcept { return acc_[static_cast<int>(s) & 3]; }
    /// All four together: the elapsed time the accumulation covers.
    constexpr uint64_t total_ns() const noexcept { return acc_[0] + acc_[1] + acc_[2] + acc_[3]; }

    /// steal_ns() as it would be after update(s), without updating: for a
    /// live view (runstate_live) that must not become the next baseline.
    constexpr uint64_t steal_ns_with(const abi::vcpu_runstate_info& s) const noexcept
    {
        if (!started_)
            return 0;
        const int rn = static_cast<int>(abi::runstate::runnable), off = static_cast<int>(abi::runstate::offline);
        return steal_ns() + delta(rn, s.time[rn]) + delta(off, s.time[off]);
    }

    /// Whether a baseline was taken (start(), or a first update()).
    constexpr bool started() const noexcept { return started_; }

private:
    constexpr uint64_t delta(int i, uint64_t now) const noexcept
    {
        // A total that went down restarted from 0
        // (docs/steal.md, "The steal clock"): count it whole.
        return now >= prev_[i] ? now - prev_[i] : now;
    }

    uint64_t prev_[4]{};
    uint64_t acc_[4]{};
    bool started_ = false;
};

/// A point on a StealClock, for fractions over an interval.
struct StealSample {
    uint64_t steal_ns; ///< StealClock::steal_ns() at the sample, ns
    uint64_t total_ns; ///< StealClock::total_ns() at the sample, ns
};

/// Take a sample of `c`.
constexpr StealSample steal_sample(const StealClock& c) noexcept { return {c.steal_ns(), c.total_ns()}; }

/// Steal between two samples in parts per million of the time between them
/// (integer: the library does no floating point). 0 for an empty interval;
/// at most 1'000'000.
constexpr uint32_t steal_ppm(const StealSample& from, const StealSample& to) noexcept
{
    const uint64_t dt = to.total_ns - from.total_ns;
    const uint64_t ds = to.steal_ns - from.steal_ns;
    if (dt == 0)
        return 0;
    if (ds >= dt)
        return 1'000'000;
    // ds < dt. Drop low bits of both until ds * 10^6 fits in 64 bits (ds
    // below 2^44 ns, 4.9 hours): no 128-bit division (no libgcc call), and
    // the ratio keeps at least 44 significant bits.
    uint64_t num = ds, den = dt;
    while (num >= (uint64_t{1} << 44)) {
        num >>= 1;
        den >>= 1;
    }
    return static_cast<uint32_t>(num * 1'000'000 / den);
}

} // namespace xen
