// Domain creation, the per-thread active Hypervisor, and the transport hook
// the host build of the library calls for every hypercall.
#include "hypervisor.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <xen/hypercall/transport.hpp>

#include "state.hpp"

namespace xen::sim {

namespace {
thread_local Hypervisor* t_active = nullptr;
thread_local VcpuId t_vcpu{0};
} // namespace

Hypervisor::Hypervisor(Config cfg)
    : cfg_(std::move(cfg)), now_(cfg_.start_ns), shared_page_(std::make_unique<SharedPage>()),
      shared_(&shared_page_->info), ports_(abi::evtchn_2l_nr_ports)
{
    cfg_.vcpus = std::max<uint32_t>(cfg_.vcpus, 1);
    cfg_.initially_up = std::clamp<uint32_t>(cfg_.initially_up, 1, cfg_.vcpus);
    cfg_.pcpus = std::max<uint32_t>(cfg_.pcpus, 1);
    pvclock_flags_ = cfg_.tsc_stable ? abi::pvclock_tsc_stable : 0;
    init_time_scale();

    // The toolstack (or Xen's dom0 builder) starts PV vCPUs with upcalls
    // masked in their shared_info slots.
    if (cfg_.guest == GuestType::pv)
        for (auto& vi : shared_->vcpu_info)
            vi.evtchn_upcall_mask = 1;

    for (uint32_t i = 0; i < cfg_.vcpus; ++i) {
        auto v = std::make_unique<VcpuState>();
        v->id = i;
        // A new vCPU is offline from domain creation (domain.c vcpu_create).
        v->rs.state = static_cast<int32_t>(abi::runstate::offline);
        v->rs.state_entry_time = now_;
        // "PV guests by default have a 100Hz ticker" (pv/domain.c); HVM/PVH none.
        if (cfg_.guest == GuestType::pv)
            v->periodic_period = 10'000'000;
        v->periodic_last = now_;
        vcpus_.push_back(std::move(v));
    }
    for (uint32_t i = 0; i < cfg_.initially_up; ++i) {
        auto& v = *vcpus_[i];
        v.initialised = true;
        v.down = false;
        v.woken = true;
        change_runstate(v, abi::runstate::running);
    }
    for (auto& v : vcpus_)
        write_time(*v);
    write_wallclock();
}

Hypervisor::~Hypervisor()
{
    // A Scope outliving its Hypervisor would leave a dangling pointer.
    if (t_active == this)
        t_active = nullptr;
}

std::optional<abi::shutdown_reason> Hypervisor::shutdown_reason() const
{
    Lock l(mu_);
    return shutdown_;
}

Scope::Scope(Hypervisor& hv, VcpuId self) noexcept : prev_hv_(t_active), prev_vcpu_(t_vcpu)
{
    t_active = &hv;
    t_vcpu = self;
}

Scope::~Scope()
{
    t_active = prev_hv_;
    t_vcpu = prev_vcpu_;
}

Hypervisor* active() noexcept { return t_active; }
void set_current_vcpu(VcpuId id) noexcept { t_vcpu = id; }
VcpuId current_vcpu() noexcept { return t_vcpu; }

uint64_t rdtsc() noexcept
{
    if (t_active == nullptr) {
        std::fprintf(stderr, "xen::sim: rdtsc() with no active Hypervisor (open a sim::Scope)\n");
        std::abort();
    }
    return t_active->tsc(t_vcpu);
}

} // namespace xen::sim

namespace xen::transport {

long host_hypercall(abi::hypercall nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5) noexcept
{
    auto* hv = sim::active();
    if (hv == nullptr) {
        std::fprintf(stderr, "xen::sim: hypercall %u with no active Hypervisor (open a sim::Scope)\n",
                     static_cast<unsigned>(nr));
        std::abort();
    }
    return hv->hypercall(sim::current_vcpu(), nr, a1, a2, a3, a4, a5);
}

} // namespace xen::transport
