/// \file
/// Small strong types shared by every layer: vCPU ids, addresses, and the
/// Area<T> wrapper for memory that Xen keeps writing to after registration.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>

namespace xen {

/// A Xen vcpu_id: the number every VCPUOP takes. Not an APIC id and not an
/// ACPI id (on HVM/PVH the APIC id is 2 * vcpu_id;
/// docs/smp.md, "Numbers: CPUs and vCPUs").
struct VcpuId {
    uint32_t value; ///< the vcpu_id, 0 .. the domain's vCPU count - 1

    /// Same vCPU.
    constexpr bool operator==(const VcpuId&) const noexcept = default;
    /// Orders by vcpu_id (for sorted tables, ranges over vCPUs).
    constexpr auto operator<=>(const VcpuId&) const noexcept = default;
};

/// The vCPU a kernel boots on: vCPU 0, for PV and PVH alike.
inline constexpr VcpuId boot_vcpu{0};

/// An event-channel port of this domain (Xen's evtchn_port_t).
struct Port {
    uint32_t value; ///< the port number; 0 is never a bound port
    /// Same port.
    constexpr bool operator==(const Port&) const noexcept = default;
};

/// A guest-physical address (PVH/HVM: GPA; PV: pseudo-physical address).
struct PhysAddr {
    uint64_t value; ///< the address in bytes
    /// Same address.
    constexpr bool operator==(const PhysAddr&) const noexcept = default;
};

/// A machine frame number as Xen wants it in `mfn` fields: the MFN for PV
/// guests, the GFN for HVM/PVH guests.
struct FrameNumber {
    uint64_t value; ///< the frame number (address / 4096)
    /// Same frame.
    constexpr bool operator==(const FrameNumber&) const noexcept = default;
};

/// How Xen built the domain, which decides how several mechanisms work:
/// the initialise context, how upcalls are held off (vcpu_info's
/// evtchn_upcall_mask on PV, RFLAGS.IF on PVH), how a vCPU sleeps, and
/// which frame numbers Xen takes (MFNs on PV, GFNs on PVH).
enum class GuestKind : uint8_t {
    pv,  ///< a paravirtualised guest: ring-3 kernel, Xen-managed page tables
    pvh, ///< an HVM container without emulated devices, 64-bit mode
};

/// "pv" or "pvh".
constexpr const char* guest_kind_name(GuestKind k) noexcept { return k == GuestKind::pvh ? "pvh" : "pv"; }

/// Xen's page size on x86-64, in bytes: areas Xen writes may not cross one.
inline constexpr uint64_t page_size = 4096;

/// True when [addr, addr + size) stays within one 4 KiB page.
constexpr bool within_one_page(uint64_t addr, uint64_t size) noexcept
{
    return size <= page_size && (addr % page_size) + size <= page_size;
}

/// Memory that Xen writes into after it has been registered (vcpu_info,
/// runstate and time areas). Storage must outlive the registration: give it
/// static storage or put it in per-vCPU memory the kernel owns. Not copyable
/// or movable (Xen keeps the address), 64-byte aligned (never crosses a page
/// as long as sizeof(T) <= 64, and never shares a cache line), and every
/// registration call takes `Area<T>&`: a temporary cannot bind to it.
template <class T>
struct alignas(64) Area {
    T value{}; ///< the area itself; prefer get(), which says what Xen sees

    constexpr Area() noexcept = default;
    Area(const Area&) = delete;
    Area& operator=(const Area&) = delete;

    /// What Xen sees. Reads of fields Xen updates must follow the matching
    /// protocol (seqlock version, XEN_RUNSTATE_UPDATE); see time/ and runstate/.
    T* get() noexcept { return &value; }
    /// What Xen sees, read-only.
    const T* get() const noexcept { return &value; }
    /// The area's virtual address, as the registration hypercalls pass it.
    uint64_t address() const noexcept { return reinterpret_cast<uintptr_t>(&value); }
};

} // namespace xen
