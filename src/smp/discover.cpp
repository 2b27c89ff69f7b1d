// Smp: construction, discovery and the CPU <-> vCPU map.
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load_state;
using smp_detail::store_state;

Smp::Smp(const SmpConfig& config, SmpCpu* cpus, uint32_t nr_cpus, SmpScratch& scratch) noexcept
    : config_(config), cpus_(cpus), nr_cpus_(nr_cpus), scratch_(&scratch)
{
}

uint64_t Smp::now() noexcept { return config_.hooks.now_ns(config_.hooks.ctx); }

uint32_t Smp::self() const noexcept { return config_.hooks.this_cpu(config_.hooks.ctx); }

Result<uint32_t> Smp::discover(uint32_t limit) noexcept
{
    const SmpHooks& h = config_.hooks;
    if (h.now_ns == nullptr || h.this_cpu == nullptr || h.frame_of == nullptr || nr_cpus_ == 0 ||
        config_.shared == nullptr)
        return err(Errc::invalid_argument);

    // Xen answers -ENOENT for every op on a vcpu_id it never created
    // (domain_vcpu() == NULL): the first -ENOENT is the count (as Linux PV
    // and NetBSD count). The vCPUs are 0..n-1 (Xen allocates d->vcpu[]
    // densely up to max_vcpus).
    // Probe one id past `limit`: only its -ENOENT shows that a domain of
    // exactly `limit` vCPUs has no more.
    uint32_t n = 0;
    for (;; ++n) {
        if (n > limit)
            return err(Errc::no_space);
        const auto up = hc::vcpu_is_up(VcpuId{n});
        if (!up.has_value()) {
            if (up.error() != Errc::enoent)
                return err(up.error());
            break;
        }
    }
    if (config_.boot_vcpu.value >= n)
        return err(Errc::invalid_argument);

    domain_vcpus_ = n;
    count_ = n < nr_cpus_ ? n : nr_cpus_;
    // CPU 0 is the boot vCPU; then every other vCPU in vcpu_id order.
    uint32_t next = 0;
    for (uint32_t cpu = 0; cpu < count_; ++cpu) {
        if (cpu == 0) {
            cpus_[0].vcpu = config_.boot_vcpu;
        } else {
            if (next == config_.boot_vcpu.value)
                ++next;
            cpus_[cpu].vcpu = VcpuId{next++};
        }
        SmpCpu& c = cpus_[cpu];
        c.handshake.cpu = cpu;
        c.handshake.vcpu = c.vcpu.value;
        if (cpu == 0) {
            // The boot vCPU runs the kernel: online since boot, generation 1.
            c.initialised = true;
            c.handshake.generation = 1;
            c.handshake.stage = static_cast<uint32_t>(ApStage::online);
            store_state(c, CpuState::online);
        } else if (load_state(c) == CpuState::absent) {
            store_state(c, CpuState::down);
        }
    }
    return count_;
}

VcpuId Smp::vcpu_of(uint32_t cpu) const noexcept { return cpus_[cpu].vcpu; }

Result<uint32_t> Smp::cpu_of(VcpuId vcpu) const noexcept
{
    for (uint32_t cpu = 0; cpu < count_; ++cpu)
        if (cpus_[cpu].vcpu == vcpu)
            return cpu;
    return err(Errc::vcpu_out_of_range);
}

abi::vcpu_info* Smp::vcpu_info_of(uint32_t cpu) noexcept
{
    SmpCpu& c = cpus_[cpu];
    if (c.info_registered)
        return c.vcpu_info.get();
    // vcpu_info_reset(): vCPUs below XEN_LEGACY_MAX_VCPUS use their slot in
    // shared_info until they register one; the others share a dummy in Xen.
    if (c.vcpu.value < abi::legacy_max_vcpus)
        return &config_.shared->vcpu_info[c.vcpu.value];
    return nullptr;
}

CpuState Smp::state(uint32_t cpu) const noexcept
{
    return cpu < count_ ? load_state(cpus_[cpu]) : CpuState::absent;
}

uint32_t Smp::online_count() const noexcept
{
    uint32_t n = 0;
    for (uint32_t cpu = 0; cpu < count_; ++cpu)
        if (load_state(cpus_[cpu]) == CpuState::online)
            ++n;
    return n;
}

Result<void> Smp::check_cpu(uint32_t cpu) const noexcept
{
    if (cpu >= count_)
        return err(Errc::vcpu_out_of_range);
    return ok();
}

void Smp::set_state(uint32_t cpu, CpuState s) noexcept { store_state(cpus_[cpu], s); }

} // namespace xen
