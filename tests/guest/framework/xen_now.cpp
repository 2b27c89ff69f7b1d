// Xen's NOW() from a runstate area and VCPUOP_get_runstate_info: xen_now.hpp.
#include "framework/xen_now.hpp"

#include <xen/hypercall/vcpu_op.hpp>

#include "domain.hpp"
#include "memory.hpp"

namespace mk::guest_tests {

namespace {

xen::VcpuSlot& slot(xen::VcpuId v) noexcept { return *domain().find(v); }

} // namespace

bool register_areas(xen::Runstate& rs, uint32_t vcpus) noexcept
{
    bool all = true;
    for (uint32_t c = 0; c < vcpus; ++c) {
        const xen::VcpuId v{c};
        auto kind = rs.register_area(v, slot(v).runstate, xen_address_of(slot(v).runstate.area.get()),
                                     domain().features());
        all = all && kind.has_value();
    }
    return all;
}

void unregister_areas(xen::Runstate& rs, uint32_t vcpus) noexcept
{
    for (uint32_t c = 0; c < vcpus; ++c)
        (void)rs.unregister_area(xen::VcpuId{c}, slot(xen::VcpuId{c}).runstate);
}

bool xen_now(const xen::Runstate& rs, xen::VcpuId self, uint64_t& now, xen::abi::vcpu_runstate_info* area) noexcept
{
    namespace abi = xen::abi;
    const int running = static_cast<int>(abi::runstate::running);
    for (int attempt = 0; attempt < 64; ++attempt) {
        const auto a = rs.snapshot(self, slot(self).runstate, self);
        const auto info = xen::hc::vcpu_get_runstate_info(self);
        const auto b = rs.snapshot(self, slot(self).runstate, self);
        if (!a || !info || !b)
            return false;
        if (a->state_entry_time != b->state_entry_time || a->state != running ||
            info->state_entry_time != a->state_entry_time || info->time[running] < a->time[running])
            continue;
        if (area != nullptr)
            *area = *a;
        now = (a->state_entry_time & ~abi::runstate_update_flag) + (info->time[running] - a->time[running]);
        return true;
    }
    return false;
}

} // namespace mk::guest_tests
