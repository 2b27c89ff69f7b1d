// Runstate area registration (ops 5 and 14), the update-flag VMASST, and
// the choice between reading an area and asking Xen (op 4).
#include <xen/runstate/area.hpp>

#include <xen/abi/platform.hpp>
#include <xen/hypercall/platform_op.hpp>
#include <xen/hypercall/vcpu_op.hpp>

namespace xen {

Result<bool> Runstate::enable_update_flag() noexcept
{
    const auto r = hc::vm_assist(abi::vmasst_cmd::enable, abi::vmasst_type::runstate_update_flag);
    if (r.has_value()) {
        update_flag_ = true;
        return true;
    }
    // Before Xen 4.8 the type is outside the valid mask: -EINVAL.
    if (r.error() == Errc::einval)
        return false;
    return err(r.error());
}

Result<AreaKind> Runstate::register_area(VcpuId id, RunstateCpu& cpu, PhysAddr pa, XenFeatures features) noexcept
{
    XEN_TRY_ASSIGN(cpu.kind, register_phys_or_virt(
                                 features, abi::xenfeat::runstate_phys_area, pa,
                                 [&] { return hc::register_runstate_phys_area(id, cpu.area, pa); },
                                 [&] { return hc::register_runstate_memory_area(id, cpu.area); }));
    cpu.pa = pa;
    return cpu.kind;
}

Result<void> Runstate::restore_update_flag() noexcept
{
    if (!update_flag_)
        return ok();
    return hc::vm_assist(abi::vmasst_cmd::enable, abi::vmasst_type::runstate_update_flag);
}

Result<void> Runstate::reregister_area(VcpuId id, RunstateCpu& cpu) noexcept
{
    switch (cpu.kind) {
    case AreaKind::physical_address: return hc::register_runstate_phys_area(id, cpu.area, cpu.pa);
    case AreaKind::virtual_address: return hc::register_runstate_memory_area(id, cpu.area);
    case AreaKind::none: break;
    }
    return ok();
}

Result<void> Runstate::unregister_area(VcpuId id, RunstateCpu& cpu) noexcept
{
    switch (cpu.kind) {
    case AreaKind::physical_address: XEN_TRY(hc::unregister_runstate_phys_area(id)); break;
    case AreaKind::virtual_address: XEN_TRY(hc::unregister_runstate_memory_area(id)); break;
    case AreaKind::none: break;
    }
    cpu.kind = AreaKind::none;
    return ok();
}

Result<abi::vcpu_runstate_info> Runstate::snapshot(VcpuId id, const RunstateCpu& cpu, VcpuId self,
                                                   uint32_t max_attempts) const noexcept
{
    if (cpu.kind != AreaKind::none && (id == self || remote_readable(cpu)))
        return runstate_read(*cpu.area.get(), max_attempts);
    // A remote area without XEN_RUNSTATE_UPDATE can be torn
    // (docs/xen-contracts.md, "Runstate area updates"): ask Xen,
    // which copies its own accounting under its seqcount.
    return hc::vcpu_get_runstate_info(id);
}

} // namespace xen
