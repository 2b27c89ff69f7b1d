// xenvcpu_vcpu_initialise_hvm_many, apart from the rest of the domain's C
// API so that a kernel that never initialises vCPUs in batches does not
// link Domain::initialise_many.
#include "capi.hpp"

using namespace xen;
using namespace xen::capi;

xenvcpu_errc xenvcpu_vcpu_initialise_hvm_many(xenvcpu_domain* d, const uint32_t* vs, const void* contexts, uint32_t n,
                                              xenvcpu_errc* errors, uint32_t* failed) noexcept
{
    if (n != 0 && (vs == nullptr || contexts == nullptr || errors == nullptr))
        return XENVCPU_INVALID_ARGUMENT;
    const auto* ctxs = static_cast<const abi::vcpu_hvm_context*>(contexts);
    uint32_t bad = 0;
    // One Domain::initialise_many per batch, so the C arrays need no
    // conversion buffer beyond one batch.
    for (uint32_t base = 0; base < n; base += Domain::initialise_batch) {
        const uint32_t k = n - base < Domain::initialise_batch ? n - base : Domain::initialise_batch;
        VcpuId ids[Domain::initialise_batch];
        Errc errs[Domain::initialise_batch];
        for (uint32_t i = 0; i < k; ++i)
            ids[i] = VcpuId{vs[base + i]};
        bad += dom(d).initialise_many(ids, ctxs + base, k, errs);
        for (uint32_t i = 0; i < k; ++i)
            errors[base + i] = code(errs[i]);
    }
    if (failed != nullptr)
        *failed = bad;
    return XENVCPU_OK;
}
