// What kind of Xen and domain the simulated hypervisor pretends to be.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace xen::sim {

/// A Xen release as major.minor.patch. Version-dependent behaviour in the
/// simulator is keyed on these numbers, never on a name.
struct Version {
    uint32_t major;
    uint32_t minor;
    uint32_t patch;

    constexpr auto operator<=>(const Version&) const noexcept = default;
    constexpr bool at_least(uint32_t maj, uint32_t min, uint32_t pat = 0) const noexcept
    {
        return *this >= Version{maj, min, pat};
    }
};

/// Xen 4.17.2: before the VCPU_SSHOTTMR_future change reached stable-4.17
/// (a past deadline with the flag answers -ETIME).
inline constexpr Version xen_4_17_2{4, 17, 2};
/// Xen 4.17.7 (Debian 12's hypervisor): a past deadline fires at once and
/// the flag is ignored (backport in 4.17.3), but still the 4.17 vcpu_info rules.
inline constexpr Version xen_4_17_7{4, 17, 7};
/// Xen 4.20.4 (Debian 13's hypervisor): ops 14/15, -EBUSY on re-registration.
inline constexpr Version xen_4_20{4, 20, 4};

/// PV (paravirtualised, vcpu_guest_context) or PVH (HVM container,
/// vcpu_hvm_context, hvm_op params).
enum class GuestType { pv, pvh };

/// Everything a test may choose about the simulated domain. Defaults give a
/// 4-vCPU PV domU on Xen 4.17.7 with vCPU 0 running.
struct Config {
    Version version = xen_4_17_7;
    GuestType guest = GuestType::pv;
    uint32_t vcpus = 4;
    /// vCPUs 0..initially_up-1 start initialised, up and running (at least 1).
    uint32_t initially_up = 1;
    /// The hardware domain (dom0), and whether each vCPU is pinned to one
    /// pCPU: both are needed for VCPUOP_get_physid.
    bool hardware_domain = false;
    bool pinned = false;
    uint32_t pcpus = 2;

    /// Virtual system time at domain creation (ns). Non-zero so that 0 is
    /// never a valid "now" (set_timer_op treats 0 as "stop").
    uint64_t start_ns = 1'000'000'000;
    /// Simulated TSC frequency. tsc_to_system_mul/tsc_shift are derived the
    /// way Xen scales ticks to ns unless tsc_mul is non-zero.
    uint64_t tsc_hz = 2'500'000'000;
    uint32_t tsc_mul = 0;
    int8_t tsc_shift = 0;
    /// XEN_PVCLOCK_TSC_STABLE_BIT in every vcpu_time_info (toggle at run time
    /// with Hypervisor::set_tsc_stable).
    bool tsc_stable = false;

    /// A remote VCPUOP_down lands late: the target keeps running, counts as
    /// up and VCPUOP_is_up answers 1 for this many polls of it (0: at once).
    /// Xen's own is_up reads _VPF_down at once; this models a target that
    /// parks itself later (Linux play_dead), which is why callers poll.
    uint32_t deferred_down_polls = 0;
    /// SCHEDOP_block / poll advance virtual time by at most this much.
    uint64_t block_limit_ns = 10'000'000'000;
    /// Timers fire this late (Xen's timer_slop lets them fire late, never early).
    uint64_t timer_slop_ns = 0;
    /// console_io write is allowed (Xen allows it for dom0 and debug builds).
    bool console_allowed = true;
    /// XENVER_extraversion text; empty means "." followed by the patch number.
    std::string extraversion;
};

} // namespace xen::sim
