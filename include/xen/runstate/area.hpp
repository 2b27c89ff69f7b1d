/// \file
/// Registering per-vCPU runstate areas and reading them, own and remote.
///
/// Registration prefers VCPUOP_register_runstate_phys_area (op 14, Xen 4.18+,
/// XENFEAT_runstate_phys_area): Xen maps the page once, writes it even while
/// a PV vCPU is in user mode, and always uses XEN_RUNSTATE_UPDATE. Otherwise
/// VCPUOP_register_runstate_memory_area (op 5) by virtual address, which uses
/// the protocol only after VMASST_TYPE_runstate_update_flag (Xen 4.8+).
/// Without the protocol a vCPU may read only its own area; another vCPU's
/// runstate then comes from VCPUOP_get_runstate_info (docs/xen-contracts.md,
/// "Runstate and steal").
#pragma once

#include <cstdint>
#include <xen/abi/vcpu.hpp>
#include <xen/hypercall/area_registration.hpp>
#include <xen/runstate/snapshot.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// One vCPU's runstate area and how it is registered. The kernel provides
/// one per vCPU (static array or per-CPU memory) that outlives the
/// registration; Xen writes into `area`.
struct RunstateCpu {
    /// The area Xen keeps updated once registered (op 14 or op 5).
    Area<abi::vcpu_runstate_info> area;
    /// How `area` is registered: not yet, by virtual (op 5) or physical (op 14) address.
    AreaKind kind = AreaKind::none;
    /// The address op 14 was given (for registering again after a restore).
    PhysAddr pa = phys_unknown;
};

/// The domain's runstate areas: whether the update flag is on, registration
/// and consistent snapshots. One per domain; holds no per-vCPU state.
class Runstate {
public:
    constexpr Runstate() noexcept = default;

    /// vm_assist(enable, VMASST_TYPE_runstate_update_flag): true if Xen now
    /// uses XEN_RUNSTATE_UPDATE on virtual-address areas, false if this Xen
    /// lacks it (-EINVAL before 4.8). Other errors are passed on.
    Result<bool> enable_update_flag() noexcept;
    /// Whether enable_update_flag succeeded.
    constexpr bool update_flag() const noexcept { return update_flag_; }
    /// A restored domain has the VMASST off again (docs/lifecycle.md):
    /// enable it again if it was on. Errors: vm_assist's.
    Result<void> restore_update_flag() noexcept;
    /// Register `cpu.area` again for vCPU `id` the way it was registered
    /// (same op, same address): after a restore, where Xen forgot it. No-op
    /// for an area never registered. Errors: those of the op.
    Result<void> reregister_area(VcpuId id, RunstateCpu& cpu) noexcept;

    /// Register `cpu.area` for vCPU `id`: op 14 when `features` has
    /// runstate_phys_area and `pa` (PV: machine address, HVM/PVH:
    /// guest-physical) is known, else op 5; op 14 answering -ENOSYS falls
    /// back to op 5 (register_phys_or_virt). Records and returns the kind.
    /// Errors: those of the op (area_misaligned, area_crosses_page, -ENXIO,
    /// -EINVAL, -EFAULT, -ENOENT for no such vCPU).
    Result<AreaKind> register_area(VcpuId id, RunstateCpu& cpu, PhysAddr pa, XenFeatures features) noexcept;
    /// Stop Xen writing `cpu.area` (op 14 with ~0 or op 5 with 0).
    /// Errors: those of the op.
    Result<void> unregister_area(VcpuId id, RunstateCpu& cpu) noexcept;

    /// True if Xen writes `cpu`'s area with XEN_RUNSTATE_UPDATE, so any
    /// vCPU may read it.
    constexpr bool remote_readable(const RunstateCpu& cpu) const noexcept
    {
        return cpu.kind == AreaKind::physical_address || (cpu.kind == AreaKind::virtual_address && update_flag_);
    }

    /// A consistent snapshot of vCPU `id` (whose storage is `cpu`) taken on
    /// vCPU `self`: read from the area when it is registered and either
    /// `self`'s own or remote_readable; otherwise VCPUOP_get_runstate_info
    /// (one hypercall; its totals already include the time in the current
    /// state). Errors: busy_retry if the area stayed mid-update for
    /// `max_attempts` reads (a flag stuck set); the op's errors (-ENOENT).
    Result<abi::vcpu_runstate_info> snapshot(VcpuId id, const RunstateCpu& cpu, VcpuId self,
                                             uint32_t max_attempts = seqlock_max_attempts) const noexcept;

private:
    bool update_flag_ = false;
};

} // namespace xen
