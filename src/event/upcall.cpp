// Upcall masking and the safe sleep, for PV (vcpu_info's mask) and PVH
// (RFLAGS.IF): event/upcall.hpp has the Xen contract of each.
#include <xen/event/upcall.hpp>

#include <xen/hypercall/sched_op.hpp>
#include <xen/hypercall/xen_version.hpp>
#include <xen/support/panic.hpp>

namespace xen {

namespace {

// PVH: set RFLAGS.IF to `on` (sti / cli); returns what it was.
bool exchange_interrupt_flag(bool on) noexcept
{
#if defined(XENVCPU_HOST)
    (void)on;
    xenvcpu_panic("xenvcpu: PVH upcall masking (cli/sti) exists only in the target build");
#else
    uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags)::"memory");
    if (on)
        asm volatile("sti" ::: "memory");
    else
        asm volatile("cli" ::: "memory");
    return (flags & (uint64_t{1} << 9)) != 0; // RFLAGS.IF
#endif
}

// PV: set evtchn_upcall_mask to `masked`; returns whether upcalls were on.
bool exchange_mask(abi::vcpu_info& vi, bool masked) noexcept
{
    return __atomic_exchange_n(&vi.evtchn_upcall_mask, static_cast<uint8_t>(masked ? 1 : 0), __ATOMIC_SEQ_CST) == 0;
}

} // namespace

bool upcalls_off(GuestKind kind, abi::vcpu_info& vi) noexcept
{
    return kind == GuestKind::pv ? exchange_mask(vi, true) : exchange_interrupt_flag(false);
}

bool upcalls_on(GuestKind kind, abi::vcpu_info& vi) noexcept
{
    if (kind != GuestKind::pv)
        return exchange_interrupt_flag(true);
    const bool was_on = exchange_mask(vi, false);
    // Xen checks for pending events only on its way back into the guest:
    // one that came while the mask was set waits for the next exit unless
    // we make one now (the flag is read after the cleared mask is visible,
    // so an event after this load finds the mask clear and Xen delivers it
    // itself).
    if (__atomic_load_n(&vi.evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0)
        (void)hc::xen_version();
    return was_on;
}

Result<void> safe_halt(GuestKind kind, abi::vcpu_info& vi) noexcept
{
    if (kind == GuestKind::pv) {
        const Result<void> r = hc::sched_block();
        // Xen left the mask clear (and ran the callback on the way out if
        // an event was pending): hold upcalls off again, as we were called.
        (void)exchange_mask(vi, true);
        return r;
    }
#if defined(XENVCPU_HOST)
    return err(Errc::unsupported);
#else
    // sti's one-instruction interrupt shadow covers hlt: an upcall that
    // arrived after the caller's check is taken once hlt has begun, and
    // ends it (Xen's hvm_hlt also returns at once when one is pending).
    asm volatile("sti; hlt; cli" ::: "memory");
    return ok();
#endif
}

} // namespace xen
