/// \file
/// Registering a per-vCPU area with Xen by physical address when Xen offers
/// it, by virtual address otherwise. Two areas come in both forms:
///
///   runstate area  op 14 VCPUOP_register_runstate_phys_area   else op 5
///   time area      op 15 VCPUOP_register_vcpu_time_phys_area  else op 13
///
/// The physical forms (Xen 4.18+) are announced by XENFEAT_runstate_phys_area
/// and XENFEAT_vcpu_time_phys_area: Xen maps the page once, writes it even
/// while a PV vCPU runs in user mode (where a kernel virtual address is not
/// mapped), and is cheaper for HVM/PVH. -ENOSYS from them is reserved for a
/// per-domain disable of the op (docs/xen-contracts.md, "Physical-address
/// areas"); the virtual-address op still works then.
#pragma once

#include <cstdint>
#include <xen/abi/version.hpp>
#include <xen/hypercall/xen_version.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// Which op registered an area (runstate or time).
enum class AreaKind : uint8_t {
    none,             ///< not registered
    virtual_address,  ///< op 5 (runstate) / op 13 (time)
    physical_address, ///< op 14 (runstate) / op 15 (time), Xen 4.18+
};

/// "op 13" / "op 15" style name for logs: "none", "virtual", "physical".
constexpr const char* area_kind_name(AreaKind k) noexcept
{
    return k == AreaKind::physical_address ? "physical" : k == AreaKind::virtual_address ? "virtual" : "none";
}

/// Means "no physical address known": register by virtual address.
inline constexpr PhysAddr phys_unknown{~uint64_t{0}};

/// Register an area the way Xen prefers: call `by_phys()` (the physical
/// op, a `Result<void>()` callable) when `features` has `phys_feature` and
/// `pa` is known (not phys_unknown), else, or when that op answers -ENOSYS,
/// `by_virt()` (the virtual-address op). Returns which op succeeded.
/// Errors: the physical op's other errors as they are (no fallback: the
/// area or address is wrong, and the virtual op would not do better), or
/// the virtual op's.
template <class ByPhys, class ByVirt>
Result<AreaKind> register_phys_or_virt(XenFeatures features, abi::xenfeat phys_feature, PhysAddr pa, ByPhys&& by_phys,
                                       ByVirt&& by_virt) noexcept
{
    if (features.has(phys_feature) && pa != phys_unknown) {
        const Result<void> r = by_phys();
        if (r.has_value())
            return AreaKind::physical_address;
        if (r.error() != Errc::enosys)
            return err(r.error());
    }
    XEN_TRY(by_virt());
    return AreaKind::virtual_address;
}

} // namespace xen
