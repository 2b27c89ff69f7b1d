// Fault injection: make chosen hypercalls fail with a chosen -errno, as if
// Xen had refused them. The call still counts as having reached Xen.
#pragma once

#include <cstdint>
#include <optional>
#include <xen/abi/hypercall_numbers.hpp>
#include <xen/abi/vcpu.hpp>
#include <xen/support/errc.hpp>

namespace xen::sim {

/// One rule: among the calls matching (hypercall, sub-op, vCPU), the `nth`
/// one (1 = the next) and the `count - 1` after it fail with `error` and do
/// nothing else. count 0 means "every matching call from the nth on".
struct Fault {
    abi::hypercall hypercall;
    /// The first hypercall argument (the cmd: VCPUOP_*, SCHEDOP_*, EVTCHNOP_*,
    /// XENVER_*, ...); nullopt matches any.
    std::optional<int32_t> subop;
    /// For vcpu_op only: the target vCPU id; nullopt matches any.
    std::optional<uint32_t> vcpu;
    uint32_t nth = 1;
    Errc error = Errc::einval;
    uint32_t count = 1;

    /// A rule for one VCPUOP.
    static Fault vcpuop(abi::vcpuop op, Errc e, uint32_t nth = 1)
    {
        return Fault{abi::hypercall::vcpu_op, static_cast<int32_t>(op), std::nullopt, nth, e, 1};
    }
    /// A rule for every call of a hypercall (any sub-op).
    static Fault call(abi::hypercall h, Errc e, uint32_t nth = 1)
    {
        return Fault{h, std::nullopt, std::nullopt, nth, e, 1};
    }
};

} // namespace xen::sim
