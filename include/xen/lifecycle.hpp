/// \file
/// Save, restore, checkpoint and live migration: what Domain::suspend takes
/// and reports. The sequence itself is Domain::suspend (src/domain/suspend.cpp);
/// docs/lifecycle.md says what Xen forgets across a restore, what the library
/// redoes, and what stays the kernel's job; docs/xen-contracts.md, "Save,
/// restore and migration" has the Xen facts it rests on.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/smp/cpu.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

class Smp;
class TimerDriver;
class Runstate;

/// How SCHEDOP_shutdown(SHUTDOWN_suspend) returned.
enum class SuspendOutcome : uint8_t {
    resumed = 0,   ///< Xen returned 0: restored into a new domain (restore, migration)
    cancelled = 1, ///< Xen returned 1: the same domain goes on (checkpoint, failed save)
};

/// The steps of the sequence, in order; a failure report names one.
enum class SuspendStep : uint8_t {
    none = 0,
    park_aps,       ///< Smp::offline of every online AP
    stop_timers,    ///< TimerDriver::stop on the calling vCPU
    before_suspend, ///< the kernel's before_suspend hook
    suspend_call,   ///< SCHEDOP_shutdown(SHUTDOWN_suspend)
    shared_info,    ///< PV: the kernel's remap hook; PVH: XENMEM_add_to_physmap
    vcpu_info,      ///< VCPUOP_register_vcpu_info again
    update_flag,    ///< VMASST_TYPE_runstate_update_flag again
    runstate_area,  ///< op 14 or op 5 again
    time_area,      ///< op 15 or op 13 again
    upcall_vector,  ///< PVH: HVMOP_set_evtchn_upcall_vector again
    callback_irq,   ///< PVH: HVM_PARAM_CALLBACK_IRQ again
    events,         ///< VIRQs and IPIs bound again, cached ports updated
    periodic_timer, ///< PV: VCPUOP_stop_periodic_timer again (the 100 Hz tick is back)
    timers,         ///< TimerDriver::start on the calling vCPU (pending timers re-armed)
    aps,            ///< Smp::online of the APs parked for the suspend
};

/// A name for logs ("vcpu_info", ...).
constexpr const char* suspend_step_name(SuspendStep s) noexcept
{
    switch (s) {
    case SuspendStep::none: return "none";
    case SuspendStep::park_aps: return "park_aps";
    case SuspendStep::stop_timers: return "stop_timers";
    case SuspendStep::before_suspend: return "before_suspend";
    case SuspendStep::suspend_call: return "suspend_call";
    case SuspendStep::shared_info: return "shared_info";
    case SuspendStep::vcpu_info: return "vcpu_info";
    case SuspendStep::update_flag: return "update_flag";
    case SuspendStep::runstate_area: return "runstate_area";
    case SuspendStep::time_area: return "time_area";
    case SuspendStep::upcall_vector: return "upcall_vector";
    case SuspendStep::callback_irq: return "callback_irq";
    case SuspendStep::events: return "events";
    case SuspendStep::periodic_timer: return "periodic_timer";
    case SuspendStep::timers: return "timers";
    case SuspendStep::aps: return "aps";
    }
    return "?";
}

/// The kernel's part of the sequence. `ctx` is passed back to each hook.
struct SuspendHooks {
    void* ctx = nullptr; ///< the kernel's, passed to every hook
    /// PV, required: the domain was restored into a new one, whose
    /// shared_info is another machine frame (start_info's `shared_info`,
    /// which the restorer rewrote). Map it (page tables are the kernel's)
    /// and return its address, the same or a new one; nullptr fails the
    /// step. Runs on the calling vCPU with every AP down.
    abi::shared_info* (*remap_shared_info)(void* ctx) noexcept = nullptr;
    /// PV with an Smp, required: the cr3 APs restarted in the new domain
    /// start with (abi::pfn_to_cr3 of the kernel's L4 page table's new MFN:
    /// machine frames change across a restore). Runs after the kernel's
    /// page tables are valid again, before the APs restart.
    uint64_t (*pv_cr3)(void* ctx) noexcept = nullptr;
    /// Optional: right before the hypercall, APs parked, the caller's timers
    /// stopped (e.g. turn start_info's store and console MFNs into PFNs as
    /// Linux's xen_pv_pre_suspend does). An error cancels the suspend.
    Result<void> (*before_suspend)(void* ctx) noexcept = nullptr;
};

/// What Domain::suspend needs beyond the Domain.
struct SuspendConfig {
    /// PV: the MFN of start_info, the hypercall's third argument.
    uint64_t start_info_mfn = 0;
    /// PVH: the per-vCPU upcall vector to install again on every managed
    /// vCPU (HVMOP_set_evtchn_upcall_vector); 0 if the kernel uses none.
    uint8_t upcall_vector = 0;
    /// PVH: HVM_PARAM_CALLBACK_IRQ to set again. 0 means 1 when
    /// `upcall_vector` is given (a non-zero value tells libxl the guest
    /// handles PV control: libxl__domain_pvcontrol_available), else nothing.
    uint64_t callback_via = 0;
    /// The domain's Smp (APs parked and brought back) and TimerDriver
    /// (ports and pending timers); either may be null if the kernel has none.
    Smp* smp = nullptr;
    TimerDriver* timers = nullptr; ///< see `smp`: the TimerDriver, or null
    /// The kernel's Runstate, if it turned the update flag on through it.
    Runstate* runstate = nullptr;
    /// Bound for parking and bringing back each AP.
    WaitBound bound{};
    /// The kernel's part (remap_shared_info is required for PV).
    SuspendHooks hooks{};
};

/// What Domain::suspend did, and where it stopped if it failed.
struct SuspendReport {
    /// How the hypercall returned (meaningless when it was not reached:
    /// failed_step before suspend_call).
    SuspendOutcome outcome = SuspendOutcome::cancelled;
    /// The step that failed (none: nothing failed).
    SuspendStep failed_step = SuspendStep::none;
    /// The vCPU that step failed on, for per-vCPU steps.
    VcpuId failed_vcpu{0};
    Errc cause = Errc{};             ///< the error of the failed step
    uint64_t clock_before_ns = 0;    ///< Domain::now() right before the hypercall
    uint64_t clock_after_ns = 0;     ///< Domain::now() right after the re-base (>= clock_before_ns)
    int64_t offset_ns = 0;           ///< Domain::clock_offset() afterwards
    uint32_t aps_parked = 0;         ///< APs parked for the suspend
    uint32_t aps_back = 0;           ///< of those, brought back online
    uint32_t ports_rebound = 0;      ///< VIRQ and IPI ports bound again
    uint32_t downed_to_register = 0; ///< vCPUs found up in the new domain, downed to register and upped again
    uint32_t still_registered = 0;   ///< vcpu_info registrations Xen still held (a reset, not a new domain)
};

} // namespace xen
