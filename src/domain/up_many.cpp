// Domain::up_many: VCPUOP_up for many vCPUs, batched through multicall
// (docs/vcpuop.md, "Batching with multicall"). A file of its own so that a
// kernel that never starts vCPUs in batches does not link it.
#include <xen/domain.hpp>
#include <xen/hypercall/vcpu_op.hpp>

#include "hypercall/batch.hpp"

namespace xen {

uint32_t Domain::up_many(const VcpuId* vs, uint32_t n, Errc* errors) noexcept
{
    struct NoArg {};
    return detail::run_batched<up_batch, NoArg>(
        n, errors,
        [&](uint32_t i, NoArg&, abi::multicall_entry& e) {
            if (auto c = check(vs[i]); !c.has_value()) {
                errors[i] = c.error();
                return detail::Batched::refused;
            }
            e = hc::vcpu_op_entry(abi::vcpuop::up, vs[i]);
            return detail::Batched::call;
        },
        [&](uint32_t i, NoArg&) { return hc::vcpu_up(vs[i]); }, [](uint32_t, NoArg&) { return Errc{}; });
}

} // namespace xen
