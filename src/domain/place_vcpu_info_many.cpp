// Domain::place_vcpu_info_many: VCPUOP_register_vcpu_info into the slots of
// many vCPUs, batched through multicall (docs/vcpuop.md, "Batching with
// multicall"). A file of its own so that a kernel that never places them in
// batches does not link it.
#include <xen/domain.hpp>
#include <xen/hypercall/vcpu_op.hpp>

#include "hypercall/batch.hpp"

namespace xen {

uint32_t Domain::place_vcpu_info_many(const VcpuId* vs, uint32_t n, Errc* errors) noexcept
{
    using Arg = abi::vcpu_register_vcpu_info;
    return detail::run_batched<place_batch, Arg>(
        n, errors,
        [&](uint32_t i, Arg& arg, abi::multicall_entry& e) {
            // The checks of place_vcpu_info and hc::register_vcpu_info.
            const auto s = slot(vs[i]);
            if (!s.has_value()) {
                errors[i] = s.error();
                return detail::Batched::refused;
            }
            if ((*s)->vcpu_info_registered)
                return detail::Batched::done;
            Area<abi::vcpu_info>& area = (*s)->vcpu_info;
            if (hooks_.frame_of == nullptr) {
                errors[i] = Errc::invalid_argument;
                return detail::Batched::refused;
            }
            if (auto c = hc::detail::check_area(area.address(), sizeof(abi::vcpu_info)); !c.has_value()) {
                errors[i] = c.error();
                return detail::Batched::refused;
            }
            const FrameNumber frame = hooks_.frame_of(hooks_.ctx, area.get());
            arg = Arg{frame.value, static_cast<uint32_t>(area.address() % page_size), 0};
            e = hc::vcpu_op_entry(abi::vcpuop::register_vcpu_info, vs[i], transport::arg(&arg));
            return detail::Batched::call;
        },
        [&](uint32_t i, Arg& arg) {
            return hc::result_of(hc::detail::vcpu_op(abi::vcpuop::register_vcpu_info, vs[i], transport::arg(&arg)));
        },
        [&](uint32_t i, Arg&) {
            (void)adopt_vcpu_info(vs[i]); // cannot fail: make() found the slot
            return Errc{};
        });
}

} // namespace xen
