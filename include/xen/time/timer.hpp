/// \file
/// Timer: one intrusive software timer. The kernel owns its storage (a
/// member of whatever object needs a timeout); arming links it into a
/// per-vCPU TimerQueue through the pointers below, so arming never
/// allocates and never fails for lack of space.
///
/// A timer is due at `deadline` and may be run up to `slack` ns after it, so
/// that timers with nearby deadlines share one wake-up. It is never run
/// before its deadline (by the clock the driver reads).
#pragma once

#include <cstdint>
#include <xen/support/types.hpp>

namespace xen {

class Timer;
class TimerQueue;

/// What runs when a timer expires: the timer (already disarmed, so it may
/// re-arm itself), the vCPU running it, the time the handler read (ns,
/// Xen system time, >= the timer's deadline) and the context given to the
/// constructor. Runs in the VIRQ_TIMER handler (upcall context, upcalls
/// held off on that vCPU): it may arm and cancel timers of that vCPU and
/// must not block.
using TimerFn = void (*)(Timer& timer, VcpuId self, uint64_t now_ns, void* ctx) noexcept;

/// An intrusive timer. Not copyable or movable while the queue may point at
/// it; a disarmed timer may be destroyed.
class Timer {
public:
    /// A disarmed timer that calls `fn(timer, self, now, ctx)` when it expires.
    constexpr Timer(TimerFn fn, void* ctx) noexcept : fn_(fn), ctx_(ctx) {}
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    /// True while the timer sits in a queue (between arm and expiry/cancel).
    bool armed() const noexcept { return queue_ != nullptr; }
    /// The deadline of the last arming (ns, absolute Xen system time).
    uint64_t deadline() const noexcept { return deadline_; }
    /// The latest time it may run: deadline + slack (saturating).
    uint64_t latest() const noexcept { return latest_; }
    /// The context pointer given to the constructor.
    void* context() const noexcept { return ctx_; }

private:
    friend class TimerQueue;
    friend class TimerDriver;

    // What the queue touches on every step comes first, in one cache line.
    // In the wheel: next_/prev_ link a circular list of one bucket. In the
    // overdue heap (timer_queue.hpp): child_ is the leftmost child, next_
    // the right sibling, prev_ the left sibling (or the parent, for a
    // leftmost child; null for the root).
    Timer* next_ = nullptr;
    Timer* prev_ = nullptr;
    Timer* child_ = nullptr;
    // Order key: latest, then seq, which counts armings in the queue, so
    // equal latest times run in arming order.
    uint64_t latest_ = 0;
    uint64_t seq_ = 0;
    uint64_t deadline_ = 0;
    TimerQueue* queue_ = nullptr;
    uint8_t level_ = 0;  // wheel level, or TimerQueue's overdue mark
    uint8_t bucket_ = 0; // bucket within the level

    TimerFn fn_;
    void* ctx_;
};

} // namespace xen
