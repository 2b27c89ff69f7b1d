/// \file
/// Installing the hypercall page.
///
/// PV: Xen writes the page at boot into the location named by the kernel's
/// XEN_ELFNOTE_HYPERCALL_PAGE note; point that note at `xenvcpu_hypercall_page`.
/// HVM/PVH: the guest asks Xen to write it by writing the page's physical
/// address to the MSR named in Xen's CPUID leaf base + 2.
#pragma once

#include <cstdint>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// A cpuid function: `(leaf) -> {eax, ebx, ecx, edx}`. Injected so the search
/// is testable on the host.
struct CpuidRegs {
    ///@{
    uint32_t eax, ebx, ecx, edx; ///< as cpuid leaves them
    ///@}
};
/// The cpuid function itself: the hardware's on the target, a fake in host tests.
using CpuidFn = CpuidRegs (*)(uint32_t leaf) noexcept;

/// Find Xen's CPUID base: the first of 0x40000000, 0x40000100, ... 0x40010000
/// whose signature is "XenVMMXenVMM" and whose max leaf reaches base + 2.
/// unsupported if none (not running on Xen).
Result<uint32_t> find_xen_cpuid_base(CpuidFn cpuid) noexcept;

/// HVM/PVH: ask Xen to fill `xenvcpu_hypercall_page`, whose guest-physical
/// address the kernel passes (identity-mapped kernels pass its address).
/// unsupported if not on Xen. Target build only.
Result<void> install_hypercall_page(PhysAddr page) noexcept;

} // namespace xen
