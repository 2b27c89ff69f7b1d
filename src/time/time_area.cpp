// Secondary vcpu_time_info registration: op 15 when Xen offers it, else op 13.
#include <xen/time/time_area.hpp>

#include <xen/hypercall/vcpu_op.hpp>

namespace xen {

Result<AreaKind> register_time_area(VcpuId id, Area<abi::vcpu_time_info>& area, PhysAddr pa,
                                    XenFeatures features) noexcept
{
    return register_phys_or_virt(
        features, abi::xenfeat::vcpu_time_phys_area, pa, [&] { return hc::register_vcpu_time_phys_area(id, area, pa); },
        [&] { return hc::register_vcpu_time_memory_area(id, area); });
}

Result<void> unregister_time_area(VcpuId id, AreaKind kind) noexcept
{
    switch (kind) {
    case AreaKind::physical_address: return hc::unregister_vcpu_time_phys_area(id);
    case AreaKind::virtual_address: return hc::unregister_vcpu_time_memory_area(id);
    case AreaKind::none: break;
    }
    return ok();
}

} // namespace xen
