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
    return run_many<Domain::place_batch>(
        vs, n, errors, failed,
        [&](uint32_t, const VcpuId* ids, uint32_t k, Errc* errs) { return dom(d).place_vcpu_info_many(ids, k, errs); });
}
