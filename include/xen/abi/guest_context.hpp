/// \file
/// PV vCPU context for VCPUOP_initialise (arch-x86/xen.h, xen-x86_64.h),
/// x86-64 layout: `cpu_user_regs`, `trap_info`, `vcpu_guest_context`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace xen::abi {

/// `struct cpu_user_regs` (x86-64, 200 bytes). Field order is Xen's.
struct cpu_user_regs {
    ///@{
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8; ///< general-purpose registers
    ///@}
    ///@{
    uint64_t rax, rcx, rdx, rsi, rdi; ///< general-purpose registers
    ///@}
    uint32_t error_code;       ///< private to Xen
    uint32_t entry_vector;     ///< private to Xen
    uint64_t rip;              ///< where the vCPU starts
    uint16_t cs;               ///< code segment selector (flat_kernel_cs for a PV kernel)
    uint16_t pad0[1];          ///< zero
    uint8_t saved_upcall_mask; ///< the vCPU's event upcall mask at entry (1: events held off)
    uint8_t pad1[3];           ///< zero
    uint64_t rflags;           ///< rflags.IF == !saved_upcall_mask
    uint64_t rsp;              ///< stack pointer
    ///@{
    uint16_t ss, pad2[3]; ///< stack segment selector (flat_kernel_ss), then zero padding
    ///@}
    ///@{
    uint16_t es, pad3[3]; ///< data segment selector, then zero padding
    ///@}
    ///@{
    uint16_t ds, pad4[3]; ///< data segment selector, then zero padding
    ///@}
    ///@{
    uint16_t fs, pad5[3]; ///< fs selector (the base is vcpu_guest_context::fs_base), then zero padding
    ///@}
    ///@{
    uint16_t gs, pad6[3]; ///< gs selector (the bases are vcpu_guest_context::gs_base_*), then zero padding
    ///@}
};
static_assert(sizeof(cpu_user_regs) == 200);
static_assert(offsetof(cpu_user_regs, rax) == 80);
static_assert(offsetof(cpu_user_regs, rdi) == 112);
static_assert(offsetof(cpu_user_regs, error_code) == 120);
static_assert(offsetof(cpu_user_regs, rip) == 128);
static_assert(offsetof(cpu_user_regs, cs) == 136);
static_assert(offsetof(cpu_user_regs, saved_upcall_mask) == 140);
static_assert(offsetof(cpu_user_regs, rflags) == 144);
static_assert(offsetof(cpu_user_regs, rsp) == 152);
static_assert(offsetof(cpu_user_regs, ss) == 160);
static_assert(offsetof(cpu_user_regs, gs) == 192);

/// `struct trap_info`: one entry of a PV virtual IDT (set_trap_table).
/// A table ends with an entry whose `address` is 0.
struct trap_info {
    uint8_t vector;   ///< the exception or interrupt vector
    uint8_t flags;    ///< bits 0-1: DPL; bit 2: clear the upcall mask on entry? (TI_SET_IF)
    uint16_t cs;      ///< the handler's code segment selector
    uint32_t pad0;    ///< zero
    uint64_t address; ///< the handler's address (0 ends a table)
};
static_assert(sizeof(trap_info) == 16);
static_assert(offsetof(trap_info, address) == 8);

/// trap_info::flags bit asking Xen to mask events on entry ("interrupt gate").
inline constexpr uint8_t trap_info_if = 1u << 2;

/// Flat segment selectors Xen provides to 64-bit PV guests (xen-x86_64.h,
/// `FLAT_RING3_*`; a 64-bit PV kernel runs in ring 3).
///@{
inline constexpr uint16_t flat_ring3_cs32 = 0xe023;
inline constexpr uint16_t flat_ring3_ds32 = 0xe02b;
inline constexpr uint16_t flat_ring3_cs64 = 0xe033;
inline constexpr uint16_t flat_ring3_ds64 = 0x0000;
inline constexpr uint16_t flat_ring3_ss64 = 0xe02b;
inline constexpr uint16_t flat_kernel_cs = flat_ring3_cs64;
inline constexpr uint16_t flat_kernel_ds = flat_ring3_ds64;
inline constexpr uint16_t flat_kernel_ss = flat_ring3_ss64;
///@}

/// `VGCF_*` flags in vcpu_guest_context::flags.
inline constexpr uint64_t vgcf_i387_valid = 1u << 0;
inline constexpr uint64_t vgcf_in_kernel = 1u << 2;                ///< the vCPU starts in kernel mode
inline constexpr uint64_t vgcf_failsafe_disables_events = 1u << 3; ///< mask events on entry to the failsafe callback
inline constexpr uint64_t vgcf_syscall_disables_events = 1u << 4;  ///< mask events on entry to the syscall callback
/// Start the vCPU online. Beware: it clears _VPF_down without waking the
/// vCPU, so a later VCPUOP_up does not wake it either (docs/vcpuop.md,
/// "Semantics worth knowing").
inline constexpr uint64_t vgcf_online = 1u << 5;

/// `struct vcpu_guest_context` (x86-64 PV, 5168 bytes): the argument of
/// VCPUOP_initialise for PV guests.
struct vcpu_guest_context {
    uint8_t fpu_ctxt[512];    ///< FXSAVE image; used when VGCF_i387_valid
    uint64_t flags;           ///< VGCF_*
    cpu_user_regs user_regs;  ///< the registers the vCPU starts with
    trap_info trap_ctxt[256]; ///< virtual IDT
    ///@{
    uint64_t ldt_base, ldt_ents; ///< the LDT's linear address and number of entries (0: none)
    ///@}
    uint64_t gdt_frames[16]; ///< MFNs of read-only GDT pages
    uint64_t gdt_ents;       ///< entries in the GDT pages (0: Xen's default GDT only)
    ///@{
    uint64_t kernel_ss, kernel_sp; ///< the PV "TSS": stack for kernel entry
    ///@}
    uint64_t ctrlreg[8];            ///< ctrlreg[3] = xen_pfn_to_cr3(L4 MFN) = MFN << 12
    uint64_t debugreg[8];           ///< debug registers dr0-dr7
    uint64_t event_callback_eip;    ///< the event upcall entry (PV: where Xen delivers events)
    uint64_t failsafe_callback_eip; ///< the failsafe entry (Xen could not load a segment on return to the guest)
    uint64_t syscall_callback_eip;  ///< the 64-bit syscall entry
    uint64_t vm_assist;             ///< VMASST bitmap; only honoured for vCPU 0
    uint64_t fs_base;               ///< the FS base
    uint64_t gs_base_kernel;        ///< the GS base in kernel mode (the per-CPU block)
    uint64_t gs_base_user;          ///< the GS base in user mode
};
static_assert(sizeof(vcpu_guest_context) == 5168);
static_assert(offsetof(vcpu_guest_context, flags) == 512);
static_assert(offsetof(vcpu_guest_context, user_regs) == 520);
static_assert(offsetof(vcpu_guest_context, trap_ctxt) == 720);
static_assert(offsetof(vcpu_guest_context, ldt_base) == 4816);
static_assert(offsetof(vcpu_guest_context, ldt_ents) == 4824);
static_assert(offsetof(vcpu_guest_context, gdt_frames) == 4832);
static_assert(offsetof(vcpu_guest_context, gdt_ents) == 4960);
static_assert(offsetof(vcpu_guest_context, kernel_ss) == 4968);
static_assert(offsetof(vcpu_guest_context, kernel_sp) == 4976);
static_assert(offsetof(vcpu_guest_context, ctrlreg) == 4984);
static_assert(offsetof(vcpu_guest_context, debugreg) == 5048);
static_assert(offsetof(vcpu_guest_context, event_callback_eip) == 5112);
static_assert(offsetof(vcpu_guest_context, failsafe_callback_eip) == 5120);
static_assert(offsetof(vcpu_guest_context, syscall_callback_eip) == 5128);
static_assert(offsetof(vcpu_guest_context, vm_assist) == 5136);
static_assert(offsetof(vcpu_guest_context, fs_base) == 5144);
static_assert(offsetof(vcpu_guest_context, gs_base_kernel) == 5152);
static_assert(offsetof(vcpu_guest_context, gs_base_user) == 5160);
static_assert(std::is_standard_layout_v<vcpu_guest_context> && std::is_trivially_copyable_v<vcpu_guest_context>);

/// `xen_pfn_to_cr3` for x86-64: the frame shifted into place.
constexpr uint64_t pfn_to_cr3(uint64_t pfn) noexcept { return pfn << 12; }

} // namespace xen::abi
