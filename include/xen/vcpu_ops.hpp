// VcpuOps: every VCPUOP with the checks that need to know the domain.
//
// The raw wrappers in xen/hypercall/vcpu_op.hpp check what a single call can
// see. VcpuOps adds what only the domain view knows: how many vCPUs exist
// (once discovered) and which vCPU is calling. It holds no per-vCPU state and
// nothing global: the kernel creates one per domain and shares it.
#pragma once

#include <cstdint>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// Kernel hook: the Xen vcpu_id of the vCPU executing the call (typically a
/// per-CPU variable read through %gs). Must be callable with events masked.
using CurrentVcpuFn = VcpuId (*)() noexcept;

/// The largest vCPU count discover() probes for: HVM_MAX_VCPUS is 128 and
/// Xen's default PV limit is far below 8192; 8192 bounds the probe loop.
inline constexpr uint32_t max_probed_vcpus = 8192;

class VcpuOps {
public:
    /// `current` must not be null.
    constexpr explicit VcpuOps(CurrentVcpuFn current) noexcept : current_(current) {}

    /// Count the domain's vCPUs: probe VCPUOP_is_up from 0 until -ENOENT,
    /// at most `limit` probes. Afterwards ids >= count() are refused.
    /// Errors: whatever is_up returns other than -ENOENT; no_space if every
    /// probe up to `limit` answered (the domain has more vCPUs than limit).
    Result<uint32_t> discover(uint32_t limit = max_probed_vcpus) noexcept;

    /// Set the count without probing (e.g. from ACPI or a toolstack value).
    constexpr void set_count(uint32_t n) noexcept { count_ = n; }
    /// The known vCPU count, or 0 while unknown (then no range check is made).
    constexpr uint32_t count() const noexcept { return count_; }
    /// The calling vCPU, from the kernel hook.
    VcpuId self() const noexcept { return current_(); }

    /// vcpu_out_of_range if `id` is not below a known count.
    Result<void> check(VcpuId id) const noexcept;

    // Ops 0-15, each as in hc:: plus the range (and, for 8/9, self) check.
    Result<void> initialise(VcpuId id, const abi::vcpu_guest_context& ctx) const noexcept;
    Result<void> initialise(VcpuId id, const abi::vcpu_hvm_context& ctx) const noexcept;
    Result<void> up(VcpuId id) const noexcept;
    /// Refuses (last_vcpu) when `id` is the only vCPU reported up: Xen would
    /// power the domain off. Costs one is_up per known vCPU.
    Result<void> down(VcpuId id) const noexcept;
    Result<bool> is_up(VcpuId id) const noexcept;
    Result<abi::vcpu_runstate_info> get_runstate_info(VcpuId id) const noexcept;
    Result<void> register_runstate_memory_area(VcpuId id, Area<abi::vcpu_runstate_info>& area) const noexcept;
    Result<void> set_periodic_timer(VcpuId id, uint64_t period_ns) const noexcept;
    Result<void> stop_periodic_timer(VcpuId id) const noexcept;
    /// not_current_vcpu unless `id` is the caller (Xen: -EINVAL).
    Result<void> set_singleshot_timer(VcpuId id, uint64_t deadline_ns) const noexcept;
    /// not_current_vcpu unless `id` is the caller (Xen: -EINVAL).
    Result<void> stop_singleshot_timer(VcpuId id) const noexcept;
    Result<void> register_vcpu_info(VcpuId id, Area<abi::vcpu_info>& area, FrameNumber frame) const noexcept;
    Result<void> send_nmi(VcpuId id) const noexcept;
    Result<hc::PhysId> get_physid(VcpuId id) const noexcept;
    Result<void> register_vcpu_time_memory_area(VcpuId id, Area<abi::vcpu_time_info>& area) const noexcept;
    Result<void> register_runstate_phys_area(VcpuId id, Area<abi::vcpu_runstate_info>& area,
                                             PhysAddr pa) const noexcept;
    Result<void> register_vcpu_time_phys_area(VcpuId id, Area<abi::vcpu_time_info>& area,
                                              PhysAddr pa) const noexcept;

private:
    CurrentVcpuFn current_;
    uint32_t count_ = 0;
};

} // namespace xen
