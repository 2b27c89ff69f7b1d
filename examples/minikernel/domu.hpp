// The minikernel as a domU: Xen's toolstack gave it a console ring and a
// xenstore ring instead of console_io. domu::init finds both (PV:
// start_info's console.domU and store_mfn; PVH: the HVM params), maps them
// and routes the console through the ring. As dom0 it does nothing.
#pragma once

#include <cstddef>
#include <xen/xenstore.hpp>

#include "kernel.hpp"

namespace mk::domu {

/// Attach the console and xenstore rings when this domain is not dom0
/// (XENFEAT_dom0 clear). Call once, on vCPU 0, before the first print.
void init(const BootInfo& boot, uint32_t features) noexcept;

/// After a restore into a new domain: find the rings again (the frames
/// and ports the new domain has: PV start_info, which the restorer
/// rewrote; PVH the HVM params) and attach to them. Xenstored forgot our
/// watches: set them again.
void reattach(const BootInfo& boot) noexcept;

/// True once init found a console ring (this is a domU).
bool active() noexcept;

/// Write to the console ring as one unit (the ring's writer lock; waiting
/// in idle_wait while it is full or another CPU writes). Upcalls are held
/// off meanwhile. Not from an NMI handler.
void console_write(const char* text, size_t len) noexcept;

/// Console writes that failed (the ring stayed full or broke): lines lost.
uint32_t console_write_failures() noexcept;

/// Wait (bounded) until xenconsoled has read everything written, so the
/// last lines are not lost when the domain goes away.
void console_drain() noexcept;

/// Read console input without waiting; returns the bytes read.
size_t console_read(char* buf, size_t cap) noexcept;

/// Sleep until xenconsoled or xenstored notifies us, or `timeout_ns` of Xen
/// time pass (SCHEDOP_poll on both ports), so a waiting vCPU leaves its pCPU
/// to dom0 instead of spinning. Falls back to SCHEDOP_yield as dom0.
void idle_wait(uint64_t timeout_ns) noexcept;

/// The xenstore client, or nullptr as dom0 (or if the ring is missing).
xen::XenStore* xenstore() noexcept;

} // namespace mk::domu
