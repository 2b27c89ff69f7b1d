#include "memory.hpp"

#include "console.hpp"
#include "kernel.hpp"

namespace mk {

namespace {
const uint64_t* p2m = nullptr;
uint64_t p2m_entries = 0;
} // namespace

void set_p2m(const uint64_t* mfn_list, uint64_t nr_pages) noexcept
{
    p2m = mfn_list;
    p2m_entries = nr_pages;
}

xen::PhysAddr xen_address_of(const void* p) noexcept
{
    const uint64_t va = reinterpret_cast<uintptr_t>(p);
    if (guest_type() == GuestType::pvh)
        return xen::PhysAddr{va};
    const uint64_t pfn = va / xen::page_size;
    if (p2m == nullptr || pfn >= p2m_entries) {
        console::print("Bail out! no machine frame for ", console::Hex{va}, "\n");
        machine_crash();
    }
    return xen::PhysAddr{p2m[pfn] * xen::page_size + va % xen::page_size};
}

} // namespace mk
