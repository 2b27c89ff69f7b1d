// Save, restore, checkpoint and migration: the kernel's part around the
// library's Domain::suspend (docs/lifecycle.md, "What the kernel does
// itself"). The toolstack asks through xenstore (control/shutdown =
// "suspend"); whoever watches it acknowledges the request and calls
// lifecycle::suspend on vCPU 0. What the kernel redoes itself:
//   PV:  start_info's store and console frames as PFNs for the save and
//        back (the restorer turns them into the new MFNs); the shared_info
//        page unmapped for the save (its frame is not the guest's: the
//        toolstack refuses a page table that maps it) and mapped again,
//        from start_info's new `shared_info` after a restore; the p2m
//        published again; APs restart with the L4's new MFN;
//   both: the console and xenstore rings attached to their new ports, the
//        APs' timers restarted (their entry runs again after a restore).
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/abi/start_info.hpp>
#include <xen/lifecycle.hpp>
#include <xen/runstate.hpp>
#include <xen/support/result.hpp>

#include "kernel.hpp"

namespace mk {

// boot_pv.cpp: map shared_info over its .bss page (by machine address),
// give that page its own frame back, publish the p2m for the toolstack.
xen::abi::shared_info* pv_map_shared_info(uint64_t machine_address) noexcept;
void pv_unmap_shared_info() noexcept;
void pv_publish_p2m(const xen::abi::start_info& start) noexcept;

namespace lifecycle {

/// Keep what boot found (kernel_main calls it once).
void init(const BootInfo& boot) noexcept;

/// The kernel's Runstate, if a test turned the update flag on through it
/// (the library redoes the VMASST after a restore).
void set_runstate(xen::Runstate* runstate) noexcept;

/// Suspend the domain and resume (on vCPU 0, thread context; upcalls are
/// held off inside). `report` says what the library did.
xen::Result<xen::SuspendOutcome> suspend(xen::SuspendReport& report) noexcept;

/// True from the start of suspend() to its end: APs that enter then come
/// from a restore (their timers start again) or park for it.
bool suspending() noexcept;

} // namespace lifecycle
} // namespace mk
