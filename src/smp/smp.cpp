// Smp: taking over the Domain's vCPUs, and the lookups every part shares.
#include <xen/domain.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load_state;
using smp_detail::store_state;

Result<void> Smp::init(Domain& domain, const SmpConfig& config, SmpScratch& scratch) noexcept
{
    if (domain.hooks().frame_of == nullptr || domain.find(boot_vcpu) == nullptr)
        return err(Errc::invalid_argument);
    domain_ = &domain;
    config_ = config;
    scratch_ = &scratch;
    for (uint32_t id = 0; id < domain.managed(); ++id) {
        SmpCpu& c = domain.find(VcpuId{id})->smp;
        c.handshake.vcpu = id;
        if (VcpuId{id} == boot_vcpu) {
            // The boot vCPU runs the kernel: online since boot, generation 1.
            c.initialised = true;
            c.handshake.generation = 1;
            c.handshake.stage = static_cast<uint32_t>(ApStage::online);
            store_state(c, CpuState::online);
        } else if (load_state(c) == CpuState::absent) {
            store_state(c, CpuState::down);
        }
    }
    return ok();
}

uint64_t Smp::now() noexcept { return domain_->now(); }

VcpuId Smp::self() const noexcept { return domain_->self(); }

uint32_t Smp::count() const noexcept { return domain_ != nullptr ? domain_->managed() : 0; }

Result<SmpCpu*> Smp::managed(VcpuId v) const noexcept
{
    if (domain_ == nullptr)
        return err(Errc::vcpu_out_of_range);
    XEN_TRY_ASSIGN(VcpuSlot * s, domain_->slot(v));
    return &s->smp;
}

SmpCpu& Smp::part(VcpuId v) noexcept { return domain_->find(v)->smp; }

const SmpCpu& Smp::part(VcpuId v) const noexcept { return static_cast<const Domain*>(domain_)->find(v)->smp; }

CpuState Smp::state(VcpuId v) const noexcept
{
    const VcpuSlot* s = domain_ != nullptr ? static_cast<const Domain*>(domain_)->find(v) : nullptr;
    return s != nullptr ? load_state(s->smp) : CpuState::absent;
}

uint32_t Smp::online_count() const noexcept
{
    uint32_t n = 0;
    for (uint32_t id = 0; id < count(); ++id)
        if (state(VcpuId{id}) == CpuState::online)
            ++n;
    return n;
}

} // namespace xen

namespace xen {

Result<void> Smp::restored(VcpuId* failed) noexcept
{
    Errc first{};
    for (uint32_t v = 0; v < count(); ++v) {
        SmpCpu& c = part(VcpuId{v});
        if (!c.ipi_bound)
            continue;
        const auto port = domain_->events().find(&Smp::on_ipi, &c, VcpuId{v});
        if (!port.has_value()) {
            c.ipi_bound = false;
            if (first == Errc{}) {
                first = port.error();
                if (failed != nullptr)
                    *failed = VcpuId{v};
            }
            continue;
        }
        c.ipi_port = *port;
    }
    if (first != Errc{})
        return err(first);
    return ok();
}

} // namespace xen
