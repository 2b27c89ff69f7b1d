/// \file
/// KernelHooks: everything the library asks of the kernel it runs in, in one
/// struct of function pointers with one context pointer. The kernel fills it
/// once and hands it to its Domain; every component (Smp, TimerDriver, the
/// clock, bounded waits) reaches the kernel through the Domain's copy.
///
/// Why a struct of function pointers and not a template parameter: the same
/// library must serve C kernels (a C struct of function pointers is their
/// native idiom: the C API's xenvcpu_hooks mirrors this one, docs/capi.md), one
/// compiled archive must serve every kernel, and none of these hooks is on a
/// hot path (the clock read does not go through a hook unless the kernel
/// asks for it). docs/object-model.md, "Hooks".
///
/// Not here: the panic sink. Result::value() and XEN_ASSERT must be able to
/// panic from code that has no Domain at hand, so `xenvcpu_panic` stays a
/// link-time hook (include/xen/support/panic.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// Where an AP starts: its stack and the data its entry gets (from the
/// kernel, at bring-up).
struct ApStack {
    uint64_t stack_top; ///< 16-byte aligned
    uint64_t arg;       ///< handed to the AP's entry in the handshake (e.g. its per-CPU block)
    uint64_t gs_base;   ///< PV: the kernel GS base Xen loads; PVH: unused
};

/// The kernel's side of the library. `ctx` is passed back to every hook.
/// Every hook must be safe to call on any vCPU; unless said otherwise, also
/// with upcalls held off.
struct KernelHooks {
    /// The kernel's context, passed back as every hook's first argument.
    void* ctx = nullptr;

    // --- always required -------------------------------------------------

    /// The calling vCPU's Xen vcpu_id (a per-CPU variable, e.g. read through
    /// %gs). Any context, upcalls held off included.
    VcpuId (*current)(void* ctx) noexcept = nullptr;

    // --- required for what needs them -----------------------------------

    /// The frame Xen knows kernel memory `p` by: PV the MFN (through the
    /// p2m), PVH the GFN. Needed to place vcpu_info areas (op 10), so for
    /// bring-up beyond the boot vCPU.
    FrameNumber (*frame_of)(void* ctx, const void* p) noexcept = nullptr;
    /// AP `vcpu`'s stack and entry data. Needed by Smp::start.
    ApStack (*ap_stack)(void* ctx, VcpuId vcpu) noexcept = nullptr;

    // --- optional ----------------------------------------------------------

    /// Xen system time (ns) as the calling vCPU reads it. Leave null to use
    /// the Domain's own SystemClock (monotonic on and across vCPUs); set it
    /// when the kernel keeps its own time source (a simulated clock in host
    /// tests, a clock the kernel already trusts).
    uint64_t (*now_ns)(void* ctx) noexcept = nullptr;
    /// One step of a bounded wait (bring-up, hotplug, a cross-CPU call):
    /// serve the waiter's own mailbox, yield the pCPU. Null: SCHEDOP_yield,
    /// so that an AP sharing the waiter's pCPU gets to run.
    void (*relax)(void* ctx) noexcept = nullptr;
    /// A line of diagnostics from the library (no newline included). Null:
    /// the library stays silent. Any context; may drop output.
    void (*log)(void* ctx, const char* text, size_t len) noexcept = nullptr;
    /// More per-vCPU setup on the controller before AP `vcpu` first starts
    /// (the kernel's own areas, its VIRQs). An error fails Smp::prepare.
    Result<void> (*ap_prepare)(void* ctx, VcpuId vcpu) noexcept = nullptr;
    /// On the AP, right before it takes itself down (stop its timers), and
    /// right after it comes back (re-arm them). Thread context.
    void (*before_park)(void* ctx, VcpuId vcpu) noexcept = nullptr;
    /// On the AP, right after it comes back from parking (re-arm its
    /// timers); the pair of before_park. Thread context.
    void (*after_resume)(void* ctx, VcpuId vcpu) noexcept = nullptr;
};

} // namespace xen
