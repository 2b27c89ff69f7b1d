// Conformance: the PV vCPU context (arch-x86/xen.h, xen-x86_64.h) and the
// HVM/PVH one (hvm/hvm_vcpu.h), both arguments of VCPUOP_initialise.
#include "xen_public.hpp"

#include "check.hpp"

ABI_AREA_BEGIN(guest_context)

// Under -std=c++20 (__STRICT_ANSI__) Xen declares each register as a plain
// uint64_t r<name>, the spelling we use.
ABI_TYPE(xa::cpu_user_regs, cpu_user_regs);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, r15);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, r14);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, r13);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, r12);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rbp);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rbx);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, r11);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, r10);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, r9);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, r8);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rax);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rcx);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rdx);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rsi);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rdi);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, error_code);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, entry_vector);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rip);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, cs);
ABI_FIELD(xa::cpu_user_regs, cpu_user_regs, pad0, _pad0);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, saved_upcall_mask);
ABI_FIELD(xa::cpu_user_regs, cpu_user_regs, pad1, _pad1);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rflags);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, rsp);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, ss);
ABI_FIELD(xa::cpu_user_regs, cpu_user_regs, pad2, _pad2);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, es);
ABI_FIELD(xa::cpu_user_regs, cpu_user_regs, pad3, _pad3);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, ds);
ABI_FIELD(xa::cpu_user_regs, cpu_user_regs, pad4, _pad4);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, fs);
ABI_FIELD(xa::cpu_user_regs, cpu_user_regs, pad5, _pad5);
ABI_SAME_FIELD(xa::cpu_user_regs, cpu_user_regs, gs);
ABI_FIELD(xa::cpu_user_regs, cpu_user_regs, pad6, _pad6);

ABI_TYPE(xa::trap_info, trap_info);
ABI_SAME_FIELD(xa::trap_info, trap_info, vector);
ABI_SAME_FIELD(xa::trap_info, trap_info, flags);
ABI_SAME_FIELD(xa::trap_info, trap_info, cs);
ABI_PAD(xa::trap_info, pad0, trap_info, cs, offsetof(trap_info, address));
ABI_SAME_FIELD(xa::trap_info, trap_info, address);
// Xen spells the flag only as a macro that sets it.
constexpr uint8_t xen_trap_info_if_bit()
{
    trap_info t{};
    TI_SET_IF(&t, 1);
    return t.flags;
}
ABI_CONST(xa::trap_info_if, xen_trap_info_if_bit());

ABI_CONST(xa::flat_ring3_cs32, FLAT_RING3_CS32);
ABI_CONST(xa::flat_ring3_ds32, FLAT_RING3_DS32);
ABI_CONST(xa::flat_ring3_cs64, FLAT_RING3_CS64);
ABI_CONST(xa::flat_ring3_ds64, FLAT_RING3_DS64);
ABI_CONST(xa::flat_ring3_ss64, FLAT_RING3_SS64);
ABI_CONST(xa::flat_kernel_cs, FLAT_KERNEL_CS);
ABI_CONST(xa::flat_kernel_ds, FLAT_KERNEL_DS);
ABI_CONST(xa::flat_kernel_ss, FLAT_KERNEL_SS);

ABI_CONST(xa::vgcf_i387_valid, VGCF_i387_valid);
ABI_CONST(xa::vgcf_in_kernel, VGCF_in_kernel);
ABI_CONST(xa::vgcf_failsafe_disables_events, VGCF_failsafe_disables_events);
ABI_CONST(xa::vgcf_syscall_disables_events, VGCF_syscall_disables_events);
ABI_CONST(xa::vgcf_online, VGCF_online);

ABI_TYPE(xa::vcpu_guest_context, vcpu_guest_context);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, fpu_ctxt);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, flags);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, user_regs);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, trap_ctxt);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, ldt_base);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, ldt_ents);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, gdt_frames);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, gdt_ents);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, kernel_ss);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, kernel_sp);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, ctrlreg);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, debugreg);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, event_callback_eip);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, failsafe_callback_eip);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, syscall_callback_eip);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, vm_assist);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, fs_base);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, gs_base_kernel);
ABI_SAME_FIELD(xa::vcpu_guest_context, vcpu_guest_context, gs_base_user);

ABI_CONST(xa::pfn_to_cr3(0x12345), xen_pfn_to_cr3(0x12345));
ABI_CONST(xa::pfn_to_cr3(0xf'ffff'ffff), xen_pfn_to_cr3(0xf'ffff'ffffull));

ABI_AREA_END(guest_context)

ABI_AREA_BEGIN(hvm_context)

ABI_TYPE(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, eax);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ecx);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, edx);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ebx);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, esp);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ebp);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, esi);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, edi);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, eip);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, eflags);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, cr0);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, cr3);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, cr4);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, pad1);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, efer);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, cs_base);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ds_base);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ss_base);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, es_base);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, tr_base);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, cs_limit);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ds_limit);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ss_limit);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, es_limit);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, tr_limit);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, cs_ar);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ds_ar);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, ss_ar);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, es_ar);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, tr_ar);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_32, vcpu_hvm_x86_32, pad2);

ABI_TYPE(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rax);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rcx);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rdx);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rbx);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rsp);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rbp);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rsi);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rdi);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rip);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, rflags);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, cr0);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, cr3);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, cr4);
ABI_SAME_FIELD(xa::vcpu_hvm_x86_64, vcpu_hvm_x86_64, efer);

ABI_CONST(xa::vcpu_hvm_mode::mode_32b, VCPU_HVM_MODE_32B);
ABI_CONST(xa::vcpu_hvm_mode::mode_64b, VCPU_HVM_MODE_64B);

ABI_TYPE(xa::vcpu_hvm_context, vcpu_hvm_context);
ABI_SAME_FIELD(xa::vcpu_hvm_context, vcpu_hvm_context, mode);
ABI_SAME_FIELD(xa::vcpu_hvm_context, vcpu_hvm_context, pad);
ABI_SAME_FIELD(xa::vcpu_hvm_context, vcpu_hvm_context, cpu_regs);
ABI_SAME_FIELD(xa::vcpu_hvm_context, vcpu_hvm_context, cpu_regs.x86_32);
ABI_SAME_FIELD(xa::vcpu_hvm_context, vcpu_hvm_context, cpu_regs.x86_64);

ABI_AREA_END(hvm_context)
