// Event channels, the minimum this kernel needs: the shared_info page, a
// handler per port, and the upcall that dispatches pending ports (2-level
// ABI: shared_info.evtchn_pending / evtchn_mask, vcpu_info.evtchn_pending_sel).
// Only vCPU 0 takes upcalls in this kernel.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/hypercall/event_channel_op.hpp>
#include <xen/support/result.hpp>

#include "kernel.hpp"

namespace mk::events {

/// Called from the upcall with events off, once per pending port.
using Handler = void (*)(xen::hc::Port port, void* context) noexcept;

/// Ports this kernel can hold handlers for (the 2-level ABI has 4096).
inline constexpr uint32_t max_ports = 256;

/// Take over the mapped shared_info page and mask every port, so that only
/// ports we bind a handler to can raise an upcall. Events stay off.
void init(xen::abi::shared_info* shared, GuestType type) noexcept;

/// The shared_info page given to init(), or nullptr before.
xen::abi::shared_info* shared_info() noexcept;

/// Route `port` to `handler` and unmask it. invalid_argument if the port is
/// beyond max_ports or already has a handler.
xen::Result<void> bind(xen::hc::Port port, Handler handler, void* context) noexcept;

/// Mask `port` and forget its handler (the caller closes the port).
void unbind(xen::hc::Port port) noexcept;

/// Let upcalls in: PV clears vcpu_info.evtchn_upcall_mask, PVH sets
/// RFLAGS.IF. If an event is already pending, it is delivered at once.
void enable() noexcept;
/// Keep upcalls out (the PV mask, or cli on PVH).
void disable() noexcept;

/// The upcall: clear evtchn_upcall_pending, then run the handler of every
/// pending, unmasked port. Called by trap_dispatch with events off.
void upcall() noexcept;

/// Upcalls taken so far.
uint64_t upcall_count() noexcept;

} // namespace mk::events
