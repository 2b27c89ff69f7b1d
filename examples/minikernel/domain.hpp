// The kernel's one xen::Domain: its slots (one per vCPU, in .bss), the
// hooks the library asks of the kernel, the event channels and the clock.
// Everything else in the kernel (SMP, timers, events, the domU console)
// reaches Xen's per-vCPU state through it, keyed by vcpu_id.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/domain.hpp>

#include "kernel.hpp"

namespace mk {

/// vCPUs this kernel can run (it has a slot for each). A domain with more
/// runs the first max_vcpus of them.
inline constexpr uint32_t max_vcpus = 256;
/// Event-channel ports the kernel can handle. Xen hands out the lowest free
/// port: every vCPU has a call IPI and may have a VIRQ_TIMER and a few more.
inline constexpr uint32_t max_ports = 1024;

/// Boot vCPU, once its per-CPU block is in place: the domain over the
/// mapped shared_info page, every port masked, upcalls still off. Also sets
/// up the timer driver over it. A failure is a bail-out (it cannot happen
/// with the kernel's own, complete configuration).
void domain_init(xen::abi::shared_info* shared, GuestType type) noexcept;

/// True once domain_init has run.
bool domain_ready() noexcept;

/// The domain (only after domain_init).
xen::Domain& domain() noexcept;

} // namespace mk
