/// \file
/// Xen's CPUID leaves (public arch-x86/cpuid.h). They start at 0x40000000 but
/// may be offset in steps of 0x100 (e.g. when Xen also exposes Viridian).
#pragma once

#include <cstdint>

namespace xen::abi {

/// The first leaf where Xen's CPUID base may be (hypervisor range).
inline constexpr uint32_t cpuid_first_leaf = 0x40000000;
/// Distance between candidate bases (Xen moves up when Viridian takes the first).
inline constexpr uint32_t cpuid_leaf_stride = 0x100;
/// Leaves searched for the signature: 0x40000000 .. 0x40010000.
inline constexpr uint32_t cpuid_last_base = 0x40010000;

/// "XenVMMXenVMM" in ebx, ecx, edx of the base leaf.
inline constexpr uint32_t cpuid_signature_ebx = 0x566e6558;
inline constexpr uint32_t cpuid_signature_ecx = 0x65584d4d; ///< "XenVMMXenVMM": ecx part
inline constexpr uint32_t cpuid_signature_edx = 0x4d4d566e; ///< "XenVMMXenVMM": edx part

/// base + 1: eax = version (major << 16 | minor).
inline constexpr uint32_t cpuid_leaf_version = 1;
/// base + 2: eax = number of hypercall pages, ebx = MSR to write the page's
/// physical address into.
inline constexpr uint32_t cpuid_leaf_hypercall = 2;
/// base + 4 (HVM): eax flags; ebx = vcpu_id when XEN_HVM_CPUID_VCPU_ID_PRESENT.
inline constexpr uint32_t cpuid_leaf_hvm = 4;
/// `XEN_HVM_CPUID_VCPU_ID_PRESENT`: leaf base + 4's eax flag, ebx holds the vcpu_id.
inline constexpr uint32_t hvm_cpuid_vcpu_id_present = 1u << 3;

} // namespace xen::abi
