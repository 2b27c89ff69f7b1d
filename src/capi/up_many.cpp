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
    return run_many<Domain::up_batch>(vs, n, errors, failed, [&](uint32_t, const VcpuId* ids, uint32_t k, Errc* errs) {
        return dom(d).up_many(ids, k, errs);
    });
}
