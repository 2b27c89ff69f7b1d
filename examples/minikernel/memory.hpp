// How Xen names the kernel's memory. Registering a vcpu_info (VCPUOP 10) or
// a physical-address area (VCPUOPs 14, 15) takes a frame or an address in
// Xen's terms, which differ by guest type:
//   PV:  Xen does not translate a PV guest, so it wants *machine* frames:
//        pseudo-physical frame -> machine frame through the p2m list Xen
//        gave us (start_info::mfn_list).
//   PVH: guest-physical addresses. The minikernel identity-maps its first
//        GiB, so a kernel address is its guest-physical address.
// The minikernel is linked at 1 MiB with virtual == pseudo-physical on PV.
#pragma once

#include <cstdint>
#include <xen/support/types.hpp>

namespace mk {

/// PV boot: remember the pfn -> mfn list (start_info::mfn_list, nr_pages).
void set_p2m(const uint64_t* mfn_list, uint64_t nr_pages) noexcept;

/// The address Xen uses for the kernel memory at `p` (PV: machine address;
/// PVH: guest-physical address).
xen::PhysAddr xen_address_of(const void* p) noexcept;

/// The frame holding `p`, in Xen's terms (PV: MFN; PVH: GFN).
inline xen::FrameNumber xen_frame_of(const void* p) noexcept
{
    return xen::FrameNumber{xen_address_of(p).value / xen::page_size};
}

} // namespace mk
