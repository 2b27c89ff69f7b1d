/// \file
/// Per-vCPU and per-domain pages Xen shares with the guest (public xen.h,
/// arch-x86/xen.h, arch-x86/xen-x86_64.h), x86-64 layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace xen::abi {

/// `XEN_LEGACY_MAX_VCPUS`: vCPUs whose vcpu_info lives in shared_info.
/// Beyond it a vCPU needs VCPUOP_register_vcpu_info (docs/vcpuop.md,
/// "Semantics worth knowing").
inline constexpr uint32_t legacy_max_vcpus = 32;

/// `struct vcpu_time_info` (32 bytes): the pvclock record. Xen bumps
/// `version` to odd before an update and to even after it.
/// time = system_time + ((((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32),
/// with a negative shift meaning a right shift.
struct vcpu_time_info {
    uint32_t version;           ///< odd while Xen updates the record
    uint32_t pad0;              ///< zero
    uint64_t tsc_timestamp;     ///< TSC at the last update
    uint64_t system_time;       ///< ns since Xen booted, at tsc_timestamp
    uint32_t tsc_to_system_mul; ///< 32.32 fixed-point ns per (shifted) tick
    int8_t tsc_shift;           ///< shift applied to the TSC delta first (negative: right)
    uint8_t flags;              ///< pvclock_flags (Xen 4.7+ interface)
    uint8_t pad1[2];            ///< zero
};
static_assert(sizeof(vcpu_time_info) == 32);
static_assert(offsetof(vcpu_time_info, version) == 0);
static_assert(offsetof(vcpu_time_info, tsc_timestamp) == 8);
static_assert(offsetof(vcpu_time_info, system_time) == 16);
static_assert(offsetof(vcpu_time_info, tsc_to_system_mul) == 24);
static_assert(offsetof(vcpu_time_info, tsc_shift) == 28);
static_assert(offsetof(vcpu_time_info, flags) == 29);

/// `XEN_PVCLOCK_TSC_STABLE_BIT`: the TSC is synchronised across pCPUs.
inline constexpr uint8_t pvclock_tsc_stable = 1u << 0;
/// `XEN_PVCLOCK_GUEST_STOPPED`: the guest was paused; watchdogs should relax.
inline constexpr uint8_t pvclock_guest_stopped = 1u << 1;

/// `struct arch_vcpu_info` (x86-64).
struct arch_vcpu_info {
    uint64_t cr2; ///< PV: faulting address of the last page fault
    uint64_t pad; ///< zero
};
static_assert(sizeof(arch_vcpu_info) == 16);

/// `struct vcpu_info` (64 bytes): event-upcall flags and the vCPU's pvclock.
struct vcpu_info {
    uint8_t evtchn_upcall_pending; ///< set by Xen; cleared by the guest before scanning
    uint8_t evtchn_upcall_mask;    ///< non-zero: no upcall (PV's "interrupts off")
    uint8_t pad0[6];               ///< zero
    uint64_t evtchn_pending_sel;   ///< bit i: word i of evtchn_pending has news
    arch_vcpu_info arch;           ///< x86 part (PV's cr2)
    vcpu_time_info time;           ///< this vCPU's pvclock record
};
static_assert(sizeof(vcpu_info) == 64);
static_assert(offsetof(vcpu_info, evtchn_upcall_pending) == 0);
static_assert(offsetof(vcpu_info, evtchn_upcall_mask) == 1);
static_assert(offsetof(vcpu_info, evtchn_pending_sel) == 8);
static_assert(offsetof(vcpu_info, arch) == 16);
static_assert(offsetof(vcpu_info, time) == 32);

/// `struct arch_shared_info` (x86-64).
struct arch_shared_info {
    uint64_t max_pfn;                    ///< PV: entries of the p2m the toolstack reads (pv::publish_p2m)
    uint64_t pfn_to_mfn_frame_list_list; ///< PV: MFN of the p2m's list-list page (pv::publish_p2m)
    uint64_t nmi_reason;                 ///< why the last NMI came (`_XEN_NMIREASON_*` bits; dom0)
    uint64_t p2m_cr3;                    ///< PV, virtually mapped p2m: cr3 of the page tables mapping it
    uint64_t p2m_vaddr;                  ///< PV, virtually mapped p2m: its virtual address
    uint64_t p2m_generation;             ///< PV, virtually mapped p2m: bumped (odd while changing) on each update
};
static_assert(sizeof(arch_shared_info) == 48);

/// Number of 64-bit words in the 2-level event-channel bitmaps.
inline constexpr uint32_t evtchn_words = 64;
/// Ports the 2-level ABI can name on x86-64 (64 * 64).
inline constexpr uint32_t evtchn_2l_nr_ports = evtchn_words * 64;

/// `struct shared_info` (3136 bytes on x86-64).
struct shared_info {
    ::xen::abi::vcpu_info vcpu_info[legacy_max_vcpus]; ///< vCPUs 0-31's vcpu_info until they register their own
    uint64_t evtchn_pending[evtchn_words];             ///< bit p: port p has an event pending
    uint64_t evtchn_mask[evtchn_words];                ///< bit p: port p is masked (no upcall)
    uint32_t wc_version;                               ///< seqlock for the wall clock, like vcpu_time_info::version
    uint32_t wc_sec;                                   ///< wall clock at system time 0: seconds (low 32 bits)
    uint32_t wc_nsec;                                  ///< wall clock at system time 0: nanoseconds
    uint32_t wc_sec_hi;                                ///< high 32 bits of wc_sec
    arch_shared_info arch;                             ///< x86 part (the PV p2m for the toolstack)
};
static_assert(sizeof(shared_info) == 3136);
static_assert(offsetof(shared_info, evtchn_pending) == 2048);
static_assert(offsetof(shared_info, evtchn_mask) == 2560);
static_assert(offsetof(shared_info, wc_version) == 3072);
static_assert(offsetof(shared_info, wc_sec) == 3076);
static_assert(offsetof(shared_info, wc_nsec) == 3080);
static_assert(offsetof(shared_info, wc_sec_hi) == 3084);
static_assert(offsetof(shared_info, arch) == 3088);

static_assert(std::is_standard_layout_v<vcpu_info> && std::is_trivially_copyable_v<vcpu_info>);
static_assert(std::is_standard_layout_v<shared_info> && std::is_trivially_copyable_v<shared_info>);

} // namespace xen::abi
