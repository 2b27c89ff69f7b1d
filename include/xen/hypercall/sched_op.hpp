/// \file
/// Typed wrappers for sched_op (public sched.h) and set_timer_op.
#pragma once

#include <cstdint>
#include <xen/abi/event_channel.hpp>
#include <xen/abi/sched.hpp>
#include <xen/hypercall/event_channel_op.hpp>
#include <xen/hypercall/result_from_xen.hpp>
#include <xen/hypercall/transport.hpp>

namespace xen::hc {

namespace detail {
inline long sched_op(abi::schedop op, uint64_t arg) noexcept
{
    return transport::hypercall2<abi::hypercall::sched_op>(static_cast<uint32_t>(op), arg);
}
} // namespace detail

/// Give up the pCPU; stay runnable.
inline Result<void> sched_yield() noexcept { return result_of(detail::sched_op(abi::schedop::yield, 0)); }

/// Sleep until an event is pending for this vCPU. Xen clears the upcall mask
/// as it blocks, so an event that raced in wakes it (no lost wake-up).
inline Result<void> sched_block() noexcept { return result_of(detail::sched_op(abi::schedop::block, 0)); }

/// Wait until one of `ports` is pending or system time reaches
/// `timeout_abs_ns` (0: no timeout). Needs the upcall mask set.
inline Result<void> sched_poll(const Port* ports, uint32_t nr_ports, uint64_t timeout_abs_ns) noexcept
{
    static_assert(sizeof(Port) == sizeof(abi::evtchn_port));
    abi::sched_poll arg{transport::arg(ports), nr_ports, 0, timeout_abs_ns};
    return result_of(detail::sched_op(abi::schedop::poll, transport::arg(&arg)));
}

/// Ask Xen to end the domain. Returns only if Xen refuses (or for suspend).
inline Result<void> sched_shutdown(abi::shutdown_reason reason) noexcept
{
    abi::sched_shutdown arg{static_cast<uint32_t>(reason)};
    return result_of(detail::sched_op(abi::schedop::shutdown, transport::arg(&arg)));
}

/// Legacy one-shot timer (set_timer_op): 0 stops it. Shares the single-shot
/// timer with VCPUOP_set_singleshot_timer; never mix the two. Xen turns a
/// negative or > 2^50 ns timeout into now + 100 ms and never fails
/// (docs/xen-contracts.md, "set_timer_op").
/// SCHEDOP_shutdown(SHUTDOWN_suspend) with the third argument a PV guest
/// passes: the MFN of its start_info (the restorer rewrites that register of
/// vCPU 0 to the new start_info's MFN; xg_sr_restore_x86_pv.c,
/// process_start_info). HVM/PVH pass 0. Returns Xen's value as is: 0 when
/// the domain was restored into a new domain, 1 when the suspend was
/// cancelled and the same domain goes on (xg_resume.c, modify_returncode);
/// a negative -errno is an error (docs/xen-contracts.md, "Save, restore and
/// migration").
inline Result<long> sched_suspend(uint64_t start_info_mfn) noexcept
{
    abi::sched_shutdown arg{static_cast<uint32_t>(abi::shutdown_reason::suspend)};
    return value_of(transport::hypercall3<abi::hypercall::sched_op>(static_cast<uint32_t>(abi::schedop::shutdown),
                                                                    transport::arg(&arg), start_info_mfn));
}

/// The set_timer_op hypercall: arm the calling vCPU's single-shot timer for
/// Xen system time `timeout_abs_ns` (0 stops it); expiry raises VIRQ_TIMER.
inline Result<void> set_timer_op(uint64_t timeout_abs_ns) noexcept
{
    return result_of(transport::hypercall1<abi::hypercall::set_timer_op>(timeout_abs_ns));
}

} // namespace xen::hc
