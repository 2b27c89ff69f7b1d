/// \file
/// The secondary vcpu_time_info area: a second copy of a vCPU's pvclock
/// record that Xen keeps current beside the one in vcpu_info (meant for a
/// user-space clock, or for a kernel whose vcpu_info is not where it wants
/// the record). VCPUOP_register_vcpu_time_phys_area (op 15, Xen 4.18+,
/// XENFEAT_vcpu_time_phys_area) by guest-physical address is preferred: it is
/// cheap for HVM/PVH and written even while a PV vCPU is in user mode
/// (docs/xen-contracts.md, "Physical-address areas"). Otherwise
/// VCPUOP_register_vcpu_time_memory_area
/// (op 13, Xen 4.3+) by virtual address.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/hypercall/area_registration.hpp>
#include <xen/hypercall/xen_version.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// Register `area` as vCPU `id`'s secondary time record. `pa` is where Xen
/// finds it (PV: machine address; HVM/PVH: guest-physical) or phys_unknown.
/// Uses op 15 when `features` has vcpu_time_phys_area and `pa` is known,
/// falling back to op 13 if op 15 answers -ENOSYS (register_phys_or_virt).
/// Returns the op used. Errors: those of the op (area_misaligned,
/// area_crosses_page, -EINVAL, -EFAULT, -ENXIO, ...); -ENOSYS from op 13 on
/// Xen 4.0-4.2.
Result<AreaKind> register_time_area(VcpuId id, Area<abi::vcpu_time_info>& area, PhysAddr pa,
                                    XenFeatures features) noexcept;

/// Stop Xen updating the area registered with `kind` (op 15 with ~0, op 13
/// with 0). none: nothing to do. Errors: those of the op.
Result<void> unregister_time_area(VcpuId id, AreaKind kind) noexcept;

} // namespace xen
