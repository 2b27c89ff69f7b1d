// Xen's NOW() as the calling vCPU sees it, read exactly rather than
// extrapolated. The domain's clock extrapolates Xen's time with the TSC
// between Xen's updates, and under load was measured milliseconds off NOW()
// (docs/steal.md, "Xen's clock for the stamps"). A test that judges what Xen
// did by Xen's own clock (the steal test's runstate sums; the timers test's
// question "did this event come before Xen's deadline?") reads NOW() here.
//
// How: the vCPU's registered runstate area holds what Xen wrote when it last
// switched the vCPU in; a VCPUOP_get_runstate_info call on itself returns the
// same with NOW() - state_entry_time added to the running total. So NOW() =
// state_entry_time + (the call's total - the area's). A switch in between
// shows as a new state_entry_time, and the read is tried again.
#pragma once

#include <cstdint>
#include <xen/runstate.hpp>

namespace mk::guest_tests {

/// Register a runstate area for each of vCPUs 0..`vcpus`-1 in its slot of
/// the domain (from any vCPU); true if every one was. Undo with
/// unregister_areas.
bool register_areas(xen::Runstate& rs, uint32_t vcpus) noexcept;

/// Unregister the areas of vCPUs 0..`vcpus`-1 (those that were registered).
void unregister_areas(xen::Runstate& rs, uint32_t vcpus) noexcept;

/// Xen's NOW() on the calling vCPU `self`, whose area must be registered,
/// in `now`; the area at that moment in `*area` when it is not null (its
/// live view at `now` is the call's copy). False if Xen refuses the call or
/// the vCPU was switched out in between on every one of 64 tries.
bool xen_now(const xen::Runstate& rs, xen::VcpuId self, uint64_t& now,
             xen::abi::vcpu_runstate_info* area = nullptr) noexcept;

} // namespace mk::guest_tests
