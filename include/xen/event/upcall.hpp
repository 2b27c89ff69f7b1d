/// \file
/// Holding event upcalls off on the calling vCPU, and sleeping until one
/// is due: the guest's "interrupt flag", which Xen gives PV and PVH guests
/// in two different places.
///
/// - PV: vcpu_info.evtchn_upcall_mask (public xen.h). Non-zero: Xen does
///   not enter the event callback. Xen looks at it only when it is about to
///   return to this vCPU, so an event that arrives while it is set only sets
///   evtchn_upcall_pending, and nothing happens until the vCPU next leaves
///   and re-enters the guest. Clearing the mask therefore checks the flag
///   and, when set, enters Xen once (XENVER_version, the cheapest hypercall,
///   as Linux's xen_force_evtchn_callback does) so the callback runs now.
///   Sleeping is SCHEDOP_block: Xen clears the mask and checks for pending
///   events in one step (local_event_delivery_enable, then
///   local_events_need_delivery), so an event that came after the caller's
///   last look ends the block at once instead of being slept through.
/// - PVH: the callback vector is an interrupt, so RFLAGS.IF is the mask and
///   evtchn_upcall_mask is not consulted. Sleeping is `sti; hlt`: sti takes
///   effect after the next instruction, so no interrupt can be taken between
///   the two, and one that is already pending wakes hlt at once. (SCHEDOP_block
///   does not do for PVH: with IF clear, hvm_local_events_need_delivery
///   counts nothing as deliverable, and the vCPU would sleep through it.)
///
/// Every call acts on the calling vCPU only: `vi` must be its own vcpu_info
/// (shared_info's slot, or the one registered with VCPUOP_register_vcpu_info).
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// Hold upcalls off on the calling vCPU: PV sets `vi`'s
/// evtchn_upcall_mask (one sequentially consistent exchange), PVH clears
/// RFLAGS.IF (cli). Returns whether they were on before, for restoring.
/// Never fails. The PVH form runs only in the target build (the host build
/// panics through the kernel hook: user space cannot execute cli).
bool upcalls_off(GuestKind kind, abi::vcpu_info& vi) noexcept;

/// Let upcalls in on the calling vCPU: PV clears `vi`'s
/// evtchn_upcall_mask (sequentially consistent) and, if
/// evtchn_upcall_pending is set, makes one XENVER_version hypercall so
/// that Xen delivers the pending event on its way back, before this
/// returns; PVH sets RFLAGS.IF (sti), and a pending callback vector is
/// taken after the next instruction. Returns whether they were on before.
/// Never fails (XENVER_version cannot). PVH: target build only, as above.
bool upcalls_on(GuestKind kind, abi::vcpu_info& vi) noexcept;

/// Holds upcalls off on the calling vCPU for its lifetime and restores the
/// state it found on destruction: nested guards leave upcalls off until
/// the outermost one ends. No exceptions, no heap; construct it on the
/// stack of the vCPU whose `vi` it is, and end it on that vCPU.
class [[nodiscard]] UpcallGuard {
public:
    /// upcalls_off(kind, vi), remembering what it returned.
    UpcallGuard(GuestKind kind, abi::vcpu_info& vi) noexcept : vi_(&vi), kind_(kind), was_on_(upcalls_off(kind, vi)) {}
    /// upcalls_on(kind, vi) if they were on when the guard was made;
    /// otherwise nothing (an outer holder still wants them off).
    ~UpcallGuard()
    {
        if (was_on_)
            (void)upcalls_on(kind_, *vi_);
    }
    UpcallGuard(const UpcallGuard&) = delete;
    UpcallGuard& operator=(const UpcallGuard&) = delete;

    /// Whether upcalls were on when the guard was made (so will be again after it).
    bool was_on() const noexcept { return was_on_; }

private:
    abi::vcpu_info* vi_;
    GuestKind kind_;
    bool was_on_;
};

/// Sleep the calling vCPU until an upcall is due, without losing one that
/// arrives between the caller's last check for work and the sleep. Call
/// in thread context (never from the upcall handler) with upcalls held off
/// (upcalls_off or an UpcallGuard): the caller checks for work, then calls
/// this. Returns with upcalls off again, after the upcall that ended the
/// sleep has run:
/// - PV: SCHEDOP_block (Xen unmasks and checks evtchn_upcall_pending in one
///   step; the event callback runs on the way back), then `vi`'s
///   evtchn_upcall_mask is set again.
/// - PVH: `sti; hlt; cli`.
/// Any upcall ends it, not only the one the caller waits for: the caller
/// looks again and sleeps again. Errors: SCHEDOP_block's (none on any Xen
/// this library supports; upcalls are held off again even then);
/// unsupported for PVH in the host build, which cannot halt.
Result<void> safe_halt(GuestKind kind, abi::vcpu_info& vi) noexcept;

} // namespace xen
