// The kernel's timer driver: one xen::TimerDriver over the domain (each
// vCPU's timers live in its slot), taking over / giving back a vCPU's
// VIRQ_TIMER, and idling on it. Used by the timers tests; docs/timers.md has
// the driver's contracts. Times are the driver's clock (timers::now).
#pragma once

#include <cstdint>
#include <xen/domain.hpp>
#include <xen/support/result.hpp>
#include <xen/time/timer_driver.hpp>

#include "kernel.hpp"

namespace mk::timers {

/// Boot: the driver over the domain (domain_init calls it).
void init(xen::Domain& domain) noexcept;

/// The driver.
xen::TimerDriver& driver() noexcept;

/// The timers' clock on the calling vCPU: Xen system time by its own
/// pvclock record (TimerDriver::now). The one exception to mk::now_ns():
/// Xen runs a vCPU's single-shot timer by the NOW() of the pCPU it is on,
/// which that record tracks, while now_ns() follows the leading vCPU's
/// record and may run ahead of it; deadlines taken from it would fire late
/// by that lead. Timer deadlines and lateness use this clock.
uint64_t now() noexcept;

/// On vCPU `v` (the caller), thread context: bind its VIRQ_TIMER to the
/// driver (once) and start the driver there (Xen's periodic timer stopped).
xen::Result<void> take_over(xen::VcpuId v) noexcept;

/// On vCPU `v` (the caller), thread context: stop the driver there and
/// close its VIRQ_TIMER port, so that other code can bind it.
xen::Result<void> give_back(xen::VcpuId v) noexcept;

/// One round of an idle loop on the calling vCPU: sleep until an event (the
/// driver's idle: SCHEDOP_block on PV, sti;hlt on PVH), then take it.
void idle_once(xen::VcpuId v) noexcept;

/// Idle on the calling vCPU until `flag` is set (by a timer callback) or
/// `limit_ns` of Xen time has passed. True if the flag was set.
bool idle_until(xen::VcpuId v, const volatile bool& flag, uint64_t limit_ns) noexcept;

/// Idle on the calling vCPU for `ns` (a timer ends it).
void sleep(xen::VcpuId v, uint64_t ns) noexcept;

/// The driver's state for vCPU `v` (counters, armed timers); `v` managed.
xen::TimerCpu& cpu_state(xen::VcpuId v) noexcept;

} // namespace mk::timers
