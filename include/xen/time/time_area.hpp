// The secondary vcpu_time_info area: a second copy of a vCPU's pvclock
// record that Xen keeps current beside the one in vcpu_info (meant for a
// user-space clock, or for a kernel whose vcpu_info is not where it wants
// the record). VCPUOP_register_vcpu_time_phys_area (op 15, Xen 4.18+,
// XENFEAT_vcpu_time_phys_area) by guest-physical address is preferred: it is
// cheap for HVM/PVH and written even while a PV vCPU is in user mode
// (docs/xen-contracts.md, "Physical-address areas"). Otherwise
// VCPUOP_register_vcpu_time_memory_area
// (op 13, Xen 4.3+) by virtual address.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// Which op registered an area (also used for runstate areas).
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

/// Register `area` as vCPU `id`'s secondary time record. `pa` is where Xen
/// finds it (PV: machine address; HVM/PVH: guest-physical) or phys_unknown.
/// Uses op 15 when `features` (XENFEAT submap 0) has vcpu_time_phys_area and
/// `pa` is known, falling back to op 13 if op 15 answers -ENOSYS. Returns
/// the op used. Errors: those of the op (area_misaligned, area_crosses_page,
/// -EINVAL, -EFAULT, -ENXIO, ...); -ENOSYS from op 13 on Xen 4.0-4.2.
Result<AreaKind> register_time_area(VcpuId id, Area<abi::vcpu_time_info>& area, PhysAddr pa,
                                    uint32_t features) noexcept;

/// Stop Xen updating the area registered with `kind` (op 15 with ~0, op 13
/// with 0). none: nothing to do. Errors: those of the op.
Result<void> unregister_time_area(VcpuId id, AreaKind kind) noexcept;

} // namespace xen
