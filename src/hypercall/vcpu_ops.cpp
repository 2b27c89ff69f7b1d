// VcpuOps: domain-aware checks in front of the raw VCPUOP wrappers.
#include <xen/vcpu_ops.hpp>

namespace xen {

Result<uint32_t> VcpuOps::discover(uint32_t limit) noexcept
{
    // Xen answers -ENOENT for every op on a vcpu_id it never created
    // (domain_vcpu() == NULL), so the first -ENOENT is the count. Linux PV
    // counts its vCPUs the same way.
    for (uint32_t i = 0; i < limit; ++i) {
        auto up = hc::vcpu_is_up(VcpuId{i});
        if (!up.has_value()) {
            if (up.error() != Errc::enoent)
                return err(up.error());
            count_ = i;
            return i;
        }
    }
    return err(Errc::no_space);
}

Result<void> VcpuOps::check(VcpuId id) const noexcept
{
    if (count_ != 0 && id.value >= count_)
        return err(Errc::vcpu_out_of_range);
    return ok();
}

Result<void> VcpuOps::initialise(VcpuId id, const abi::vcpu_guest_context& ctx) const noexcept
{
    XEN_TRY(check(id));
    return hc::vcpu_initialise(id, ctx);
}

Result<void> VcpuOps::initialise(VcpuId id, const abi::vcpu_hvm_context& ctx) const noexcept
{
    XEN_TRY(check(id));
    return hc::vcpu_initialise(id, ctx);
}

Result<void> VcpuOps::up(VcpuId id) const noexcept
{
    XEN_TRY(check(id));
    return hc::vcpu_up(id);
}

Result<void> VcpuOps::down(VcpuId id) const noexcept
{
    XEN_TRY(check(id));
    // Xen powers the domain off when the last running vCPU goes down
    // (common_vcpu_op, VCPUOP_down). Refuse if no other vCPU is up.
    bool other_up = false;
    for (uint32_t i = 0; i < count_ && !other_up; ++i) {
        if (i == id.value)
            continue;
        XEN_TRY_ASSIGN(bool up_i, hc::vcpu_is_up(VcpuId{i}));
        other_up = up_i;
    }
    if (count_ != 0 && !other_up)
        return err(Errc::last_vcpu);
    return hc::vcpu_down(id);
}

Result<bool> VcpuOps::is_up(VcpuId id) const noexcept
{
    XEN_TRY(check(id));
    return hc::vcpu_is_up(id);
}

Result<abi::vcpu_runstate_info> VcpuOps::get_runstate_info(VcpuId id) const noexcept
{
    XEN_TRY(check(id));
    return hc::vcpu_get_runstate_info(id);
}

Result<void> VcpuOps::register_runstate_memory_area(VcpuId id, Area<abi::vcpu_runstate_info>& area) const noexcept
{
    XEN_TRY(check(id));
    return hc::register_runstate_memory_area(id, area);
}

Result<void> VcpuOps::set_periodic_timer(VcpuId id, uint64_t period_ns) const noexcept
{
    XEN_TRY(check(id));
    return hc::set_periodic_timer(id, period_ns);
}

Result<void> VcpuOps::stop_periodic_timer(VcpuId id) const noexcept
{
    XEN_TRY(check(id));
    return hc::stop_periodic_timer(id);
}

Result<void> VcpuOps::set_singleshot_timer(VcpuId id, uint64_t deadline_ns) const noexcept
{
    XEN_TRY(check(id));
    if (id != self())
        return err(Errc::not_current_vcpu);
    return hc::set_singleshot_timer(id, deadline_ns);
}

Result<void> VcpuOps::stop_singleshot_timer(VcpuId id) const noexcept
{
    XEN_TRY(check(id));
    if (id != self())
        return err(Errc::not_current_vcpu);
    return hc::stop_singleshot_timer(id);
}

Result<void> VcpuOps::register_vcpu_info(VcpuId id, Area<abi::vcpu_info>& area, FrameNumber frame) const noexcept
{
    XEN_TRY(check(id));
    return hc::register_vcpu_info(id, area, frame);
}

Result<void> VcpuOps::send_nmi(VcpuId id) const noexcept
{
    XEN_TRY(check(id));
    return hc::send_nmi(id);
}

Result<hc::PhysId> VcpuOps::get_physid(VcpuId id) const noexcept
{
    XEN_TRY(check(id));
    return hc::get_physid(id);
}

Result<void> VcpuOps::register_vcpu_time_memory_area(VcpuId id, Area<abi::vcpu_time_info>& area) const noexcept
{
    XEN_TRY(check(id));
    return hc::register_vcpu_time_memory_area(id, area);
}

Result<void> VcpuOps::register_runstate_phys_area(VcpuId id, Area<abi::vcpu_runstate_info>& area,
                                                  PhysAddr pa) const noexcept
{
    XEN_TRY(check(id));
    return hc::register_runstate_phys_area(id, area, pa);
}

Result<void> VcpuOps::register_vcpu_time_phys_area(VcpuId id, Area<abi::vcpu_time_info>& area,
                                                   PhysAddr pa) const noexcept
{
    XEN_TRY(check(id));
    return hc::register_vcpu_time_phys_area(id, area, pa);
}

} // namespace xen
