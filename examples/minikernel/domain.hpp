// The kernel's one xen::Domain: its slots (one per vCPU, in .bss), the
// hooks the library asks of the kernel, the event channels and the clock.
// Everything else in the kernel (SMP, timers, events, the domU console)
// reaches Xen's per-vCPU state through it, keyed by vcpu_id.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/domain.hpp>

#include "build_config.hpp"
#include "kernel.hpp"

namespace mk {

/// vCPUs this kernel can run (it has a slot, stacks and a per-CPU block
/// for each): meson's -Dmax_vcpus, 256 unless set, at most 2016. A domain
/// with more runs the first max_vcpus of them.
inline constexpr uint32_t max_vcpus = build_config::max_vcpus;
/// Event-channel ports the kernel can handle. Xen hands out the lowest free
/// port: every vCPU holds a call IPI and a VIRQ_TIMER, and 64 more are kept
/// spare; sized by meson from max_vcpus, never below 1024, at most 4096.
inline constexpr uint32_t max_ports = build_config::max_ports;
static_assert(max_vcpus >= 1 && 2 * max_vcpus + 64 <= max_ports && max_ports <= 4096,
              "meson sizes the port table from max_vcpus (top-level meson.build)");

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
