// Xen's CPUID leaves may start at 0x40000000 or be moved up in steps of
// 0x100 (public arch-x86/cpuid.h), e.g. when Viridian leaves come first.
#include <xen/abi/cpuid.hpp>
#include <xen/hypercall/page.hpp>

namespace xen {

Result<uint32_t> find_xen_cpuid_base(CpuidFn cpuid) noexcept
{
    for (uint32_t base = abi::cpuid_first_leaf; base <= abi::cpuid_last_base; base += abi::cpuid_leaf_stride) {
        const CpuidRegs r = cpuid(base);
        if (r.ebx == abi::cpuid_signature_ebx && r.ecx == abi::cpuid_signature_ecx &&
            r.edx == abi::cpuid_signature_edx && r.eax >= base + abi::cpuid_leaf_hypercall)
            return base;
    }
    return err(Errc::unsupported);
}

} // namespace xen
