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
    return run_many<Domain::initialise_batch>(vs, n, errors, failed,
                                              [&](uint32_t base, const VcpuId* ids, uint32_t k, Errc* errs) {
                                                  return dom(d).initialise_many(ids, ctxs + base, k, errs);
                                              });
}
