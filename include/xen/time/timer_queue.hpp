/// \file
/// TimerQueue: the timers of one vCPU, ordered by (latest, arming order).
///
/// A radix wheel over absolute time, threaded through the timers: level L
/// holds timers whose latest time first differs from the wheel's base in
/// the L-th 6-bit digit, in 64 buckets by that digit. Level 0 buckets hold
/// one exact time each, so a level-0 bucket is a FIFO of equal times in
/// arming order. When level 0 runs dry, the first non-empty bucket of the
/// lowest level is cascaded: the base moves up to that bucket's start and
/// its timers fall to lower levels. A timer moves down at most 10 times in
/// its life (64 bits in 6-bit digits), so arm and cancel are O(1) and
/// taking the first timer is O(1) amortized: one cascade may move a whole
/// bucket at once. A timer armed below the base (at a latest time earlier
/// than where the wheel has moved on to) goes to a small pairing heap of
/// overdue timers, which all come before the wheel's.
///
/// Re-arming a timer at or after the start of the bucket it sits in (a
/// timeout pushed back, the usual re-arm) changes only the timer: it stays
/// in that bucket, which comes up no earlier than it may, and moves when it
/// does (in the cascade, or when found at the front of level 0), once
/// however often it was pushed back. Such a timer can reach a level-0
/// bucket after timers of its time armed later, so a level-0 bucket is
/// kept in arming order by a walk from its newest end (no steps unless
/// that happened).
///
/// No allocation and no capacity limit: the buckets are 11 x 64 heads in the
/// queue (5.6 KiB per vCPU), everything else is in the timers.
///
/// The queue knows nothing of Xen or clocks: TimerDriver adds those. It is
/// not thread-safe: only its own vCPU touches it, with upcalls held off or
/// from inside its VIRQ_TIMER handler (see timer_driver.hpp).
///
/// Order and expiry rule (what the tests check against a sorted list):
/// timers are kept in order of latest = deadline + slack, ties in arming
/// order. pop_due(now) removes the first timer if its *deadline* has passed.
/// So a wake-up programmed for the first timer's latest time also runs every
/// following timer whose deadline has passed, up to the first that is not
/// yet due: timers with slack share wake-ups, and none runs early. With no
/// slack (the default) the order is deadline order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/time/timer.hpp>

namespace xen {

/// The timers of one vCPU in a radix wheel, ordered by (latest time,
/// arming order); O(1) arm and cancel (see the file's description).
class TimerQueue {
public:
    /// Bits per wheel digit, buckets per level, levels (64-bit times).
    static constexpr uint32_t digit_bits = 6;
    static constexpr uint32_t fan = 1u << digit_bits;                      ///< buckets per level (64)
    static constexpr uint32_t levels = (64 + digit_bits - 1) / digit_bits; ///< levels (11)

    /// An empty queue.
    constexpr TimerQueue() noexcept = default;
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    /// Arm `t` to be due at `deadline_ns`, allowed to run up to `slack_ns`
    /// later; a timer already in this queue is moved (re-arm), and takes a
    /// new place in arming order. A timer in another queue must be
    /// cancelled there first: arm checks nothing (TimerDriver does).
    void arm(Timer& t, uint64_t deadline_ns, uint64_t slack_ns = 0) noexcept;

    /// Take `t` out of this queue. False (and nothing done) if it is not in
    /// this queue.
    bool cancel(Timer& t) noexcept;

    /// The first timer (least latest time, earliest armed), or nullptr.
    /// Not const: finding it may cascade the wheel.
    Timer* first() noexcept;

    /// Remove and return the first timer if its deadline is <= now_ns, else
    /// nullptr (see the expiry rule above).
    Timer* pop_due(uint64_t now_ns) noexcept;

    /// Remove and return the first timer, or nullptr when empty.
    Timer* pop() noexcept;

    /// No timer is armed in this queue.
    bool empty() const noexcept { return size_ == 0; }
    /// Timers armed in this queue.
    size_t size() const noexcept { return size_; }

private:
    static constexpr uint8_t overdue_level = 0xff;

    static bool before(const Timer& a, const Timer& b) noexcept;
    // The wheel.
    void place(Timer& t) noexcept;
    void detach(Timer& t) noexcept;
    void cascade() noexcept;
    Timer* wheel_first() noexcept;
    // The overdue pairing heap.
    static Timer* meld(Timer* a, Timer* b) noexcept;
    static Timer* merge_pairs(Timer* first) noexcept;
    void heap_remove(Timer& t) noexcept;

    void remove(Timer& t) noexcept;

    Timer* buckets_[levels][fan] = {}; // newest timer of each bucket; its prev_ is the oldest
    uint64_t occupied_[levels] = {};   // bit b: bucket b of the level is not empty
    uint64_t base_ = 0;                // every wheel timer's latest time is >= base_
    Timer* overdue_ = nullptr;         // root of the heap of timers below base_
    Timer* wheel_min_ = nullptr;       // the wheel's first timer, when known
    size_t size_ = 0;
    size_t wheel_size_ = 0;
    uint64_t next_seq_ = 0;
};

} // namespace xen
