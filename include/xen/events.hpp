/// \file
/// EventChannels: 2-level event channels for the whole domain: bind VIRQs and
/// IPIs to handlers, send, mask/unmask, close, and the upcall dispatcher.
///
/// Where each call may run (the contract the kernel keeps):
///
/// - dispatch(self, vi): the upcall body, on vCPU `self` only, with that
///   vCPU's upcalls held off for the whole call: on PV Xen sets
///   vcpu_info.evtchn_upcall_mask when it enters the event callback
///   (CALLBACKF_mask_events) and the kernel keeps it set; on PVH the callback
///   vector is an interrupt, so RFLAGS.IF is the mask (Xen does not consult
///   evtchn_upcall_mask for the vector, hvm_vcpu_has_pending_irq). dispatch is
///   not re-entrant per vCPU (it owns that vCPU's cursor); different vCPUs
///   dispatch in parallel.
/// - handlers run inside dispatch: upcall context, on the vCPU the port is
///   bound to. They may call send, mask, unmask, raise_local and close (of a
///   port of their own vCPU); never dispatch, and they must not block.
/// - bind_virq / bind_ipi: thread context on any vCPU (they make hypercalls;
///   calling them with upcalls masked is fine). The handler may run on the
///   target vCPU before bind returns, so `ctx` must be ready first.
/// - send, mask, unmask: any context, any vCPU.
/// - raise_local: on the vCPU the port is bound to, any context.
/// - close: on the vCPU the port is bound to (from its handler, or in thread
///   context with upcalls masked), or for a vCPU that is down. Then no
///   dispatch can be inside that port's handler, and after close returns the
///   handler is never called again.
///
/// Unmask (documented choice): when nothing is pending, clear the mask bit in
/// shared memory with no hypercall. When the port is pending, a notification
/// raised while it was masked has no upcall behind it (public xen.h: "the
/// 'edge' is lost"), so we set the mask bit again and call EVTCHNOP_unmask:
/// Xen clears the mask and, because the bit was masked, sets the selector
/// bit and evtchn_upcall_pending of the *bound* vCPU and kicks it
/// (evtchn_2l_unmask). That works from any vCPU, on PV and PVH, without
/// touching another vCPU's vcpu_info, and costs a hypercall only when an
/// event is actually waiting.
#pragma once

#include <cstdint>
#include <xen/abi/event_channel.hpp>
#include <xen/abi/shared_info.hpp>
#include <xen/hypercall/event_channel_op.hpp>
#include <xen/support/per_vcpu.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// What dispatch calls for a pending port: the port, the vCPU it runs on
/// (the port's vCPU) and the context pointer given at bind time. Runs in
/// upcall context; see the contract at the top of this header.
using EventHandler = void (*)(Port port, VcpuId vcpu, void* ctx) noexcept;

/// The 2-level ABI's port count on x86-64 (64 words of 64 bits).
inline constexpr uint32_t evtchn_max_ports = abi::evtchn_2l_nr_ports;

/// Handlers one dispatch call runs at most before it returns (the rest stay
/// pending and are handed back to Xen's selector): bounds upcall latency.
inline constexpr uint32_t default_dispatch_budget = 256;

/// One port's binding. The kernel provides the storage (one slot per port it
/// may ever use, usually in an EventStorage); only EventChannels writes it.
class EventSlot {
public:
    constexpr EventSlot() noexcept = default;
    EventSlot(const EventSlot&) = delete;
    EventSlot& operator=(const EventSlot&) = delete;

private:
    friend class EventChannels;
    EventHandler handler_ = nullptr;
    void* ctx_ = nullptr;
    /// 0: free; otherwise the bound vcpu_id + 1. One atomic word, so a
    /// dispatcher on another vCPU reads "whose port is this" untorn.
    uint32_t owner_ = 0;
    /// How the port was bound, so that rebind_all() can bind it again in a
    /// restored domain: 0 attached (bound by other means), 1 VIRQ `virq_`, 2 IPI.
    uint8_t binding_ = 0;
    uint8_t virq_ = 0;
    /// rebind_all(): bound in the old domain, not yet bound again.
    uint8_t stale_ = 0;
};

/// Where a vCPU's next dispatch resumes scanning: one per vCPU, kernel
/// storage, touched only by that vCPU's dispatch.
class EventCursor {
public:
    constexpr EventCursor() noexcept = default;
    EventCursor(const EventCursor&) = delete;
    EventCursor& operator=(const EventCursor&) = delete;

private:
    friend class EventChannels;
    uint32_t next_port_ = 0;
};

/// Static storage for an EventChannels: `Ports` handler slots (ports
/// 0..Ports-1; Xen hands out the lowest free port, so a kernel binding a few
/// dozen channels needs a few dozen slots) and one cursor per vCPU.
template <uint32_t Ports, uint32_t Vcpus>
struct EventStorage {
    static_assert(Ports > 0 && Ports <= evtchn_max_ports, "the 2-level ABI has 4096 ports");
    static_assert(Vcpus > 0, "at least one vCPU");
    EventSlot slots[Ports];     ///< slots[p] handles port p
    EventCursor cursors[Vcpus]; ///< cursors[v]: where vCPU v's next dispatch resumes
};

/// What one dispatch call did.
struct DispatchResult {
    uint32_t handled; ///< handlers called
    bool more;        ///< budget ran out with ports still selected; they were
                      ///< handed back (selector bits and evtchn_upcall_pending set)
};

/// The domain's event channels over its shared_info page. One per domain,
/// shared by every vCPU; holds no per-vCPU state of its own (cursors and
/// slots live in kernel storage).
class EventChannels {
public:
    /// An unusable table, for a Domain that lives in `.bss` before init().
    constexpr EventChannels() noexcept = default;

    /// `slots[0..nr_slots)` handle ports below nr_slots (at most 4096);
    /// `cursors` holds each vCPU's dispatch cursor: only vCPUs it has a
    /// cursor for can have ports bound. Storage must outlive the object.
    EventChannels(abi::shared_info& shared, EventSlot* slots, uint32_t nr_slots, PerVcpu<EventCursor> cursors) noexcept
    {
        init(shared, slots, nr_slots, cursors);
    }

    /// Same, over an EventStorage.
    template <uint32_t Ports, uint32_t Vcpus>
    EventChannels(abi::shared_info& shared, EventStorage<Ports, Vcpus>& storage) noexcept
        : EventChannels(shared, storage.slots, Ports, PerVcpu<EventCursor>(storage.cursors, Vcpus))
    {
    }

    /// (Re)point a default-constructed table at its storage, as the
    /// constructor does. Binds nothing and touches no shared memory.
    void init(abi::shared_info& shared, EventSlot* slots, uint32_t nr_slots, PerVcpu<EventCursor> cursors) noexcept;

    EventChannels(const EventChannels&) = delete;
    EventChannels& operator=(const EventChannels&) = delete;

    /// Ports this table can hold (ports at or above it are refused).
    uint32_t capacity() const noexcept { return nr_slots_; }

    /// Bind `virq` on vCPU `vcpu` (EVTCHNOP_bind_virq) to `handler`, unmasked.
    /// Per-vCPU VIRQs (VIRQ_TIMER, VIRQ_DEBUG) are bound once on each vCPU;
    /// global ones only on vCPU 0. Errors: invalid_argument (null handler),
    /// vcpu_out_of_range (no cursor for `vcpu`), no_space (Xen's port is
    /// beyond the table; the port is closed again), or Xen's: EEXIST (already
    /// bound on that vCPU), EINVAL (bad VIRQ, global VIRQ off vCPU 0),
    /// ENOENT (no such vCPU), ENOSPC (Xen is out of ports).
    Result<Port> bind_virq(abi::virq virq, VcpuId vcpu, EventHandler handler, void* ctx) noexcept;

    /// A new IPI port delivered to `vcpu` (EVTCHNOP_bind_ipi), unmasked; any
    /// vCPU may send() on it. Errors as bind_virq, minus EEXIST/EINVAL.
    Result<Port> bind_ipi(VcpuId vcpu, EventHandler handler, void* ctx) noexcept;

    /// bind_ipi for the `n` vCPUs `vcpus[0..n-1]`, batched: `bind_batch`
    /// EVTCHNOP_bind_ipi per HYPERVISOR_multicall (one guest-to-Xen
    /// transition, one VM exit on PVH, instead of one per port), in the
    /// order given; vCPU vcpus[i]'s port goes to `handler` with `ctxs[i]`.
    /// `errors[i]` gets its own outcome and, on success, `ports[i]` its port,
    /// bound and unmasked as bind_ipi leaves it: Errc{}; invalid_argument
    /// (null handler or `ctxs`) or vcpu_out_of_range, refused first; no_space
    /// (the port is beyond the table; closed again); Xen's error for that
    /// entry. When the batch call itself fails, every entry of that batch
    /// gets its error, except -ENOSYS (HVM/PVH before Xen 4.16), where the
    /// batch falls back to one bind each. Returns how many of the `n` failed.
    uint32_t bind_ipi_many(const VcpuId* vcpus, uint32_t n, EventHandler handler, void* const* ctxs, Port* ports,
                           Errc* errors) noexcept;
    /// EVTCHNOP_bind_ipis per multicall in bind_ipi_many (72 bytes of stack each).
    static constexpr uint32_t bind_batch = 16;

    /// Handle `port`, bound by other means, on vCPU `vcpu`: a console or
    /// xenstore port from start_info or an HVM param, an interdomain port.
    /// `vcpu` must be the vCPU Xen notifies for it (vCPU 0 unless moved with
    /// EVTCHNOP_bind_vcpu), or its events sit pending forever. Makes no
    /// hypercall and leaves the mask bit alone: unmask() when ready.
    /// Attaching a port that is already attached replaces its handler; do
    /// that only where close() could run (its vCPU is not dispatching it).
    /// Errors: invalid_argument (null handler), port_out_of_range,
    /// vcpu_out_of_range.
    Result<void> attach(Port port, VcpuId vcpu, EventHandler handler, void* ctx) noexcept;

    /// Notify `port` (EVTCHNOP_send): an IPI port wakes its vCPU. Errors:
    /// port_out_of_range; Xen's EINVAL for a VIRQ or closed port.
    Result<void> send(Port port) noexcept;

    /// Hold off `port`: set its mask bit (Xen only reads the mask). Events
    /// still set the pending bit; unmask delivers them. No hypercall.
    /// Errors: port_out_of_range.
    Result<void> mask(Port port) noexcept;

    /// Let `port` through again; if it is pending, have Xen re-deliver it
    /// to the bound vCPU (see the note at the top). Errors: port_out_of_range;
    /// Xen's EINVAL from EVTCHNOP_unmask.
    Result<void> unmask(Port port) noexcept;

    /// Close `port` (EVTCHNOP_close; Xen also clears its pending bit).
    /// `self` is the vCPU the port is bound to: the calling vCPU, or a vCPU
    /// that is down. Errors: port_out_of_range, port_not_bound (not bound in
    /// this table), not_current_vcpu (bound to another vCPU), or Xen's
    /// (then the binding is kept).
    Result<void> close(Port port, VcpuId self) noexcept;

    /// Raise `port` on this vCPU without Xen, exactly as Xen would
    /// (evtchn_2l_set_pending): set pending; if unmasked and newly pending,
    /// set the selector bit and evtchn_upcall_pending in `vi`. A VIRQ port
    /// cannot be sent (EVTCHNOP_send answers EINVAL), so this is how a
    /// driver self-injects, e.g. a timer that is already due. Delivery: the
    /// running dispatch picks it up; otherwise the next upcall (PV: Xen
    /// checks evtchn_upcall_pending on every return to the guest; PVH
    /// callback vector: on every VM entry) or a dispatch the kernel calls.
    /// Errors: port_out_of_range, port_not_bound, not_current_vcpu.
    Result<void> raise_local(Port port, VcpuId self, abi::vcpu_info& vi) noexcept;

    /// raise_local's marking alone, for a port this table does not own:
    /// one the kernel bound and dispatches itself (TimerDriver::attach).
    /// The caller answers for `port` being bound to the calling vCPU, whose
    /// vcpu_info `vi` is, and below abi::evtchn_2l_nr_ports. Never fails.
    static void raise_unowned(abi::shared_info& shared, Port port, abi::vcpu_info& vi) noexcept;

    /// Set every mask bit (boot, before binding anything or enabling
    /// upcalls): ports nobody bound cannot raise upcalls.
    void mask_all() noexcept;

    // --- across save and restore (docs/lifecycle.md) ------------------------

    /// Use a new shared_info page (a PV kernel remapped it after a restore).
    /// No hypercall; call with no dispatch running.
    void set_shared(abi::shared_info& shared) noexcept { shared_ = &shared; }
    /// The domain was restored into a new one, where Xen knows none of the
    /// old bindings (docs/xen-contracts.md, "Save, restore and migration"):
    /// bind every VIRQ and IPI of the table again on its vCPU, with its
    /// handler and ctx, unmasked, and forget every attached port (its number
    /// came from start_info or an HVM param of the old domain: the kernel
    /// attaches the new one). Ports may come back under other numbers;
    /// find() tells where a binding went. Call with every other vCPU down
    /// and upcalls held off. Returns the ports bound again. Errors: Xen's
    /// from bind (`*failed_vcpu` names the vCPU), no_space (Xen's new port
    /// is beyond the table); on error the bindings not yet redone are
    /// forgotten.
    Result<uint32_t> rebind_all(VcpuId* failed_vcpu = nullptr) noexcept;
    /// The port bound on `vcpu` with `handler` and `ctx`, or port_not_bound.
    Result<Port> find(EventHandler handler, const void* ctx, VcpuId vcpu) const noexcept;

    /// The upcall body for vCPU `self` with its vcpu_info `vi` (in
    /// shared_info for vCPU < 32, else its registered Area<vcpu_info>).
    /// Clears evtchn_upcall_pending, takes evtchn_pending_sel, and for every
    /// selected word calls the handler of each pending, unmasked port bound
    /// to `self`, clearing the pending bit first; repeats while Xen raises
    /// evtchn_upcall_pending again. Resumes where the previous call stopped
    /// (no port starves) and calls at most `budget` handlers. Ports bound to
    /// other vCPUs, or to nothing, are left pending. Never fails.
    DispatchResult dispatch(VcpuId self, abi::vcpu_info& vi, uint32_t budget = default_dispatch_budget) noexcept;

private:
    Result<Port> adopt(Port port, VcpuId vcpu, EventHandler handler, void* ctx) noexcept;
    Result<void> check(Port port) const noexcept;
    Result<void> check_owned(Port port, VcpuId self) const noexcept;
    bool owned_by(uint32_t port, uint32_t owner) const noexcept;

    abi::shared_info* shared_ = nullptr;
    EventSlot* slots_ = nullptr;
    uint32_t nr_slots_ = 0;
    PerVcpu<EventCursor> cursors_;
};

} // namespace xen
