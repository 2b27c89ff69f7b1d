/// \file
/// TimerDriver: tickless timers on Xen's per-vCPU single-shot timer.
///
/// Each vCPU has a TimerQueue (timer_queue.hpp) in the TimerCpu of its
/// VcpuSlot; the driver reaches it, the clock, the calling vCPU and the event
/// channels through the Domain. The driver keeps Xen's single-shot timer (VCPUOP 8/9) set to the
/// queue's first deadline and runs timers from the VIRQ_TIMER handler:
///
/// - start() stops Xen's periodic timer on that vCPU: a PV vCPU starts with
///   a 100 Hz one ("PV guests by default have a 100Hz ticker",
///   pv/domain.c), which would wake an idle kernel for nothing
///   (docs/xen-contracts.md, "The periodic timer").
/// - VCPUOP_set_singleshot_timer is issued only when the first deadline
///   changes, with flags 0: VCPU_SSHOTTMR_future made Xen < 4.17.3 answer
///   -ETIME for a past deadline, which hung Linux <= 4.6 (docs/xen-contracts.md,
///   "Single-shot timers"). A host that
///   answers -ETIME anyway (KVM's Xen emulation) is taken at its word: the
///   deadline has passed, so the handler is run (re-checked, or
///   self-injected) instead of retrying with a longer delta.
/// - The programmed delta is capped (4 s by default, as FreeBSD): a huge
///   delta is not trusted across pvclock rescaling, and the wake-up at the
///   cap simply programs the rest.
/// - The handler runs every timer whose deadline is <= now, reads the clock
///   again and goes on while more have come due, then programs the new first
///   deadline. VIRQ_TIMER is one pending bit, so one event may stand for many
///   expiries, and an event may come early: Xen fires up to timer_slop late
///   by its NOW(), which is not bit-identical to the guest's pvclock
///   (docs/xen-contracts.md, "VIRQ_TIMER and timer slop"),
///   and a periodic tick looks the same. An event with nothing due runs
///   nothing and re-arms.
/// - idle() sleeps until the next event (by the Domain's guest kind): PV with SCHEDOP_block (Xen clears
///   the upcall mask and checks for pending events in one step); PVH with
///   `sti; hlt`: the one-instruction interrupt shadow of sti means an upcall
///   that came in after the check still wakes the hlt. (SCHEDOP_block with
///   RFLAGS.IF clear would not do: for HVM vCPUs Xen counts an event as
///   needing delivery only if interrupts are enabled,
///   hvm_local_events_need_delivery, so a pending upcall would not stop the
///   block.)
///
/// Where each call may run (the contract the kernel keeps):
/// - Every call names the vCPU whose queue it uses, and must run on that
///   vCPU: the driver asks the Domain (its `current` hook) and refuses any other
///   with not_current_vcpu. Arming on another vCPU is therefore refused,
///   never done behind its back; a kernel that wants it sends that vCPU an
///   IPI and arms there. A timer armed on one vCPU can only be cancelled or
///   re-armed on that vCPU (not_current_vcpu elsewhere).
/// - arm, arm_after, cancel: thread context with that vCPU's upcalls held
///   off, or inside a timer callback (which runs in the handler).
/// - start, stop, adopt, idle: thread context, upcalls held off; never from
///   a callback.
/// - handle_event (or on_virq_timer, as an EventChannels handler): the
///   VIRQ_TIMER handler of that vCPU, upcalls held off, not re-entered.
/// - stats: read by that vCPU, or by another once it has stopped arming.
///
/// Hotplug: a vCPU going down calls stop() first (its single-shot timer is
/// stopped; its timers stay queued). When it comes back, start() programs
/// them again and those already overdue run at once: late, never lost,
/// never early. Or another vCPU adopt()s them while it is down, and they run
/// there. Either way each timer runs exactly once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>
#include <xen/time/timer.hpp>
#include <xen/time/timer_cpu.hpp>

namespace xen {

class Domain;

/// The driver's tunables.
struct TimerConfig {
    /// Longest delta programmed into Xen at once; a later deadline gets an
    /// intermediate wake-up at the cap (Linux ~4.29 s, FreeBSD 4 s).
    uint64_t max_delta_ns = 4'000'000'000;
    /// Timers one event runs at most; the rest get a fresh event at once
    /// (a past deadline fires immediately), so other upcalls get a turn.
    uint32_t max_expiries_per_event = 1024;
};

/// The domain's timer driver. One per domain; holds no per-vCPU state of
/// its own (that lives in each vCPU's slot).
class TimerDriver {
public:
    /// Not usable before init(); constant-initialised, so it can sit in .bss.
    constexpr TimerDriver() noexcept = default;

    TimerDriver(const TimerDriver&) = delete;
    TimerDriver& operator=(const TimerDriver&) = delete;

    /// Serve `domain`'s vCPUs (their slots' TimerCpu), which must outlive
    /// the driver. Errors: invalid_argument (a zero max_delta_ns or
    /// max_expiries_per_event).
    Result<void> init(Domain& domain, const TimerConfig& cfg = {}) noexcept;

    /// Bind VIRQ_TIMER of `vcpu` (the caller) to this driver through the
    /// Domain's event channels (EVTCHNOP_bind_virq). The driver self-injects
    /// the event through that port (in the vCPU's vcpu_info) when a host
    /// answers -ETIME or an expiry is overdue. Bound already through the
    /// driver (an AP that restarts after a restore): returns that port.
    /// Errors: not_current_vcpu, vcpu_out_of_range, and bind_virq's.
    Result<Port> bind(VcpuId vcpu) noexcept;

    /// Undo bind() for `vcpu` (the caller): EVTCHNOP_close of its VIRQ_TIMER
    /// port, e.g. to hand the VIRQ to other code. Call after stop(), with
    /// upcalls held off; armed timers stay armed, to run after a new bind()
    /// and start(). Errors: not_current_vcpu, vcpu_out_of_range,
    /// invalid_argument (not bound through bind()), or close's.
    Result<void> unbind(VcpuId vcpu) noexcept;

    /// For a kernel with its own event dispatch, instead of bind(): it bound
    /// VIRQ_TIMER of `vcpu` (the caller) to `port` itself, and its handler
    /// for that port calls handle_event(). The driver then self-injects
    /// through `port` as bind() would let it (EventChannels::raise_unowned;
    /// the Domain's table is not involved). May be repeated with a new port
    /// (after a rebind). Errors: not_current_vcpu, vcpu_out_of_range,
    /// port_out_of_range (0, or beyond the 2-level ports), invalid_argument
    /// (bound through bind(): unbind() first).
    Result<void> attach(VcpuId vcpu, Port port) noexcept;

    /// The VIRQ_TIMER handler body for `vcpu`, for kernels that bind the
    /// VIRQ themselves (see attach()): runs every due timer, then programs
    /// the next deadline. Ignores a vCPU beyond the storage. Never fails.
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
    /// with them off again (in the vcpu_info the Domain knows for it), and
    /// the kernel re-enables them as usual, which delivers what is pending.
    /// Returns at once,
    /// without sleeping, if a timer is already overdue (its event is
    /// pending, or was lost: then it is self-injected). Errors:
    /// not_current_vcpu, vcpu_out_of_range, unsupported (a PVH domain on the
    /// host build, which cannot halt), or Xen's.
    Result<void> idle(VcpuId vcpu) noexcept;

    /// The domain was restored into a new one (Domain::suspend calls this,
    /// with every other vCPU down): Xen holds no single-shot timer for any
    /// vCPU, so none counts as programmed; a VIRQ_TIMER port bound through
    /// bind() follows its new number (EventChannels::rebind_all ran);
    /// a port given with attach() is forgotten: the kernel binds the VIRQ
    /// again and attaches the new port. Armed timers stay armed, deadlines
    /// unchanged (they are in the kernel-visible clock, which goes on across
    /// the restore); start() programs them again. Errors: port_not_bound
    /// (a bound vCPU's port was not rebound; `*failed` names it).
    Result<void> restored(VcpuId* failed = nullptr) noexcept;

    /// The driver's clock on the calling vCPU: Xen system time by its own
    /// pvclock record (Domain::own_now), the time its single-shot timer
    /// runs by. Deadlines are in this clock.
    uint64_t now() const noexcept;

    /// vCPU `vcpu`'s state (stats, armed count); nullptr beyond the
    /// Domain's managed vCPUs.
    TimerCpu* cpu(VcpuId vcpu) const noexcept;

private:
    Result<TimerCpu*> caller(VcpuId vcpu) const noexcept;
    uint64_t now(VcpuId) const noexcept { return now(); }
    Result<void> program(TimerCpu& c, VcpuId vcpu, uint64_t now, bool at_once = false) noexcept;
    Result<void> program_from_thread(TimerCpu& c, VcpuId vcpu) noexcept;
    uint64_t expire(TimerCpu& c, VcpuId vcpu, uint64_t now, uint32_t& budget) noexcept;
    bool kick(TimerCpu& c, VcpuId vcpu) noexcept;

    Domain* domain_ = nullptr;
    TimerConfig cfg_{};
};

} // namespace xen
