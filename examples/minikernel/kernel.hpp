// What the minikernel's parts share: the guest type, what boot found out,
// and the two ways the kernel ends the machine.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/support/types.hpp>

namespace mk {

/// How Xen built this domain: PV (ring-3 kernel, Xen-managed page tables)
/// or PVH (an HVM container entered at the PHYS32 entry). The library's word.
using GuestType = xen::GuestKind;

/// "pv" or "pvh".
inline const char* guest_type_name(GuestType type) noexcept { return xen::guest_kind_name(type); }

/// What the boot path (boot_pv.cpp / boot_pvh.cpp) hands to kernel_main.
struct BootInfo {
    GuestType type;
    const char* cmdline;           ///< NUL-terminated, may be empty
    xen::abi::shared_info* shared; ///< mapped, never null after boot
    uint64_t start_info;           ///< where Xen put start_info / hvm_start_info
    uint64_t nr_pages;             ///< PV: pages Xen gave us; PVH: 0 (see the memmap)
};

/// Xen system time (ns) on the calling vCPU: the domain's one SystemClock
/// (domain.hpp), monotonic on and across vCPUs. Every clock read of the
/// kernel goes through it, but for timer deadlines (timers::now, which says
/// why).
uint64_t now_ns() noexcept;

/// The guest type of this boot (set once, before anything else runs).
GuestType guest_type() noexcept;
void set_guest_type(GuestType type) noexcept;

/// Run the in-guest tests and end the machine (main.cpp).
[[noreturn]] void kernel_main(const BootInfo& boot) noexcept;

/// Normal end: SCHEDOP_shutdown(SHUTDOWN_reboot). As dom0 this makes Xen
/// reset the machine, and QEMU started with -no-reboot exits. Pass or fail
/// is in the TAP stream, not in how we end.
[[noreturn]] void machine_reboot() noexcept;

/// Abnormal end after a message: SCHEDOP_shutdown(SHUTDOWN_crash). Xen logs
/// "Hardware Dom0 crashed" and resets the machine (after 5 seconds).
[[noreturn]] void machine_crash() noexcept;

} // namespace mk
