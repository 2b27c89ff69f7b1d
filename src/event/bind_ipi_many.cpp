// EventChannels::bind_ipi_many: EVTCHNOP_bind_ipi for many vCPUs, batched
// through multicall (docs/vcpuop.md, "Batching with multicall"). A file of
// its own so that a kernel that never binds IPIs in batches does not link it.
#include <xen/events.hpp>

#include "hypercall/batch.hpp"

namespace xen {

uint32_t EventChannels::bind_ipi_many(const VcpuId* vcpus, uint32_t n, EventHandler handler, void* const* ctxs,
                                      Port* ports, Errc* errors) noexcept
{
    using Arg = abi::evtchn_bind_ipi;
    return detail::run_batched<bind_batch, Arg>(
        n, errors,
        [&](uint32_t i, Arg& arg, abi::multicall_entry& e) {
            // bind_ipi's checks.
            if (handler == nullptr || ctxs == nullptr) {
                errors[i] = Errc::invalid_argument;
                return detail::Batched::refused;
            }
            if (cursors_.find(vcpus[i]) == nullptr) {
                errors[i] = Errc::vcpu_out_of_range;
                return detail::Batched::refused;
            }
            arg = Arg{vcpus[i].value, 0};
            e = hc::evtchn_op_entry(abi::evtchnop::bind_ipi, &arg);
            return detail::Batched::call;
        },
        [](uint32_t, Arg& arg) { return hc::result_of(hc::detail::evtchn_op(abi::evtchnop::bind_ipi, &arg)); },
        [&](uint32_t i, Arg& arg) {
            // Xen wrote the new port into the argument: publish and unmask
            // it as bind_ipi does (a port beyond the table is closed again).
            const auto port = adopt(Port{arg.port}, vcpus[i], handler, ctxs[i]);
            if (!port.has_value())
                return port.error();
            slots_[port->value].binding_ = 2;
            ports[i] = *port;
            return Errc{};
        });
}

} // namespace xen
