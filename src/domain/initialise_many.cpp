// Domain::initialise_many: VCPUOP_initialise with an HVM context for many
// vCPUs, batched through multicall (docs/vcpuop.md, "Batching with
// multicall"). A file of its own so that a kernel that never initialises
// vCPUs in batches does not link it.
#include <xen/domain.hpp>
#include <xen/hypercall/vcpu_op.hpp>

#include "hypercall/batch.hpp"

namespace xen {

uint32_t Domain::initialise_many(const VcpuId* vs, const abi::vcpu_hvm_context* ctxs, uint32_t n, Errc* errors) noexcept
{
    struct NoArg {};
    return detail::run_batched<initialise_batch, NoArg>(
        n, errors,
        [&](uint32_t i, NoArg&, abi::multicall_entry& e) {
            const abi::vcpu_hvm_context& ctx = ctxs[i];
            if (auto c = check(vs[i]); !c.has_value()) {
                errors[i] = c.error();
                return detail::Batched::refused;
            }
            // What hc::vcpu_initialise refuses before the call.
            if (ctx.pad != 0 || ctx.mode > static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_64b)) {
                errors[i] = Errc::invalid_argument;
                return detail::Batched::refused;
            }
            // Xen reads the context when it reaches the entry: ctxs[i] stays
            // in place until the call returns.
            e = hc::vcpu_op_entry(abi::vcpuop::initialise, vs[i], transport::arg(&ctx));
            return detail::Batched::call;
        },
        [&](uint32_t i, NoArg&) { return hc::vcpu_initialise(vs[i], ctxs[i]); },
        [](uint32_t, NoArg&) { return Errc{}; });
}

} // namespace xen
