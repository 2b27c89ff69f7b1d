// xenvcpu_events_bind_ipi_many, apart from the rest of the domain's C API
// so that a kernel that never binds IPIs in batches does not link
// EventChannels::bind_ipi_many.
#include "capi.hpp"

using namespace xen;
using namespace xen::capi;

xenvcpu_errc xenvcpu_events_bind_ipi_many(xenvcpu_domain* d, const uint32_t* vs, uint32_t n,
                                          xenvcpu_event_handler handler, void* const* ctxs, uint32_t* ports,
                                          xenvcpu_errc* errors, uint32_t* failed) noexcept
{
    if (n != 0 && (vs == nullptr || ctxs == nullptr || ports == nullptr || errors == nullptr))
        return XENVCPU_INVALID_ARGUMENT;
    // The handler goes to EventChannels as it is, as in xenvcpu_events_bind_ipi
    // (domain.cpp says why the two types are call-compatible).
    const auto h = reinterpret_cast<EventHandler>(reinterpret_cast<void (*)()>(handler));
    return run_many<EventChannels::bind_batch>(
        vs, n, errors, failed, [&](uint32_t base, const VcpuId* ids, uint32_t k, Errc* errs) {
            Port got[EventChannels::bind_batch];
            const uint32_t bad = dom(d).events().bind_ipi_many(ids, k, handler != nullptr ? h : nullptr, ctxs + base,
                                                               got, errs);
            for (uint32_t i = 0; i < k; ++i)
                if (errs[i] == Errc{})
                    ports[base + i] = got[i].value;
            return bad;
        });
}
