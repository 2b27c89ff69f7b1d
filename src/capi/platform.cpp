// The C API for what a kernel may keep for itself: the hypercall page, the
// upcall vector, its own VIRQ_TIMER port, upcall masking and the idle
// sleep; and the PV p2m publication (include/xenvcpu.h). Each forwards to one call of the object model
// or of the hypercall layer.
#include "capi.hpp"

#include <xen/event/upcall.hpp>
#include <xen/hypercall/platform_op.hpp>
#include <xen/pv/p2m.hpp>
#ifndef XENVCPU_HOST
#include <xen/hypercall/page.hpp>
#endif

using namespace xen;
using namespace xen::capi;

namespace {

// Vectors 0..15 are the CPU's exceptions and reserved; Xen would take one
// and the kernel would take the upcall as a fault.
constexpr uint8_t first_free_vector = 0x10;

// The calling vCPU's vcpu_info, or a stand-in for a vCPU Xen gives none
// (>= 32 without a registered area: Xen's dummy, which it never reads for
// delivery). PVH ignores it: IF is the mask there.
template <class F>
auto with_own_vcpu_info(xenvcpu_domain* d, F f) noexcept
{
    Domain& domain = dom(d);
    abi::vcpu_info stand_in{};
    abi::vcpu_info* vi = domain.vcpu_info(domain.self());
    return f(domain.kind(), vi != nullptr ? *vi : stand_in);
}

} // namespace

extern "C" {

xenvcpu_errc xenvcpu_hypercall_page_install(uint64_t page_phys) noexcept
{
    if (page_phys % page_size != 0)
        return XENVCPU_AREA_MISALIGNED;
#ifdef XENVCPU_HOST
    return XENVCPU_UNSUPPORTED; // a host process cannot write an MSR
#else
    return code(install_hypercall_page(PhysAddr{page_phys}));
#endif
}

xenvcpu_errc xenvcpu_hvm_set_callback_vector(uint8_t vector) noexcept
{
    if (vector < first_free_vector)
        return XENVCPU_INVALID_ARGUMENT;
    return code(hc::hvm_set_param(abi::hvm_param::callback_irq, abi::hvm_callback_via_vector(vector)));
}

xenvcpu_errc xenvcpu_hvm_set_upcall_vector(xenvcpu_domain* d, uint32_t v, uint8_t vector) noexcept
{
    if (auto r = dom(d).check(VcpuId{v}); !r)
        return code(r);
    if (vector < first_free_vector)
        return XENVCPU_INVALID_ARGUMENT;
    return code(hc::hvm_set_evtchn_upcall_vector(VcpuId{v}, vector));
}

xenvcpu_errc xenvcpu_timer_driver_attach(xenvcpu_timer_driver* td, uint32_t v, uint32_t port) noexcept
{
    return code(of(td).attach(VcpuId{v}, Port{port}));
}

bool xenvcpu_upcalls_off(xenvcpu_domain* d) noexcept
{
    return with_own_vcpu_info(d, [](GuestKind k, abi::vcpu_info& vi) { return upcalls_off(k, vi); });
}

bool xenvcpu_upcalls_on(xenvcpu_domain* d) noexcept
{
    return with_own_vcpu_info(d, [](GuestKind k, abi::vcpu_info& vi) { return upcalls_on(k, vi); });
}

void xenvcpu_upcalls_restore(xenvcpu_domain* d, bool was_on) noexcept
{
    if (was_on)
        (void)xenvcpu_upcalls_on(d);
}

xenvcpu_errc xenvcpu_safe_halt(xenvcpu_domain* d) noexcept
{
    return code(with_own_vcpu_info(d, [](GuestKind k, abi::vcpu_info& vi) { return safe_halt(k, vi); }));
}

xenvcpu_errc xenvcpu_pv_publish_p2m(xenvcpu_domain* d, const uint64_t* p2m, uint64_t nr_pfns,
                                    xenvcpu_p2m_page* list_list, xenvcpu_p2m_page* lists,
                                    uint32_t nr_list_pages) noexcept
{
    static_assert(sizeof(xenvcpu_p2m_page) == sizeof(uint64_t[pv::p2m_entries_per_page]) &&
                  alignof(xenvcpu_p2m_page) == page_size);
    if (list_list == nullptr || lists == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    // A page struct is its array of 512 entries, one after the other.
    return code(pv::publish_p2m(dom(d), p2m, nr_pfns, list_list->mfn,
                                reinterpret_cast<uint64_t(*)[pv::p2m_entries_per_page]>(lists->mfn), nr_list_pages));
}

} // extern "C"
