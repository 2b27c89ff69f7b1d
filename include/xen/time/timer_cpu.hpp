/// \file
/// TimerCpu: one vCPU's part of the timer driver (its queue, its counters,
/// what it last told Xen). It sits in the vCPU's VcpuSlot; only the
/// TimerDriver writes it, and only on that vCPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/support/types.hpp>
#include <xen/time/timer.hpp>
#include <xen/time/timer_queue.hpp>
#include <xen/time/timer_stats.hpp>

namespace xen {

/// One vCPU's timers and driver state.
class TimerCpu {
public:
    constexpr TimerCpu() noexcept = default;
    TimerCpu(const TimerCpu&) = delete;
    TimerCpu& operator=(const TimerCpu&) = delete;

    /// Counters and lateness since the last clear.
    const TimerStats& stats() const noexcept { return stats_; }
    /// Counters and lateness since the last clear, writable (to clear them).
    TimerStats& stats() noexcept { return stats_; }
    /// Timers armed on this vCPU.
    size_t armed() const noexcept { return queue_.size(); }
    /// start() ran and stop() has not since.
    bool started() const noexcept { return started_; }
    /// VIRQ_TIMER of this vCPU is bound to the driver (TimerDriver::bind).
    bool bound() const noexcept { return bound_; }
    /// The deadline last given to Xen, if the driver believes one is set.
    bool programmed(uint64_t* deadline_ns) const noexcept
    {
        if (programmed_ && deadline_ns != nullptr)
            *deadline_ns = programmed_at_;
        return programmed_;
    }
    /// The first armed timer (read-only view, e.g. for an idle decision).
    /// Not const: finding it may reorganise the queue.
    const Timer* first() noexcept { return queue_.first(); }

private:
    friend class TimerDriver;
    TimerQueue queue_;
    TimerStats stats_;
    uint64_t programmed_for_ = 0; // the first timer's latest time when last programmed
    uint64_t programmed_at_ = 0;  // the deadline given to Xen then
    uint32_t port_ = 0;           // its VIRQ_TIMER port, when bound or attached
    bool programmed_ = false;
    bool started_ = false;
    bool in_handler_ = false;
    bool bound_ = false;    // through TimerDriver::bind (the Domain's table)
    bool attached_ = false; // the kernel's own port (TimerDriver::attach)
};

} // namespace xen
