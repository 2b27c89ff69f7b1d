// xenvcpu_domain_place_vcpu_info_many, apart from the rest of the domain's
// C API so that a kernel that never places vcpu_infos in batches does not
// link Domain::place_vcpu_info_many.
#include "capi.hpp"

using namespace xen;
using namespace xen::capi;

xenvcpu_errc xenvcpu_domain_place_vcpu_info_many(xenvcpu_domain* d, const uint32_t* vs, uint32_t n,
                                                 xenvcpu_errc* errors, uint32_t* failed) noexcept
{
    if (n != 0 && (vs == nullptr || errors == nullptr))
        return XENVCPU_INVALID_ARGUMENT;
    uint32_t bad = 0;
    for (uint32_t base = 0; base < n; base += Domain::place_batch) {
        const uint32_t k = n - base < Domain::place_batch ? n - base : Domain::place_batch;
        VcpuId ids[Domain::place_batch];
        Errc errs[Domain::place_batch];
        for (uint32_t i = 0; i < k; ++i)
            ids[i] = VcpuId{vs[base + i]};
        bad += dom(d).place_vcpu_info_many(ids, k, errs);
        for (uint32_t i = 0; i < k; ++i)
            errors[base + i] = code(errs[i]);
    }
    if (failed != nullptr)
        *failed = bad;
    return XENVCPU_OK;
}
