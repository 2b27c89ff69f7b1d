// The kernel's part of save, restore, checkpoint and migration
// (lifecycle.hpp; docs/lifecycle.md).
#include "lifecycle.hpp"

#include <xen/abi/guest_context.hpp>
#include <xen/abi/platform.hpp>

#include "console.hpp"
#include "domain.hpp"
#include "domu.hpp"
#include "events.hpp"
#include "memory.hpp"
#include "smp_internal.hpp"
#include "timers.hpp"
#include "traps.hpp"

namespace mk::lifecycle {

namespace {

constinit BootInfo boot_info{};
xen::Runstate* runstate_ = nullptr;
bool suspending_ = false;

// Xen's HYPERVISOR_VIRT_START on x86-64: machine_to_phys_mapping (public
// arch-x86/xen-x86_64.h), readable by 64-bit PV guests.
constexpr uint64_t m2p_address = 0xffff800000000000ull;

xen::abi::start_info& pv_start() noexcept { return *reinterpret_cast<xen::abi::start_info*>(boot_info.start_info); }

uint64_t mfn_to_pfn(uint64_t mfn) noexcept { return reinterpret_cast<const uint64_t*>(m2p_address)[mfn]; }

uint64_t pfn_to_mfn(uint64_t pfn) noexcept
{
    const auto* p2m = reinterpret_cast<const uint64_t*>(pv_start().mfn_list);
    return pfn < pv_start().nr_pages ? p2m[pfn] : 0;
}

// PV, the library's hooks.
xen::abi::shared_info* remap_shared_info(void*) noexcept { return pv_map_shared_info(pv_start().shared_info); }

uint64_t l4_cr3(void*) noexcept
{
    return xen::abi::pfn_to_cr3(xen_frame_of(reinterpret_cast<const void*>(pv_start().pt_base)).value);
}

// The save names guest memory by PFN: the restorer reads start_info's store
// and console frames as PFNs and writes the new domain's MFNs (and ports)
// there, as for Linux's xen_pv_pre_suspend. And a page table that maps
// shared_info (a frame Xen owns, not in the p2m) makes the save fail ("Bad
// mfn for L1"): the page gets its own frame back meanwhile.
xen::Result<void> before_suspend(void*) noexcept
{
    if (boot_info.type != GuestType::pv)
        return xen::ok();
    xen::abi::start_info& s = pv_start();
    if (s.store_mfn != 0)
        s.store_mfn = mfn_to_pfn(s.store_mfn);
    if (s.console.domu.mfn != 0)
        s.console.domu.mfn = mfn_to_pfn(s.console.domu.mfn);
    pv_unmap_shared_info();
    return xen::ok();
}

// A cancelled suspend: the same domain, the same frames.
void pv_after_cancel() noexcept
{
    xen::abi::start_info& s = pv_start();
    (void)pv_map_shared_info(s.shared_info);
    if (s.store_mfn != 0)
        s.store_mfn = pfn_to_mfn(s.store_mfn);
    if (s.console.domu.mfn != 0)
        s.console.domu.mfn = pfn_to_mfn(s.console.domu.mfn);
}

} // namespace

void init(const BootInfo& boot) noexcept { boot_info = boot; }

void set_runstate(xen::Runstate* runstate) noexcept { runstate_ = runstate; }

bool suspending() noexcept { return __atomic_load_n(&suspending_, __ATOMIC_ACQUIRE); }

xen::Result<xen::SuspendOutcome> suspend(xen::SuspendReport& report) noexcept
{
    xen::SuspendConfig sc;
    const bool pv = boot_info.type == GuestType::pv;
    if (pv) {
        // The hypercall's third argument: start_info's machine frame.
        sc.start_info_mfn = xen_frame_of(reinterpret_cast<const void*>(boot_info.start_info)).value;
    } else {
        // The upcall comes as a vector through HVM_PARAM_CALLBACK_IRQ, as
        // at boot (boot_pvh.cpp), not a per-vCPU upcall vector.
        sc.callback_via = xen::abi::hvm_callback_via_vector(pvh_upcall_vector);
    }
    sc.smp = smp::controller();
    sc.timers = &timers::driver();
    sc.runstate = runstate_;
    sc.hooks.remap_shared_info = pv ? remap_shared_info : nullptr;
    sc.hooks.pv_cr3 = pv ? l4_cr3 : nullptr;
    sc.hooks.before_suspend = before_suspend;

    __atomic_store_n(&suspending_, true, __ATOMIC_RELEASE);
    events::disable();
    auto r = domain().suspend(sc, &report);
    const bool resumed = report.outcome == xen::SuspendOutcome::resumed &&
                         report.failed_step != xen::SuspendStep::before_suspend &&
                         report.failed_step != xen::SuspendStep::suspend_call &&
                         report.failed_step != xen::SuspendStep::park_aps &&
                         report.failed_step != xen::SuspendStep::stop_timers;
    if (pv && !resumed && report.failed_step != xen::SuspendStep::park_aps &&
        report.failed_step != xen::SuspendStep::stop_timers)
        pv_after_cancel();
    if (resumed) {
        if (pv)
            pv_publish_p2m(pv_start());
        domu::reattach(boot_info);
    }
    events::enable();
    __atomic_store_n(&suspending_, false, __ATOMIC_RELEASE);
    return r;
}

} // namespace mk::lifecycle
