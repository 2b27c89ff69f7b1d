// Secondary vcpu_time_info registration: op 15 when Xen offers it, else op 13.
#include <xen/time/time_area.hpp>

#include <xen/abi/version.hpp>
#include <xen/hypercall/vcpu_op.hpp>

namespace xen {

Result<AreaKind> register_time_area(VcpuId id, Area<abi::vcpu_time_info>& area, PhysAddr pa,
                                    uint32_t features) noexcept
{
    const bool phys_feature = (features >> static_cast<uint32_t>(abi::xenfeat::vcpu_time_phys_area)) & 1u;
    if (phys_feature && pa.value != phys_unknown.value) {
        const auto r = hc::register_vcpu_time_phys_area(id, area, pa);
        if (r.has_value())
            return AreaKind::physical_address;
        // -ENOSYS is reserved for a per-domain disable of op 15 (docs/xen-contracts.md,
        // "Physical-address areas"): then the virtual-address op still works.
        if (r.error() != Errc::enosys)
            return err(r.error());
    }
    XEN_TRY(hc::register_vcpu_time_memory_area(id, area));
    return AreaKind::virtual_address;
}

Result<void> unregister_time_area(VcpuId id, AreaKind kind) noexcept
{
    switch (kind) {
    case AreaKind::physical_address:
        return hc::unregister_vcpu_time_phys_area(id);
    case AreaKind::virtual_address:
        return hc::unregister_vcpu_time_memory_area(id);
    case AreaKind::none:
        break;
    }
    return ok();
}

} // namespace xen
