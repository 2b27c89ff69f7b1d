// The kernel's timer driver: one xen::TimerDriver for the whole kernel, its
// per-CPU storage, the clock it reads, and taking over / giving back a CPU's
// VIRQ_TIMER. Used by the timers and timers+hotplug tests
// (tests/guest/timers*/); docs/timers.md has the driver's contracts.
#pragma once

#include <cstdint>
#include <xen/support/result.hpp>
#include <xen/time/timer_driver.hpp>

#include "kernel.hpp"

namespace mk::timers {

/// CPUs the driver has storage for (the first ones of a bigger domain).
inline constexpr uint32_t max_cpus = 64;

/// Xen system time by `vcpu`'s own pvclock record: Xen runs a vCPU's
/// single-shot timer by the NOW() of the pCPU it is on, which that record
/// tracks (a cross-vCPU monotonic clock may run ahead of it). Any context.
uint64_t now(xen::VcpuId vcpu) noexcept;

/// The driver (constructed on first use, from CPU 0, before any AP uses it).
xen::TimerDriver& driver(GuestType guest) noexcept;

/// On CPU `cpu`, thread context: bind its VIRQ_TIMER to the driver (once)
/// and start the driver there (Xen's periodic timer stopped).
xen::Result<void> take_over(uint32_t cpu, GuestType guest) noexcept;

/// On CPU `cpu`, thread context: stop the driver there and close its
/// VIRQ_TIMER port, so that other code can bind it.
xen::Result<void> give_back(uint32_t cpu) noexcept;

/// One round of an idle loop on the calling CPU: sleep until an event (the
/// driver's idle: SCHEDOP_block on PV, sti;hlt on PVH), then take it.
void idle_once(xen::VcpuId vcpu) noexcept;

/// Idle on the calling CPU until `flag` is set (by a timer callback) or
/// `limit_ns` of Xen time has passed. True if the flag was set.
bool idle_until(xen::VcpuId vcpu, const volatile bool& flag, uint64_t limit_ns) noexcept;

/// Idle on the calling CPU for `ns` (a timer ends it).
void sleep(xen::VcpuId vcpu, uint64_t ns) noexcept;

/// The driver's state for CPU `cpu` (counters, armed timers).
xen::TimerCpu& cpu_state(uint32_t cpu) noexcept;

} // namespace mk::timers
