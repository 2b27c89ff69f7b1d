/// \file
/// VCPUOP sub-operations and their arguments (Xen public vcpu.h), x86-64 layout.
/// Hypercall: vcpu_op(int cmd, unsigned int vcpuid, void* extra_args).
/// See docs/vcpuop.md for each op's error paths per Xen version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

/// Xen's guest ABI as C++ types: Xen's struct and constant names (no `_t`,
/// no C prefix), each layout pinned by `static_assert` and checked against
/// Xen's own public headers by the ABI conformance test (docs/abi.md).
namespace xen::abi {

/// `VCPUOP_*` (vcpu.h). 0–13 exist since Xen 4.0 (13 usable from 4.3);
/// 14 and 15 arrived in Xen 4.18.
enum class vcpuop : int32_t {
    initialise = 0,
    up = 1,
    down = 2,
    is_up = 3,
    get_runstate_info = 4,
    register_runstate_memory_area = 5,
    set_periodic_timer = 6,
    stop_periodic_timer = 7,
    set_singleshot_timer = 8,
    stop_singleshot_timer = 9,
    register_vcpu_info = 10,
    send_nmi = 11,
    get_physid = 12,
    register_vcpu_time_memory_area = 13,
    register_runstate_phys_area = 14,
    register_vcpu_time_phys_area = 15,
};

/// Number of VCPUOPs defined by Xen 4.18 and later.
inline constexpr int32_t vcpuop_count = 16;

/// `RUNSTATE_*`: what a vCPU is doing, as accounted by Xen's scheduler.
enum class runstate : int32_t {
    running = 0,  ///< on a pCPU
    runnable = 1, ///< ready but waiting for a pCPU (steal)
    blocked = 2,  ///< waiting for an event (SCHEDOP_block / poll)
    offline = 3,  ///< down, paused, or not yet online (counted as steal by Linux)
};

/// `struct vcpu_runstate_info` (48 bytes): read with get_runstate_info or
/// kept current by Xen in a registered area.
struct vcpu_runstate_info {
    int32_t state;             ///< a runstate value
    uint32_t pad0;             ///< implicit padding in Xen's C layout
    uint64_t state_entry_time; ///< system time of entering `state`; bit 63 = update flag
    uint64_t time[4];          ///< total ns spent in each runstate
};
static_assert(sizeof(vcpu_runstate_info) == 48);
static_assert(offsetof(vcpu_runstate_info, state) == 0);
static_assert(offsetof(vcpu_runstate_info, state_entry_time) == 8);
static_assert(offsetof(vcpu_runstate_info, time) == 16);

/// `XEN_RUNSTATE_UPDATE`: bit 63 of state_entry_time, set by Xen while it
/// rewrites a registered area (needs VMASST_TYPE_runstate_update_flag, or a
/// phys-registered area, which always uses it).
inline constexpr uint64_t runstate_update_flag = uint64_t{1} << 63;

/// Argument of ops 5 and 13 (`vcpu_register_runstate_memory_area`,
/// `vcpu_register_time_memory_area`): an 8-byte union of guest handle,
/// virtual address and u64. We keep the u64 view: a guest virtual address.
struct vcpu_register_area_va {
    uint64_t addr; ///< the area's guest virtual address
};
static_assert(sizeof(vcpu_register_area_va) == 8);

/// Argument of ops 14 and 15: the union above read as `addr.p`, a
/// guest-physical address (Xen 4.18+).
struct vcpu_register_area_phys {
    uint64_t addr; ///< the area's guest-physical address (~0: unregister)
};
static_assert(sizeof(vcpu_register_area_phys) == 8);

/// `struct vcpu_set_periodic_timer`.
struct vcpu_set_periodic_timer {
    uint64_t period_ns; ///< the period, ns (periodic_period_min_ns .. periodic_period_max_ns)
};
static_assert(sizeof(vcpu_set_periodic_timer) == 8);

/// Xen refuses periodic periods under 1 ms (-EINVAL) and above 2^62-1 ns.
inline constexpr uint64_t periodic_period_min_ns = 1'000'000;
inline constexpr uint64_t periodic_period_max_ns = (uint64_t{1} << 62) - 1; ///< the longest period Xen takes, ns

/// `struct vcpu_set_singleshot_timer` (16 bytes on x86-64, 4 bytes tail pad).
struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns; ///< absolute Xen system time
    uint32_t flags;          ///< singleshot_flags
    uint32_t pad0;           ///< zero
};
static_assert(sizeof(vcpu_set_singleshot_timer) == 16);
static_assert(offsetof(vcpu_set_singleshot_timer, flags) == 8);

/// `VCPU_SSHOTTMR_future`: "fail with -ETIME if the deadline has passed".
/// Ignored by Xen 4.17.3+/4.18+; the library never sets it
/// (docs/xen-contracts.md, "Single-shot timers").
inline constexpr uint32_t sshottmr_future = 1u << 0;

/// `struct vcpu_register_vcpu_info` (op 10).
struct vcpu_register_vcpu_info {
    uint64_t mfn;    ///< frame holding the vcpu_info (PV: MFN, HVM/PVH: GFN)
    uint32_t offset; ///< byte offset in that frame
    uint32_t rsvd;   ///< must be 0
};
static_assert(sizeof(vcpu_register_vcpu_info) == 16);
static_assert(offsetof(vcpu_register_vcpu_info, offset) == 8);

/// `struct vcpu_get_physid` (op 12): [31:0] APIC id, [63:32] ACPI id.
struct vcpu_get_physid {
    uint64_t phys_id; ///< APIC id in bits 31:0, ACPI id in bits 63:32
};
static_assert(sizeof(vcpu_get_physid) == 8);

/// The APIC id in a vcpu_get_physid::phys_id (`xen_vcpu_physid_to_x86_apicid`).
constexpr uint32_t physid_to_apic_id(uint64_t physid) noexcept { return static_cast<uint32_t>(physid); }
/// The ACPI id in a vcpu_get_physid::phys_id (`xen_vcpu_physid_to_x86_acpiid`).
constexpr uint32_t physid_to_acpi_id(uint64_t physid) noexcept { return static_cast<uint32_t>(physid >> 32); }

static_assert(std::is_standard_layout_v<vcpu_runstate_info> && std::is_trivially_copyable_v<vcpu_runstate_info>);
static_assert(std::is_standard_layout_v<vcpu_set_singleshot_timer>);
static_assert(std::is_standard_layout_v<vcpu_register_vcpu_info>);

} // namespace xen::abi
