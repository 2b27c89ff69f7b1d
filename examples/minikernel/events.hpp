// Event channels in this kernel: the library's xen::EventChannels over the
// mapped shared_info page, plus what only the kernel knows - how upcalls are
// switched on and off for its guest type, and where the upcall comes in.
// Only vCPU 0 takes upcalls in this kernel.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/events.hpp>

#include "kernel.hpp"

namespace mk::events {

/// Ports the kernel can bind. Xen hands out the lowest free port, so a few
/// dozen channels need a few dozen slots.
inline constexpr uint32_t max_ports = 128;
/// vCPUs that can have ports bound (XEN_LEGACY_MAX_VCPUS: beyond it a vCPU
/// needs its own registered vcpu_info first).
inline constexpr uint32_t max_vcpus = 32;

/// Take over the mapped shared_info page and mask every port, so that only
/// ports bound through channels() can raise an upcall. Upcalls stay off.
void init(xen::abi::shared_info* shared, GuestType type) noexcept;

/// The shared_info page given to init(), or nullptr before.
xen::abi::shared_info* shared_info() noexcept;

/// The domain's event channels: bind_virq, bind_ipi, send, close, ...
/// Only valid after init().
xen::EventChannels& channels() noexcept;

/// Let upcalls in: PV clears vcpu_info.evtchn_upcall_mask, PVH sets
/// RFLAGS.IF. If an event is already pending, it is delivered at once.
void enable() noexcept;
/// Keep upcalls out (the PV mask, or cli on PVH).
void disable() noexcept;

/// The upcall (PV event callback, PVH callback vector), from trap_dispatch
/// with upcalls off: the library's dispatcher for vCPU 0.
void upcall() noexcept;

/// Upcalls taken so far.
uint64_t upcall_count() noexcept;

} // namespace mk::events
