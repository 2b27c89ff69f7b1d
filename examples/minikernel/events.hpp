// Event channels in this kernel: the domain's xen::EventChannels (domain.hpp)
// plus what only the kernel knows - how upcalls are switched on and off for
// its guest type, and where the upcall comes in. Every vCPU takes its own
// upcalls: the dispatcher runs for the calling vCPU with its own vcpu_info
// (smp.hpp), and only ports bound to that vCPU.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/events.hpp>

#include "kernel.hpp"

namespace mk::events {

/// The domain's event channels: bind_virq, bind_ipi, send, close, ...
/// Only valid after domain_init().
xen::EventChannels& channels() noexcept;

/// The shared_info page (nullptr before domain_init()).
xen::abi::shared_info* shared_info() noexcept;

/// Let upcalls in on the calling vCPU: PV clears its vcpu_info's
/// evtchn_upcall_mask, PVH sets RFLAGS.IF. If an event is already pending,
/// it is delivered at once.
void enable() noexcept;

/// Keep upcalls out on the calling vCPU (the PV mask, or cli on PVH).
void disable() noexcept;

/// The upcall (PV event callback, PVH callback vector), from trap_dispatch
/// with upcalls off: the library's dispatcher for the calling vCPU.
void upcall() noexcept;

/// Upcalls taken so far on the calling vCPU.
uint64_t upcall_count() noexcept;

} // namespace mk::events
