// Domain::up_many: VCPUOP_up for many vCPUs, batched through multicall
// (docs/vcpuop.md, "Batching with multicall"). A file of its own so that a
// kernel that never starts vCPUs in batches does not link it.
#include <xen/domain.hpp>
#include <xen/hypercall/multicall.hpp>
#include <xen/hypercall/vcpu_op.hpp>

namespace xen {

uint32_t Domain::up_many(const VcpuId* vs, uint32_t n, Errc* errors) noexcept
{
    uint32_t failed = 0;
    for (uint32_t base = 0; base < n; base += up_batch) {
        const uint32_t end = n - base < up_batch ? n : base + up_batch;
        // Entries are built afresh for every call: Xen may overwrite all but
        // `result` (hypercall/multicall.hpp). `which[k]` maps entry k back
        // to its place in `vs`.
        abi::multicall_entry calls[up_batch];
        uint32_t which[up_batch];
        uint32_t k = 0;
        for (uint32_t i = base; i < end; ++i) {
            if (auto c = check(vs[i]); !c.has_value()) {
                errors[i] = c.error();
                continue;
            }
            calls[k] = hc::vcpu_op_entry(abi::vcpuop::up, vs[i]);
            which[k++] = i;
        }
        const auto batch = hc::multicall(calls, k);
        for (uint32_t j = 0; j < k; ++j) {
            Errc e{};
            if (batch.has_value()) {
                if (const auto r = hc::entry_result(calls[j]); !r.has_value())
                    e = r.error();
            } else if (batch.error() == Errc::enosys) {
                if (const auto r = hc::vcpu_up(vs[which[j]]); !r.has_value())
                    e = r.error();
            } else {
                e = batch.error();
            }
            errors[which[j]] = e;
        }
        for (uint32_t i = base; i < end; ++i)
            failed += errors[i] != Errc{} ? 1 : 0;
    }
    return failed;
}

} // namespace xen
