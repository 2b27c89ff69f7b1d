// The kernel's own view of SMP beyond smp.hpp: the library's controller,
// what the first bring-up did, and what the domain's hooks (domain.cpp)
// need from the SMP glue. For the smp and hotplug tests and the glue.
#pragma once

#include <xen/smp.hpp>

#include "smp.hpp"

namespace mk::smp {

/// What ensure_online did the first time.
struct BringUp {
    bool done = false;
    Mode mode = Mode::parallel;
    xen::BringUpReport report{};
    xen::Errc discover_error{};
};

/// The library's SMP controller (null before the first ensure_online).
xen::Smp* controller() noexcept;

/// The first bring-up's record.
const BringUp& bring_up_record() noexcept;

/// Top of vCPU `v`'s IST stack (PVH: NMI and #DF).
char* ist_top(xen::VcpuId v) noexcept;

/// The domain's ap_stack hook: vCPU `v`'s stack, per-CPU block and GS base.
xen::ApStack ap_stack(xen::VcpuId v) noexcept;

/// The domain's ap_prepare hook: fill AP `v`'s per-CPU block before it
/// starts (PV: also stop Xen's 100 Hz ticker on it).
xen::Result<void> prepare_percpu(xen::VcpuId v) noexcept;

/// Part of the domain's relax hook: run calls posted to the calling vCPU
/// while it waits for something.
void serve_while_waiting() noexcept;

} // namespace mk::smp
