// Event channels in this kernel: the library's xen::EventChannels over the
// mapped shared_info page, plus what only the kernel knows - how upcalls are
// switched on and off for its guest type, and where the upcall comes in.
// Every CPU takes its own upcalls: the dispatcher runs for the calling vCPU
// with its own vcpu_info (smp.hpp), and only ports bound to that vCPU.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/events.hpp>

#include "kernel.hpp"
#include "smp.hpp"

namespace mk::events {

/// Ports the kernel can bind. Xen hands out the lowest free port: every CPU
/// has a call IPI and may have a VIRQ_TIMER and a few more.
inline constexpr uint32_t max_ports = 1024;
/// vCPUs that can have ports bound: every CPU the kernel runs (beyond
/// XEN_LEGACY_MAX_VCPUS a vCPU has its own registered vcpu_info).
inline constexpr uint32_t max_vcpus = smp::max_cpus;

/// Take over the mapped shared_info page and mask every port, so that only
/// ports bound through channels() can raise an upcall. Upcalls stay off.
void init(xen::abi::shared_info* shared, GuestType type) noexcept;

/// The shared_info page given to init(), or nullptr before.
xen::abi::shared_info* shared_info() noexcept;

/// The domain's event channels: bind_virq, bind_ipi, send, close, ...
/// Only valid after init().
xen::EventChannels& channels() noexcept;

/// Let upcalls in on the calling CPU: PV clears its vcpu_info's
/// evtchn_upcall_mask, PVH sets RFLAGS.IF. If an event is already pending,
/// it is delivered at once.
void enable() noexcept;
/// Keep upcalls out on the calling CPU (the PV mask, or cli on PVH).
void disable() noexcept;

/// The upcall (PV event callback, PVH callback vector), from trap_dispatch
/// with upcalls off: the library's dispatcher for the calling vCPU.
void upcall() noexcept;

/// Upcalls taken so far on the calling CPU.
uint64_t upcall_count() noexcept;

} // namespace mk::events
