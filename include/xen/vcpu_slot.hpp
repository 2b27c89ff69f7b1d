/// \file
/// VcpuSlot: everything the library keeps for one vCPU, in one block of
/// kernel memory. The kernel declares one slot per vCPU it may run (a static
/// array is enough: slots construct as constants, so the array sits in .bss)
/// and hands the array to its Domain. Slot i belongs to vCPU i: Xen's
/// vcpu_ids are dense from 0, so the vcpu_id is the one key everywhere.
///
/// Each member is one layer's part, defined and tested in that layer; the
/// slot only holds them together, so that one vCPU's state shares cache
/// lines with nothing of another vCPU's. docs/object-model.md draws it.
///
/// Xen writes into the slot (the vcpu_info area, the runstate area) once
/// they are registered: a slot never moves and outlives the domain.
#pragma once

#include <xen/abi/shared_info.hpp>
#include <xen/events.hpp>
#include <xen/hypercall/area_registration.hpp>
#include <xen/runstate/area.hpp>
#include <xen/runstate/steal.hpp>
#include <xen/smp/cpu.hpp>
#include <xen/support/types.hpp>
#include <xen/time/clock.hpp>
#include <xen/time/timer_cpu.hpp>

namespace xen {

/// Everything the library keeps for one vCPU, one member per layer, in one
/// block of kernel memory (cache-aligned, constant-initialised, never
/// moved). Slot v belongs to vCPU v; the kernel gives the Domain one per
/// vCPU it may run (DomainStorage, or its own array).
struct alignas(64) VcpuSlot {
    /// Domain: the vcpu_info Xen uses for this vCPU once it is registered
    /// (VCPUOP_register_vcpu_info, Domain::place_vcpu_info).
    Area<abi::vcpu_info> vcpu_info;
    /// Time: this vCPU's pvclock record and its last reading (SystemClock).
    ClockCpu clock;
    /// SMP: the bring-up handshake, the call mailbox, the hotplug state.
    SmpCpu smp;
    /// Events: where this vCPU's next dispatch resumes scanning.
    EventCursor events;
    /// Runstate: the registered runstate area and the steal clock on it.
    RunstateCpu runstate;
    /// Runstate: this vCPU's steal accumulated from `runstate`'s area.
    StealClock steal;
    /// Time: this vCPU's timer queue and driver state.
    TimerCpu timers;
    /// Domain: `vcpu_info` above is registered with Xen (never twice: Xen
    /// answers -EINVAL up to 4.17 and -EBUSY from 4.18).
    bool vcpu_info_registered = false;
    /// Domain: a secondary time area registered through the Domain (ops 13
    /// and 15), to register again after a restore (docs/lifecycle.md).
    AreaKind time_area_kind = AreaKind::none;
    /// Domain: that secondary time area (null: none registered).
    Area<abi::vcpu_time_info>* time_area = nullptr;
    /// Domain: its guest-physical address when registered by op 15.
    PhysAddr time_area_pa{~uint64_t{0}};
    /// Domain::suspend parked this AP and brings it back afterwards.
    bool parked_for_suspend = false;
    /// Domain::suspend took it down to register its vcpu_info again.
    bool downed_to_register = false;

    constexpr VcpuSlot() noexcept = default;
    VcpuSlot(const VcpuSlot&) = delete;
    VcpuSlot& operator=(const VcpuSlot&) = delete;
};

} // namespace xen
