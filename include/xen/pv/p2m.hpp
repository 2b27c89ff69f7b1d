/// \file
/// PV: publishing the p2m (the guest's pfn -> mfn array) for the toolstack.
///
/// To save or migrate a PV guest, the toolstack reads its p2m. It finds it
/// through shared_info.arch (public arch-x86/xen.h): `max_pfn` says how many
/// entries there are, and `pfn_to_mfn_frame_list_list` is the MFN of one page
/// whose entries are the MFNs of "frame list" pages, whose entries in turn are
/// the MFNs of the p2m's own pages: three levels of 512 eight-byte entries,
/// each frame-list page covering 512 p2m pages (1 GiB of guest memory).
/// Xen's PV domain builder leaves both fields 0; a guest that never fills
/// them cannot be saved (libxc: "Bad mfn 0 for p2m frame list list"), and a
/// restored guest finds them 0 again in its new shared_info, so it must
/// publish after every resume too (docs/lifecycle.md).
///
/// HVM/PVH guests have no p2m of their own (Xen translates): nothing to do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

class Domain;

/// PV-only kernel chores (publishing the p2m for save and migration).
namespace pv {

/// Entries of one p2m, frame-list or list-list page.
inline constexpr uint32_t p2m_entries_per_page = 512;

/// The two upper levels, in kernel memory (the toolstack reads them by
/// MFN, so they must stay where they are while the guest can be saved).
/// `ListPages` frame-list pages cover `ListPages` GiB of guest memory.
template <uint32_t ListPages>
struct P2mFrameLists {
    static_assert(ListPages >= 1 && ListPages <= p2m_entries_per_page);
    /// The root page: the MFNs of the frame-list pages.
    alignas(4096) uint64_t list_list[p2m_entries_per_page];
    /// The frame-list pages: the MFNs of the p2m's own pages, 512 per page.
    alignas(4096) uint64_t lists[ListPages][p2m_entries_per_page];
};

/// Fill the frame lists for the p2m at `p2m` (`nr_pfns` entries, the array
/// start_info's `mfn_list` names, page aligned) and publish them in the
/// domain's shared_info: max_pfn, then pfn_to_mfn_frame_list_list last,
/// after a release fence, so a reader that sees the root sees full lists.
/// The MFNs of the p2m pages and of the lists come from the Domain's
/// frame_of hook. Call before the first save and after every resume (the
/// new shared_info has 0 there); repeating it is harmless. Errors:
/// unsupported (not a PV domain); invalid_argument (no frame_of hook, a
/// null p2m or no pfns); area_misaligned (p2m not page aligned); no_space
/// (more p2m pages than the lists cover).
Result<void> publish_p2m(Domain& d, const uint64_t* p2m, uint64_t nr_pfns, uint64_t* list_list,
                         uint64_t (*lists)[p2m_entries_per_page], uint32_t nr_list_pages) noexcept;

/// Same, into a P2mFrameLists (which fixes the number of list pages).
template <uint32_t ListPages>
Result<void> publish_p2m(Domain& d, const uint64_t* p2m, uint64_t nr_pfns, P2mFrameLists<ListPages>& lists) noexcept
{
    return publish_p2m(d, p2m, nr_pfns, lists.list_list, lists.lists, ListPages);
}

} // namespace pv
} // namespace xen
