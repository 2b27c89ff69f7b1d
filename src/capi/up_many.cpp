// xenvcpu_vcpu_up_many, apart from the rest of the domain's C API so that a
// kernel that never starts vCPUs in batches does not link Domain::up_many.
#include "capi.hpp"

using namespace xen;
using namespace xen::capi;

xenvcpu_errc xenvcpu_vcpu_up_many(xenvcpu_domain* d, const uint32_t* vs, uint32_t n, xenvcpu_errc* errors,
                                  uint32_t* failed) noexcept
{
    if (n != 0 && (vs == nullptr || errors == nullptr))
        return XENVCPU_INVALID_ARGUMENT;
    uint32_t bad = 0;
    // One Domain::up_many per batch, so the C arrays need no conversion
    // buffer beyond one batch.
    for (uint32_t base = 0; base < n; base += Domain::up_batch) {
        const uint32_t k = n - base < Domain::up_batch ? n - base : Domain::up_batch;
        VcpuId ids[Domain::up_batch];
        Errc errs[Domain::up_batch];
        for (uint32_t i = 0; i < k; ++i)
            ids[i] = VcpuId{vs[base + i]};
        bad += dom(d).up_many(ids, k, errs);
        for (uint32_t i = 0; i < k; ++i)
            errors[base + i] = code(errs[i]);
    }
    if (failed != nullptr)
        *failed = bad;
    return XENVCPU_OK;
}
