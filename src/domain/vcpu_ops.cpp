// The Domain's VCPUOPs: the raw wrappers (xen/hypercall/vcpu_op.hpp) behind
// the checks that need the domain: the vCPU count, the calling vCPU, and
// whether another vCPU is up.
#include <xen/domain.hpp>

namespace xen {

Result<void> Domain::initialise(VcpuId v, const abi::vcpu_guest_context& ctx) noexcept
{
    XEN_TRY(check(v));
    return hc::vcpu_initialise(v, ctx);
}

Result<void> Domain::initialise(VcpuId v, const abi::vcpu_hvm_context& ctx) noexcept
{
    XEN_TRY(check(v));
    return hc::vcpu_initialise(v, ctx);
}

Result<void> Domain::up(VcpuId v) noexcept
{
    XEN_TRY(check(v));
    return hc::vcpu_up(v);
}

bool Domain::other_vcpu_up(VcpuId v) noexcept
{
    // Xen's view, not ours: usually the first probe (vCPU 0) answers.
    for (uint32_t id = 0; id < vcpus_; ++id) {
        if (id == v.value)
            continue;
        const auto up = hc::vcpu_is_up(VcpuId{id});
        if (up.has_value() && *up)
            return true;
    }
    return false;
}

Result<void> Domain::down(VcpuId v) noexcept
{
    XEN_TRY(check(v));
    // VCPUOP_down of the last vCPU that is up calls domain_shutdown(d,
    // SHUTDOWN_poweroff) and returns 0 (common_vcpu_op): refuse it.
    if (!other_vcpu_up(v))
        return err(Errc::last_vcpu);
    return hc::vcpu_down(v);
}

Result<bool> Domain::is_up(VcpuId v) noexcept
{
    XEN_TRY(check(v));
    return hc::vcpu_is_up(v);
}

Result<abi::vcpu_runstate_info> Domain::get_runstate_info(VcpuId v) noexcept
{
    XEN_TRY(check(v));
    return hc::vcpu_get_runstate_info(v);
}

Result<void> Domain::register_runstate_memory_area(VcpuId v, Area<abi::vcpu_runstate_info>& area) noexcept
{
    XEN_TRY(check(v));
    XEN_TRY(hc::register_runstate_memory_area(v, area));
    if (VcpuSlot* s = find(v); s != nullptr && &s->runstate.area == &area)
        s->runstate.kind = AreaKind::virtual_address;
    return ok();
}

Result<void> Domain::set_periodic_timer(VcpuId v, uint64_t period_ns) noexcept
{
    XEN_TRY(check(v));
    return hc::set_periodic_timer(v, period_ns);
}

Result<void> Domain::stop_periodic_timer(VcpuId v) noexcept
{
    XEN_TRY(check(v));
    return hc::stop_periodic_timer(v);
}

Result<void> Domain::set_singleshot_timer(VcpuId v, uint64_t deadline_ns) noexcept
{
    XEN_TRY(check(v));
    if (v != self())
        return err(Errc::not_current_vcpu);
    return hc::set_singleshot_timer(v, deadline_ns);
}

Result<void> Domain::stop_singleshot_timer(VcpuId v) noexcept
{
    XEN_TRY(check(v));
    if (v != self())
        return err(Errc::not_current_vcpu);
    return hc::stop_singleshot_timer(v);
}

Result<void> Domain::register_vcpu_info(VcpuId v, Area<abi::vcpu_info>& area, FrameNumber frame) noexcept
{
    XEN_TRY(check(v));
    return hc::register_vcpu_info(v, area, frame);
}

Result<void> Domain::send_nmi(VcpuId v) noexcept
{
    XEN_TRY(check(v));
    // A PVH vCPU that is down would take the NMI at its first VM entry,
    // before its first instruction, with IDTR 0:0: a triple fault, and no
    // field of its initial context can prevent it (docs/smp.md). A PV vCPU
    // takes it through the NMI callback of its context (PvBoot).
    if (kind_ == GuestKind::pvh) {
        XEN_TRY_ASSIGN(const bool up, hc::vcpu_is_up(v));
        if (!up)
            return err(Errc::vcpu_down);
    }
    return hc::send_nmi(v);
}

Result<hc::PhysId> Domain::get_physid(VcpuId v) noexcept
{
    XEN_TRY(check(v));
    return hc::get_physid(v);
}

Result<void> Domain::register_vcpu_time_memory_area(VcpuId v, Area<abi::vcpu_time_info>& area) noexcept
{
    XEN_TRY(check(v));
    XEN_TRY(hc::register_vcpu_time_memory_area(v, area));
    if (VcpuSlot* s = find(v)) {
        // Kept to register it again after a restore (docs/lifecycle.md).
        s->time_area_kind = AreaKind::virtual_address;
        s->time_area = &area;
    }
    return ok();
}

Result<void> Domain::register_runstate_phys_area(VcpuId v, Area<abi::vcpu_runstate_info>& area, PhysAddr pa) noexcept
{
    XEN_TRY(check(v));
    XEN_TRY(hc::register_runstate_phys_area(v, area, pa));
    if (VcpuSlot* s = find(v); s != nullptr && &s->runstate.area == &area) {
        s->runstate.kind = AreaKind::physical_address;
        s->runstate.pa = pa;
    }
    return ok();
}

Result<void> Domain::register_vcpu_time_phys_area(VcpuId v, Area<abi::vcpu_time_info>& area, PhysAddr pa) noexcept
{
    XEN_TRY(check(v));
    XEN_TRY(hc::register_vcpu_time_phys_area(v, area, pa));
    if (VcpuSlot* s = find(v)) {
        s->time_area_kind = AreaKind::physical_address;
        s->time_area = &area;
        s->time_area_pa = pa;
    }
    return ok();
}

} // namespace xen
