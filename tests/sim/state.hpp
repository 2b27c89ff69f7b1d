// Internal: the simulator's per-vCPU and per-port state, and the small
// helpers every area file shares. Not for tests: use hypervisor.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "hypervisor.hpp"

namespace xen::sim {

struct Hypervisor::VcpuState {
    uint32_t id = 0;

    // Xen's vcpu flags (docs/xen-contracts.md, "vCPU flags and the wake trap"):
    // is_initialised, _VPF_down, and
    // whether vcpu_wake() ran since the vCPU last went down.
    bool initialised = false;
    bool down = true;
    bool woken = false;
    /// Remote VCPUOP_down still in flight: is_up answers 1 this many more times.
    uint32_t deferred_polls = 0;

    /// Xen's accounting copy (vcpu_runstate_change): state, entry time, totals.
    abi::vcpu_runstate_info rs{};

    abi::vcpu_runstate_info* runstate_va = nullptr;   // op 5
    abi::vcpu_runstate_info* runstate_phys = nullptr; // op 14
    abi::vcpu_time_info* time_va = nullptr;           // op 13
    abi::vcpu_time_info* time_phys = nullptr;         // op 15
    abi::vcpu_info* registered_info = nullptr;        // op 10

    uint64_t periodic_period = 0;
    uint64_t periodic_last = 0;
    std::optional<uint64_t> singleshot;

    int64_t tsc_skew = 0;
    uint32_t time_version = 0; // last even version written

    std::array<uint32_t, nr_virqs> virq_to_port{};
    uint8_t upcall_vector = 0;

    /// set_segment_base: the FS, user GS and kernel GS bases, and the last
    /// user %gs selector loaded with SEGBASE_GS_USER_SEL.
    std::array<uint64_t, 3> segment_bases{};
    uint16_t gs_user_selector = 0;

    uint32_t nmis = 0;
    uint64_t timer_fires = 0;
    uint64_t kicks = 0;
    /// Set while the vCPU sits in SCHEDOP_block/poll and an event woke it.
    bool wake_pending = false;
};

struct Hypervisor::PortState {
    abi::evtchn_stat state = abi::evtchn_stat::closed;
    uint32_t vcpu = 0;   // notify vCPU
    uint32_t virq = 0;   // for virq ports
    uint16_t remote = 0; // for unbound ports
};

/// -errno as Xen returns it.
constexpr long fail(Errc e) noexcept { return -static_cast<long>(e); }

/// A guest pointer (identity-mapped host address).
template <class T>
T* guest_ptr(uint64_t addr) noexcept
{
    return reinterpret_cast<T*>(static_cast<uintptr_t>(addr));
}

/// copy_from_guest: false (Xen: -EFAULT) for a null handle.
template <class T>
bool copy_from_guest(T& out, uint64_t addr) noexcept
{
    if (addr == 0)
        return false;
    std::memcpy(&out, guest_ptr<const void>(addr), sizeof(T));
    return true;
}

/// copy_to_guest: false (Xen: -EFAULT) for a null handle.
template <class T>
bool copy_to_guest(uint64_t addr, const T& in) noexcept
{
    if (addr == 0)
        return false;
    std::memcpy(guest_ptr<void>(addr), &in, sizeof(T));
    return true;
}

/// A store to memory the guest may be reading concurrently: one access of
/// the field's size, as Xen's copies are for aligned fields. Sequentially
/// consistent, so the stores of an update protocol reach a reader on another
/// thread in program order (the job of Xen's smp_wmb() between steps).
template <class T>
void put(T& dst, T value) noexcept
{
    __atomic_store_n(&dst, value, __ATOMIC_SEQ_CST);
}

/// Where Xen has smp_wmb() between the steps of an update protocol. put()
/// already orders the stores; this keeps the compiler from merging steps
/// (a thread fence would add nothing, and ThreadSanitizer cannot model one).
inline void write_barrier() noexcept { __atomic_signal_fence(__ATOMIC_SEQ_CST); }

} // namespace xen::sim
