// What the minikernel's parts share: the guest type, what boot found out,
// and the two ways the kernel ends the machine.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/support/types.hpp>
#include <xen/time/pvclock.hpp>

namespace mk {

/// How Xen built this domain: PV (ring-3 kernel, Xen-managed page tables)
/// or PVH (an HVM container entered at the PHYS32 entry).
enum class GuestType : uint8_t {
    pv,
    pvh,
};

/// "pv" or "pvh".
const char* guest_type_name(GuestType type) noexcept;

/// What the boot path (boot_pv.cpp / boot_pvh.cpp) hands to kernel_main.
struct BootInfo {
    GuestType type;
    const char* cmdline;             ///< NUL-terminated, may be empty
    xen::abi::shared_info* shared;   ///< mapped, never null after boot
    uint64_t start_info;             ///< where Xen put start_info / hvm_start_info
    uint64_t nr_pages;               ///< PV: pages Xen gave us; PVH: 0 (see the memmap)
};

/// Xen system time now by the pvclock record in `vi` (0 if the record stayed
/// inconsistent: for the calling vCPU's own record that never happens in
/// practice, as Xen rewrites it only while that vCPU is out of guest context).
inline uint64_t pvclock_now_ns(const xen::abi::vcpu_info& vi) noexcept
{
    const auto t = xen::pvclock_read(vi.time);
    return t ? t->system_time_ns : 0;
}

/// The guest type of this boot (set once, before anything else runs).
GuestType guest_type() noexcept;
void set_guest_type(GuestType type) noexcept;

/// A guest type as the library's GuestKind (upcall masking, safe_halt).
inline xen::GuestKind guest_kind(GuestType type = guest_type()) noexcept
{
    return type == GuestType::pvh ? xen::GuestKind::pvh : xen::GuestKind::pv;
}

/// Run the scenarios and end the machine (main.cpp).
[[noreturn]] void kernel_main(const BootInfo& boot) noexcept;

/// Normal end: SCHEDOP_shutdown(SHUTDOWN_reboot). As dom0 this makes Xen
/// reset the machine, and QEMU started with -no-reboot exits. Pass or fail
/// is in the TAP stream, not in how we end.
[[noreturn]] void machine_reboot() noexcept;

/// Abnormal end after a message: SCHEDOP_shutdown(SHUTDOWN_crash). Xen logs
/// "Hardware Dom0 crashed" and resets the machine (after 5 seconds).
[[noreturn]] void machine_crash() noexcept;

} // namespace mk
