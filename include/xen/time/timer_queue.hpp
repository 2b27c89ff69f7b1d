// TimerQueue: the timers of one vCPU, ordered by (latest, arming order).
//
// A pairing heap threaded through the timers themselves: arm is O(1),
// removing the first timer or cancelling any timer is O(log n) amortized
// (one removal after k arms with no removal in between walks those k
// timers once; the work is paid for by the arms). No allocation, no
// capacity limit, no recursion.
//
// The queue knows nothing of Xen or clocks: TimerDriver adds those. It is
// not thread-safe: only its own vCPU touches it, with upcalls held off or
// from inside its VIRQ_TIMER handler (see timer_driver.hpp).
//
// Order and expiry rule (what the tests check against a sorted list):
// timers are kept in order of latest = deadline + slack, ties in arming
// order. pop_due(now) removes the first timer if its *deadline* has passed.
// So a wake-up programmed for the first timer's latest time also runs every
// following timer whose deadline has passed, up to the first that is not
// yet due: timers with slack share wake-ups, and none runs early. With no
// slack (the default) the order is deadline order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/time/timer.hpp>

namespace xen {

class TimerQueue {
public:
    /// An empty queue for vCPU `owner` (recorded in each timer it arms, for
    /// the order of timers later moved to another queue).
    constexpr explicit TimerQueue(VcpuId owner = VcpuId{0}) noexcept : owner_(owner.value) {}
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    /// Arm `t` to be due at `deadline_ns`, allowed to run up to `slack_ns`
    /// later; a timer already in this queue is moved (re-arm). A timer in
    /// another queue must be cancelled there first: arm checks nothing
    /// (TimerDriver does).
    void arm(Timer& t, uint64_t deadline_ns, uint64_t slack_ns = 0) noexcept;

    /// Take `t` out of this queue. False (and nothing done) if it is not in
    /// this queue.
    bool cancel(Timer& t) noexcept;

    /// The first timer (least latest time, earliest armed), or nullptr.
    Timer* first() const noexcept { return root_; }

    /// Remove and return the first timer if its deadline is <= now_ns, else
    /// nullptr (see the expiry rule above).
    Timer* pop_due(uint64_t now_ns) noexcept;

    /// Remove and return the first timer, or nullptr when empty.
    Timer* pop() noexcept;

    /// Put back a timer popped from another queue, keeping its deadline,
    /// latest time and place in arming order (TimerDriver::adopt).
    void insert_keeping_order(Timer& t) noexcept;

    bool empty() const noexcept { return root_ == nullptr; }
    size_t size() const noexcept { return size_; }
    /// The vCPU this queue belongs to.
    VcpuId owner() const noexcept { return VcpuId{owner_}; }
    /// Re-target an empty queue at vCPU `owner`. False if not empty.
    bool set_owner(VcpuId owner) noexcept;

private:
    static bool before(const Timer& a, const Timer& b) noexcept;
    static Timer* meld(Timer* a, Timer* b) noexcept;
    static Timer* merge_pairs(Timer* first) noexcept;
    void link(Timer& t) noexcept;
    void unlink(Timer& t) noexcept;

    Timer* root_ = nullptr;
    size_t size_ = 0;
    uint64_t next_seq_ = 0;
    uint32_t owner_;
};

} // namespace xen
