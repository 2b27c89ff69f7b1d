// PV: publishing the p2m frame lists (include/xen/pv/p2m.hpp).
#include <xen/domain.hpp>
#include <xen/pv/p2m.hpp>

namespace xen::pv {

Result<void> publish_p2m(Domain& d, const uint64_t* p2m, uint64_t nr_pfns, uint64_t* list_list,
                         uint64_t (*lists)[p2m_entries_per_page], uint32_t nr_list_pages) noexcept
{
    if (d.kind() != GuestKind::pv)
        return err(Errc::unsupported);
    const auto frame_of = d.hooks().frame_of;
    if (frame_of == nullptr || p2m == nullptr || nr_pfns == 0 || list_list == nullptr || lists == nullptr)
        return err(Errc::invalid_argument);
    if (reinterpret_cast<uintptr_t>(p2m) % page_size != 0)
        return err(Errc::area_misaligned);
    const uint64_t p2m_pages = (nr_pfns + p2m_entries_per_page - 1) / p2m_entries_per_page;
    const uint64_t list_pages = (p2m_pages + p2m_entries_per_page - 1) / p2m_entries_per_page;
    if (list_pages > nr_list_pages || nr_list_pages > p2m_entries_per_page)
        return err(Errc::no_space);

    void* const ctx = d.hooks().ctx;
    for (uint64_t i = 0; i < list_pages * p2m_entries_per_page; ++i) {
        const uint64_t mfn = i < p2m_pages ? frame_of(ctx, p2m + i * p2m_entries_per_page).value : 0;
        lists[i / p2m_entries_per_page][i % p2m_entries_per_page] = mfn;
    }
    for (uint64_t j = 0; j < p2m_entries_per_page; ++j)
        list_list[j] = j < list_pages ? frame_of(ctx, lists[j]).value : 0;

    abi::shared_info& s = d.shared();
    __atomic_store_n(&s.arch.max_pfn, nr_pfns, __ATOMIC_RELAXED);
    __atomic_store_n(&s.arch.pfn_to_mfn_frame_list_list, frame_of(ctx, list_list).value, __ATOMIC_RELEASE);
    return ok();
}

} // namespace xen::pv
