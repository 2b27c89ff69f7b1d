// HVM/PVH hypercall page installation (target build only: it writes an MSR).
#include <xen/abi/cpuid.hpp>
#include <xen/arch/x86.hpp>
#include <xen/hypercall/page.hpp>

namespace xen {

namespace {
CpuidRegs hardware_cpuid(uint32_t leaf) noexcept
{
    const auto r = arch::cpuid(leaf);
    return CpuidRegs{r.eax, r.ebx, r.ecx, r.edx};
}
} // namespace

Result<void> install_hypercall_page(PhysAddr page) noexcept
{
    if (page.value % page_size != 0)
        return err(Errc::area_misaligned);
    XEN_TRY_ASSIGN(uint32_t base, find_xen_cpuid_base(hardware_cpuid));
    // base + 2: eax = number of hypercall pages, ebx = the MSR to write.
    const auto leaf = arch::cpuid(base + abi::cpuid_leaf_hypercall);
    if (leaf.eax == 0)
        return err(Errc::unsupported);
    arch::wrmsr(leaf.ebx, page.value);
    return ok();
}

} // namespace xen
