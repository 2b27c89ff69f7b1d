/// \file
/// HVM/PVH vCPU context for VCPUOP_initialise (public hvm/hvm_vcpu.h).
/// After initialise the vCPU is left down: VCPUOP_up must follow. In 64-bit
/// mode Xen loads flat segments but no GDTR/IDTR/TR: the AP loads its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace xen::abi {

/// `struct vcpu_hvm_x86_32` (120 bytes).
struct vcpu_hvm_x86_32 {
    ///@{
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi; ///< general-purpose registers at the first instruction
    ///@}
    ///@{
    uint32_t eip, eflags; ///< where the vCPU starts, and its flags
    ///@}
    ///@{
    uint32_t cr0, cr3, cr4; ///< control registers
    ///@}
    uint32_t pad1; ///< must be 0
    uint64_t efer; ///< the EFER MSR
    ///@{
    uint32_t cs_base, ds_base, ss_base, es_base, tr_base; ///< segment bases
    ///@}
    ///@{
    uint32_t cs_limit, ds_limit, ss_limit, es_limit, tr_limit; ///< segment limits
    ///@}
    ///@{
    uint16_t cs_ar, ds_ar, ss_ar, es_ar,
        tr_ar; ///< segment attributes: descriptor bits 40-47 and 52-55 packed into bits 0-11 (Xen's hvm_vcpu.h)
    ///@}
    uint16_t pad2[3]; ///< must be 0
};
static_assert(sizeof(vcpu_hvm_x86_32) == 120);
static_assert(offsetof(vcpu_hvm_x86_32, efer) == 56);
static_assert(offsetof(vcpu_hvm_x86_32, cs_base) == 64);
static_assert(offsetof(vcpu_hvm_x86_32, cs_limit) == 84);
static_assert(offsetof(vcpu_hvm_x86_32, cs_ar) == 104);
static_assert(offsetof(vcpu_hvm_x86_32, pad2) == 114);

/// `struct vcpu_hvm_x86_64` (112 bytes).
struct vcpu_hvm_x86_64 {
    ///@{
    uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi; ///< general-purpose registers at the first instruction
    ///@}
    ///@{
    uint64_t rip, rflags; ///< where the vCPU starts, and its flags
    ///@}
    ///@{
    uint64_t cr0, cr3, cr4, efer; ///< control registers and EFER: the vCPU starts in long mode with paging on (cr3: its
                                  ///< page tables), flat segments
    ///@}
};
static_assert(sizeof(vcpu_hvm_x86_64) == 112);
static_assert(offsetof(vcpu_hvm_x86_64, rip) == 64);
static_assert(offsetof(vcpu_hvm_x86_64, cr0) == 80);
static_assert(offsetof(vcpu_hvm_x86_64, cr3) == 88);
static_assert(offsetof(vcpu_hvm_x86_64, cr4) == 96);
static_assert(offsetof(vcpu_hvm_x86_64, efer) == 104);

/// `VCPU_HVM_MODE_*`.
enum class vcpu_hvm_mode : uint32_t {
    mode_32b = 0,
    mode_64b = 1,
};

/// `struct vcpu_hvm_context` (128 bytes).
struct vcpu_hvm_context {
    uint32_t mode; ///< vcpu_hvm_mode
    uint32_t pad;  ///< must be 0
    /// The registers, by `mode`.
    union {
        vcpu_hvm_x86_32 x86_32; ///< mode_32b
        vcpu_hvm_x86_64 x86_64; ///< mode_64b
    } cpu_regs;
};
static_assert(sizeof(vcpu_hvm_context) == 128);
static_assert(offsetof(vcpu_hvm_context, cpu_regs) == 8);
static_assert(std::is_standard_layout_v<vcpu_hvm_context> && std::is_trivially_copyable_v<vcpu_hvm_context>);

} // namespace xen::abi
