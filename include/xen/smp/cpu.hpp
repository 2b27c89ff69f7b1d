/// \file
/// The SMP layer's part of a vCPU's slot (xen/vcpu_slot.hpp): the bring-up
/// handshake, the call mailbox and the hotplug state Smp works in. It is
/// shared with the vCPU's entry code, so it must stay put for the life of
/// the domain.
#pragma once

#include <cstdint>
#include <xen/smp/handshake.hpp>
#include <xen/support/errc.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// Where a vCPU is in its life, as the SMP layer tracks it.
enum class CpuState : uint8_t {
    absent,   ///< not a vCPU of this domain, or beyond the kernel's slots
    down,     ///< exists, never started by us (or preparation failed)
    prepared, ///< vcpu_info placed, upcalls masked, events bound: ready to start
    starting, ///< initialised and up; its check-in has not been seen yet
    online,   ///< checked in; runs and serves calls
    parking,  ///< asked to park itself; Xen still reports it up
    parked,   ///< down in its own VCPUOP_down; VCPUOP_up resumes it
    resuming, ///< upped again; its next check-in has not been seen yet
};

/// A name for logs.
constexpr const char* cpu_state_name(CpuState s) noexcept
{
    switch (s) {
    case CpuState::absent: return "absent";
    case CpuState::down: return "down";
    case CpuState::prepared: return "prepared";
    case CpuState::starting: return "starting";
    case CpuState::online: return "online";
    case CpuState::parking: return "parking";
    case CpuState::parked: return "parked";
    case CpuState::resuming: return "resuming";
    }
    return "?";
}

/// What a cross-CPU call runs on its target (which knows itself: Smp::self).
using CallFn = void (*)(void* arg) noexcept;

/// One vCPU's mailbox for calls from other CPUs: one call at a time. A
/// caller takes `busy` (0 -> 1), fills fn/arg, then bumps `posted`; the
/// target runs it, sets `done = posted`, then frees `busy`.
struct alignas(64) CallMailbox {
    uint32_t busy = 0;   ///< 1 while a caller owns the mailbox
    uint32_t posted = 0; ///< number of calls posted so far (the ticket's seq)
    uint32_t done = 0;   ///< the last posted call the target finished
    uint32_t park = 0;   ///< a park request (offline) is waiting for the target
    CallFn fn = nullptr; ///< the posted call
    void* arg = nullptr; ///< its argument
    uint64_t ipis = 0;   ///< IPIs delivered to this CPU (its handler ran)
    /// The target is inside the posted call (touched by the target only): a
    /// wait inside the call that serves the mailbox must not run it again.
    uint32_t running = 0;
};
static_assert(sizeof(CallMailbox) == 64);

/// When the controller did each step of a vCPU's last bring-up, by Xen
/// system time (Domain::now, the clock of every bounded wait); 0: not (yet)
/// done. For timelines: Smp fills it in, the kernel reads it
/// (BringUpReport::start_ns is the bring-up call's own start). A later
/// prepare/start of the same vCPU (Smp::restart after a restore) writes it
/// afresh; hotplug (offline/online) leaves it alone.
struct SmpTimeline {
    /// prepare() began its work (the vCPU was down); in bring_up(parallel),
    /// its batch of up to 16 APs began (one stamp for the batch)
    uint64_t prepare_begin_ns = 0;
    /// prepare() succeeded: vcpu_info, mask, IPI and hook done; in
    /// bring_up(parallel), its whole batch was done (one stamp for the batch)
    uint64_t prepare_end_ns = 0;
    /// VCPUOP_up returned success in start(); in bring_up(parallel), the
    /// multicall that carried it returned (one stamp for the batch)
    uint64_t up_ns = 0;
    uint64_t online_ns = 0; ///< the controller saw its check-in (await_online, bring_up)
};

/// One vCPU's SMP state (constexpr, zeroed: a static array of slots needs
/// no constructor to run). Never moved.
struct alignas(64) SmpCpu {
    /// The bring-up handshake with this vCPU's entry code.
    ApHandshake handshake{};
    /// Calls and park requests from other vCPUs.
    CallMailbox mailbox;

    // Owned by the controller (the vCPU driving bring-up and hotplug).
    VcpuId vcpu{0};                    ///< whose part this is (set by Domain::init)
    CpuState state = CpuState::absent; ///< where the vCPU is in its life
    bool initialised = false;          ///< op 0 succeeded: never again (EEXIST)
    Port ipi_port{0};                  ///< the IPI channel bound to this vCPU (calls, park requests)
    bool ipi_bound = false;            ///< `ipi_port` is bound
    Errc last_error = Errc{};          ///< the last failure of prepare/start/await/hotplug
    uint64_t bringup_ns = 0;           ///< start to first check-in, by Xen system time
    uint32_t cycles = 0;               ///< completed park/resume cycles
    uint32_t awaited_generation = 0;   ///< the check-in the controller waits for
    bool remote_down = false;          ///< taken down by offline_remote: no check-in on resume
    SmpTimeline timeline{};            ///< when its last bring-up's steps happened

    constexpr SmpCpu() noexcept = default;
    SmpCpu(const SmpCpu&) = delete;
    SmpCpu& operator=(const SmpCpu&) = delete;
};

/// A bounded wait: give up after `timeout_ns` of Xen system time, or after
/// `max_polls` polls whatever the clock says (a backstop against a clock
/// that does not move). Every wait in the SMP layer takes one.
struct WaitBound {
    uint64_t timeout_ns = 5'000'000'000; ///< Xen system time, ns (default 5 s)
    uint64_t max_polls = 100'000'000;    ///< polls (each one relax step)
};

} // namespace xen
