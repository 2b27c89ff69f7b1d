/// \file
/// Typed wrappers for event_channel_op (public event_channel.h).
#pragma once

#include <cstdint>
#include <xen/abi/event_channel.hpp>
#include <xen/abi/hypercall_numbers.hpp>
#include <xen/hypercall/result_from_xen.hpp>
#include <xen/hypercall/transport.hpp>
#include <xen/support/types.hpp>

namespace xen::hc {

/// Ports are xen::Port (support/types.hpp) here too.
using xen::Port;

namespace detail {
inline long evtchn_op(abi::evtchnop op, void* arg) noexcept
{
    return transport::hypercall2<abi::hypercall::event_channel_op>(static_cast<uint32_t>(op), transport::arg(arg));
}
} // namespace detail

/// Bind a VIRQ to vCPU `vcpu` (per-vCPU VIRQs such as VIRQ_TIMER must be
/// bound once on each vCPU). -EEXIST if already bound there; -EINVAL, -ENOENT.
inline Result<Port> evtchn_bind_virq(abi::virq v, VcpuId vcpu) noexcept
{
    abi::evtchn_bind_virq arg{static_cast<uint32_t>(v), vcpu.value, 0};
    XEN_TRY(result_of(detail::evtchn_op(abi::evtchnop::bind_virq, &arg)));
    return Port{arg.port};
}

/// A new IPI port whose events are delivered to `vcpu`; any vCPU may send on it.
inline Result<Port> evtchn_bind_ipi(VcpuId vcpu) noexcept
{
    abi::evtchn_bind_ipi arg{vcpu.value, 0};
    XEN_TRY(result_of(detail::evtchn_op(abi::evtchnop::bind_ipi, &arg)));
    return Port{arg.port};
}

/// An unbound port that domain `remote` may connect to.
inline Result<Port> evtchn_alloc_unbound(uint16_t remote) noexcept
{
    abi::evtchn_alloc_unbound arg{abi::domid_self, remote, 0};
    XEN_TRY(result_of(detail::evtchn_op(abi::evtchnop::alloc_unbound, &arg)));
    return Port{arg.port};
}

/// Notify the other end of `port` (or the bound vCPU, for an IPI port).
inline Result<void> evtchn_send(Port port) noexcept
{
    abi::evtchn_send arg{port.value};
    return result_of(detail::evtchn_op(abi::evtchnop::send, &arg));
}

/// Unmask `port` through Xen, which re-raises the upcall if it is pending.
/// (A guest may also clear the mask bit itself and check pending.)
inline Result<void> evtchn_unmask(Port port) noexcept
{
    abi::evtchn_unmask arg{port.value};
    return result_of(detail::evtchn_op(abi::evtchnop::unmask, &arg));
}

/// Close `port`.
inline Result<void> evtchn_close(Port port) noexcept
{
    abi::evtchn_close arg{port.value};
    return result_of(detail::evtchn_op(abi::evtchnop::close, &arg));
}

/// Route a global port (not a per-vCPU VIRQ or IPI) to another vCPU.
inline Result<void> evtchn_bind_vcpu(Port port, VcpuId vcpu) noexcept
{
    abi::evtchn_bind_vcpu arg{port.value, vcpu.value};
    return result_of(detail::evtchn_op(abi::evtchnop::bind_vcpu, &arg));
}

/// What `port` is bound to.
inline Result<abi::evtchn_status> evtchn_status(Port port) noexcept
{
    abi::evtchn_status arg{};
    arg.dom = abi::domid_self;
    arg.port = port.value;
    XEN_TRY(result_of(detail::evtchn_op(abi::evtchnop::status, &arg)));
    return arg;
}

} // namespace xen::hc
