// TimerDriver: tickless timers on Xen's per-vCPU single-shot timer.
//
// Each vCPU has a TimerQueue (timer_queue.hpp) in a TimerCpu the kernel
// places. The driver keeps Xen's single-shot timer (VCPUOP 8/9) set to the
// queue's first deadline and runs timers from the VIRQ_TIMER handler:
//
// - start() stops Xen's periodic timer on that vCPU: a PV vCPU starts with
//   a 100 Hz one ("PV guests by default have a 100Hz ticker",
//   pv/domain.c), which would wake an idle kernel for nothing (F12).
// - VCPUOP_set_singleshot_timer is issued only when the first deadline
//   changes, with flags 0: VCPU_SSHOTTMR_future made Xen < 4.17.3 answer
//   -ETIME for a past deadline, which hung Linux <= 4.6 (F1). A host that
//   answers -ETIME anyway (KVM's Xen emulation) is taken at its word: the
//   deadline has passed, so the handler is run (re-checked, or
//   self-injected) instead of retrying with a longer delta.
// - The programmed delta is capped (4 s by default, as FreeBSD): a huge
//   delta is not trusted across pvclock rescaling, and the wake-up at the
//   cap simply programs the rest.
// - The handler runs every timer whose deadline is <= now, reads the clock
//   again and goes on while more have come due, then programs the new first
//   deadline. VIRQ_TIMER is one pending bit, so one event may stand for many
//   expiries, and an event may come early: Xen fires up to timer_slop late
//   by its NOW(), which is not bit-identical to the guest's pvclock (F13),
//   and a periodic tick looks the same. An event with nothing due runs
//   nothing and re-arms.
// - idle() sleeps until the next event: PV with SCHEDOP_block (Xen clears
//   the upcall mask and checks for pending events in one step); PVH with
//   `sti; hlt`: the one-instruction interrupt shadow of sti means an upcall
//   that came in after the check still wakes the hlt. (SCHEDOP_block with
//   RFLAGS.IF clear would not do: for HVM vCPUs Xen counts an event as
//   needing delivery only if interrupts are enabled,
//   hvm_local_events_need_delivery, so a pending upcall would not stop the
//   block.)
//
// Where each call may run (the contract the kernel keeps):
// - Every call names the vCPU whose queue it uses, and must run on that
//   vCPU: the driver asks the CurrentVcpuFn hook and refuses any other
//   with not_current_vcpu. Arming on another vCPU is therefore refused,
//   never done behind its back; a kernel that wants it sends that vCPU an
//   IPI and arms there. A timer armed on one vCPU can only be cancelled or
//   re-armed on that vCPU (not_current_vcpu elsewhere).
// - arm, arm_after, cancel: thread context with that vCPU's upcalls held
//   off, or inside a timer callback (which runs in the handler).
// - start, stop, adopt, idle: thread context, upcalls held off; never from
//   a callback.
// - handle_event (or on_virq_timer, as an EventChannels handler): the
//   VIRQ_TIMER handler of that vCPU, upcalls held off, not re-entered.
// - stats: read by that vCPU, or by another once it has stopped arming.
//
// Hotplug: a vCPU going down calls stop() first (its single-shot timer is
// stopped; its timers stay queued). When it comes back, start() programs
// them again and those already overdue run at once: late, never lost,
// never early. Or another vCPU adopt()s them while it is down, and they run
// there. Either way each timer runs exactly once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/events.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>
#include <xen/time/timer.hpp>
#include <xen/time/timer_queue.hpp>
#include <xen/time/timer_stats.hpp>
#include <xen/vcpu_ops.hpp>

namespace xen {

/// Kernel hook: Xen system time in ns as vCPU `self` (the caller) reads it,
/// e.g. pvclock_read of its own vcpu_time_info, or the library's clock.
/// Called with upcalls held off; must not fail.
using TimerClockFn = uint64_t (*)(void* ctx, VcpuId self) noexcept;

/// Kernel hook (optional): make VIRQ_TIMER's handler run soon on `self`,
/// the caller, e.g. by raising its timer port locally. False if it cannot.
/// Not needed when the driver binds VIRQ_TIMER itself (bind()).
using TimerKickFn = bool (*)(void* ctx, VcpuId self) noexcept;

/// How idle() sleeps.
enum class IdleMethod : uint8_t {
    sched_block, ///< PV: SCHEDOP_block (Xen unmasks upcalls and checks atomically)
    sti_hlt,     ///< PVH/HVM: `sti; hlt`, upcalls are RFLAGS.IF (target build only)
};

/// The driver's hooks and tunables.
struct TimerConfig {
    TimerClockFn clock = nullptr;     ///< required
    void* clock_ctx = nullptr;
    CurrentVcpuFn current = nullptr;  ///< required: which vCPU is calling
    IdleMethod idle = IdleMethod::sched_block;
    /// Longest delta programmed into Xen at once; a later deadline gets an
    /// intermediate wake-up at the cap (Linux ~4.29 s, FreeBSD 4 s).
    uint64_t max_delta_ns = 4'000'000'000;
    /// Timers one event runs at most; the rest get a fresh event at once
    /// (a past deadline fires immediately), so other upcalls get a turn.
    uint32_t max_expiries_per_event = 1024;
    TimerKickFn kick = nullptr;       ///< optional, see TimerKickFn
    void* kick_ctx = nullptr;
};

/// One vCPU's timers and driver state. Kernel storage (one per vCPU, e.g.
/// in a TimerStorage); only the TimerDriver writes it.
class TimerCpu {
public:
    constexpr TimerCpu() noexcept = default;
    TimerCpu(const TimerCpu&) = delete;
    TimerCpu& operator=(const TimerCpu&) = delete;

    /// Counters and lateness since the last clear.
    const TimerStats& stats() const noexcept { return stats_; }
    TimerStats& stats() noexcept { return stats_; }
    /// Timers armed on this vCPU.
    size_t armed() const noexcept { return queue_.size(); }
    /// start() ran and stop() has not since.
    bool started() const noexcept { return started_; }
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
    abi::vcpu_info* vi_ = nullptr; // for raise_local, when bound through EventChannels
    uint64_t programmed_for_ = 0;  // the first timer's latest time when last programmed
    uint64_t programmed_at_ = 0;   // the deadline given to Xen then
    Port port_{0};
    bool programmed_ = false;
    bool started_ = false;
    bool in_handler_ = false;
    bool bound_ = false;
};

/// Static storage for the per-vCPU state of `Vcpus` vCPUs.
template <uint32_t Vcpus>
struct TimerStorage {
    static_assert(Vcpus > 0, "at least one vCPU");
    TimerCpu cpus[Vcpus];
};

/// The domain's timer driver. One per domain; holds no per-vCPU state of
/// its own (that lives in the TimerCpu array).
class TimerDriver {
public:
    /// `cpus[0..nr_vcpus)` hold vCPU i's state; storage outlives the driver.
    /// cfg.clock and cfg.current must be set.
    TimerDriver(const TimerConfig& cfg, TimerCpu* cpus, uint32_t nr_vcpus) noexcept;

    /// Same, over a TimerStorage.
    template <uint32_t Vcpus>
    TimerDriver(const TimerConfig& cfg, TimerStorage<Vcpus>& storage) noexcept
        : TimerDriver(cfg, storage.cpus, Vcpus)
    {
    }

    TimerDriver(const TimerDriver&) = delete;
    TimerDriver& operator=(const TimerDriver&) = delete;

    /// Bind VIRQ_TIMER of `vcpu` (the caller) to this driver through `ev`
    /// (EVTCHNOP_bind_virq); `vi` is that vCPU's vcpu_info, used to
    /// self-inject the event when a host answers -ETIME or an expiry is
    /// overdue. Errors: not_current_vcpu, vcpu_out_of_range, and bind_virq's.
    Result<Port> bind(EventChannels& ev, VcpuId vcpu, abi::vcpu_info& vi) noexcept;

    /// Undo bind() for `vcpu` (the caller): EVTCHNOP_close of its VIRQ_TIMER
    /// port, e.g. to hand the VIRQ to other code. Call after stop(), with
    /// upcalls held off; armed timers stay armed, to run after a new bind()
    /// and start(). Errors: not_current_vcpu, vcpu_out_of_range,
    /// invalid_argument (not bound through bind()), or close's.
    Result<void> unbind(VcpuId vcpu) noexcept;

    /// The VIRQ_TIMER handler body for `vcpu`, for kernels that bind the
    /// VIRQ themselves: runs every due timer, then programs the next
    /// deadline. Ignores a vCPU beyond the storage. Never fails.
    void handle_event(VcpuId vcpu) noexcept;

    /// handle_event as an EventChannels handler: `ctx` is the TimerDriver.
    static void on_virq_timer(Port port, VcpuId vcpu, void* ctx) noexcept;

    /// Take over `vcpu`'s timer: stop Xen's periodic timer
    /// (VCPUOP_stop_periodic_timer; PV vCPUs start with 100 Hz), then
    /// program the first armed timer, if any (overdue ones run at once).
    /// Also after a restore and when a vCPU comes back up. Errors:
    /// not_current_vcpu, vcpu_out_of_range, or Xen's.
    Result<void> start(VcpuId vcpu) noexcept;

    /// Before `vcpu` goes down: stop its single-shot timer
    /// (VCPUOP_stop_singleshot_timer). Its timers stay armed, to run after
    /// start() or on the vCPU that adopts them. Errors as start().
    Result<void> stop(VcpuId vcpu) noexcept;

    /// Arm `t` on `vcpu` (the caller) to run at `deadline_ns` (absolute Xen
    /// system time), at most `slack_ns` later; re-arms a timer already armed
    /// there. Programs Xen only if the first deadline changed. Errors:
    /// not_current_vcpu (the caller is not `vcpu`, or `t` is armed on
    /// another vCPU), vcpu_out_of_range, etime (a host answered -ETIME and
    /// no way to self-inject was given; the timer stays armed and runs at
    /// the next event), or Xen's.
    Result<void> arm(VcpuId vcpu, Timer& t, uint64_t deadline_ns, uint64_t slack_ns = 0) noexcept;

    /// arm() at now + `delay_ns` (saturating).
    Result<void> arm_after(VcpuId vcpu, Timer& t, uint64_t delay_ns, uint64_t slack_ns = 0) noexcept;

    /// Disarm `t` on `vcpu`: true if it was armed (it will not run), false
    /// if it was not armed (it ran already, or was never armed). Re-programs
    /// Xen if it was the first. Errors: not_current_vcpu (caller, or `t` is
    /// armed on another vCPU), vcpu_out_of_range, or Xen's.
    Result<bool> cancel(VcpuId vcpu, Timer& t) noexcept;

    /// Move every timer of stopped vCPU `from` to `vcpu` (the caller),
    /// keeping deadlines, slack and their order among themselves (they are
    /// re-armed there in that order, so they follow the caller's own timers
    /// of equal latest time); returns how many. `from` must have
    /// called stop() and be down (VCPUOP_is_up answered 0), so that nothing
    /// else touches its queue. Errors: not_current_vcpu, vcpu_out_of_range,
    /// invalid_argument (`from` is `vcpu` or was not stopped), or Xen's.
    Result<size_t> adopt(VcpuId vcpu, VcpuId from) noexcept;

    /// Sleep until an event arrives for `vcpu` (the caller), with
    /// safe_halt (event/upcall.hpp). Call with upcalls held off; returns
    /// with them off again (on, for a PV vCPU never bound through bind():
    /// its vcpu_info is unknown here), and the kernel re-enables them as
    /// usual, which delivers what is pending. Returns at once,
    /// without sleeping, if a timer is already overdue (its event is
    /// pending, or was lost: then it is self-injected). Errors:
    /// not_current_vcpu, vcpu_out_of_range, unsupported (sti_hlt on the host
    /// build), or Xen's.
    Result<void> idle(VcpuId vcpu) noexcept;

    /// The clock hook's time for `vcpu` (the caller).
    uint64_t now(VcpuId vcpu) const noexcept { return cfg_.clock(cfg_.clock_ctx, vcpu); }

    /// vCPU `vcpu`'s state (stats, armed count); nullptr beyond the storage.
    const TimerCpu* cpu(VcpuId vcpu) const noexcept { return vcpu.value < nr_ ? &cpus_[vcpu.value] : nullptr; }
    TimerCpu* cpu(VcpuId vcpu) noexcept { return vcpu.value < nr_ ? &cpus_[vcpu.value] : nullptr; }
    /// vCPUs this driver has storage for.
    uint32_t capacity() const noexcept { return nr_; }

private:
    Result<TimerCpu*> caller(VcpuId vcpu) const noexcept;
    Result<void> program(TimerCpu& c, VcpuId vcpu, uint64_t now, bool at_once = false) noexcept;
    Result<void> program_from_thread(TimerCpu& c, VcpuId vcpu) noexcept;
    uint64_t expire(TimerCpu& c, VcpuId vcpu, uint64_t now, uint32_t& budget) noexcept;
    bool kick(TimerCpu& c, VcpuId vcpu) noexcept;

    TimerConfig cfg_;
    TimerCpu* cpus_;
    uint32_t nr_;
    EventChannels* ev_ = nullptr;
};

} // namespace xen
