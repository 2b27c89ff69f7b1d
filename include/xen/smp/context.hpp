/// \file
/// The first register state of an AP, for VCPUOP_initialise
/// (docs/xen-contracts.md, "Initial register state").
///
/// PV (vcpu_guest_context): the AP starts in the kernel (VGCF_in_kernel,
/// ring 3 flat selectors) on its own stack, on the kernel's page tables
/// (ctrlreg[3] = MFN of the L4 as cr3), with the kernel's virtual IDT
/// (trap_ctxt, indexed by vector) and event/failsafe callbacks, and its
/// per-CPU pointer as the kernel GS base. Never VGCF_online: that flag clears
/// _VPF_down without waking the vCPU, so a later VCPUOP_up would not wake it
/// either (the wake trap, docs/xen-contracts.md, "vCPU flags and the wake trap");
/// we leave it down and VCPUOP_up it.
///
/// PVH (vcpu_hvm_context, 64-bit mode): long mode at once, on the kernel's
/// cr0/cr3/cr4/EFER. Xen loads flat segments but no GDTR, IDTR or TR, so the
/// entry must load its own before it can take an exception or interrupt
/// (RFLAGS.IF starts clear). Nor does it set the GS base: the AP writes
/// MSR_GS_BASE itself. After initialise the vCPU is down: VCPUOP_up next.
///
/// Both: rdi = the AP's ApHandshake, rsp = its stack top, rip = the entry stub.
#pragma once

#include <cstdint>
#include <xen/abi/guest_context.hpp>
#include <xen/abi/hvm_context.hpp>
#include <xen/smp/handshake.hpp>
#include <xen/support/result.hpp>

namespace xen {

/// What every PV AP starts with, from the boot vCPU's own setup.
struct PvBoot {
    uint64_t cr3;                     ///< abi::pfn_to_cr3(MFN of the kernel's L4 page table)
    const abi::trap_info* trap_table; ///< as given to set_trap_table: ends with address 0; may be null
    uint64_t event_callback;          ///< CALLBACKTYPE_event entry
    uint64_t failsafe_callback;       ///< CALLBACKTYPE_failsafe entry
    uint64_t syscall_callback;        ///< CALLBACKTYPE_syscall entry, 0 for none
};

/// What every PVH AP starts with: the boot vCPU's control registers (read
/// them there; they name the kernel's page tables and long mode).
struct HvmBoot {
    uint64_t cr0;  ///< needs PG and PE
    uint64_t cr3;  ///< the kernel's PML4 (guest-physical)
    uint64_t cr4;  ///< needs PAE
    uint64_t efer; ///< needs LME (and LMA)
};

/// Where one AP starts: the entry stub, its handshake, stack and GS base.
struct ApLaunch {
    uint64_t rip;       ///< the entry stub (assembly): reads the handshake from rdi
    uint64_t stack_top; ///< 16-byte aligned top of the AP's stack
    uint64_t handshake; ///< address of the AP's ApHandshake (passed in rdi)
    uint64_t gs_base;   ///< PV: kernel GS base (per-CPU pointer); PVH: ignored (the AP sets it)
};

/// The x86 flags an AP starts with: reserved bit 1 only (IF clear).
inline constexpr uint64_t ap_initial_rflags = 0x2;

/// Fill `out` (zeroed first) for a PV AP. Errors: invalid_argument for a
/// non-canonical rip or callback, a misaligned stack or a zero cr3, or a
/// trap table with more than 256 entries (what Xen would refuse, or what
/// could never run).
Result<void> make_pv_context(const PvBoot& boot, const ApLaunch& launch, abi::vcpu_guest_context& out) noexcept;

/// Fill `out` (zeroed first) for a PVH AP in 64-bit mode. Errors:
/// invalid_argument for a non-canonical rip, a misaligned stack, or control
/// registers without CR0.PG, CR4.PAE or EFER.LME (Xen: -EINVAL).
Result<void> make_hvm_context(const HvmBoot& boot, const ApLaunch& launch, abi::vcpu_hvm_context& out) noexcept;

} // namespace xen
