/// \file
/// HYPERVISOR_multicall (hypercall 13): several hypercalls for the price of
/// one guest-to-Xen transition. On PVH/HVM every hypercall is a VM exit, so
/// a batch saves an exit per entry; Xen runs the entries in order.
///
/// Available to PV guests always and to HVM/PVH guests since Xen 4.16 (and
/// older stable releases that took the backport): vcpu_op,
/// event_channel_op, sched_op, xen_version and the other calls of the HVM
/// table may be batched. Before that an HVM guest gets -ENOSYS for the whole
/// call. docs/vcpuop.md, "Batching with multicall".
///
/// What comes back: the call itself fails only as a whole (-EFAULT for an
/// unreadable list, -EINVAL from inside another multicall); then no entry's
/// result can be trusted. Otherwise each entry's `result` holds its own
/// return value, read with entry_result(). Xen may overwrite every other
/// field of an entry (debug builds do, with 0xAA): build entries afresh for
/// every call. Xen may also stop between two entries to run something more
/// urgent (hypercall_preempt_check) and continue the call afterwards; the
/// guest does not see it.
#pragma once

#include <cstdint>
#include <xen/abi/event_channel.hpp>
#include <xen/abi/multicall.hpp>
#include <xen/abi/vcpu.hpp>
#include <xen/hypercall/result_from_xen.hpp>
#include <xen/hypercall/transport.hpp>
#include <xen/support/types.hpp>

namespace xen::hc {

/// What an entry's `result` holds until Xen writes it: LONG_MIN, neither an
/// errno (-1 to -4095) nor a value any sub-call returns.
inline constexpr uint64_t multicall_not_run = uint64_t{1} << 63;

/// An entry for `vcpu_op(op, id, arg)`; its result is "not run" until Xen
/// writes it (entry_result reports such an entry as `unsupported`).
constexpr abi::multicall_entry vcpu_op_entry(abi::vcpuop op, VcpuId id, uint64_t arg = 0) noexcept
{
    return abi::multicall_entry{static_cast<uint64_t>(abi::hypercall::vcpu_op),
                                multicall_not_run,
                                {static_cast<uint32_t>(op), id.value, arg, 0, 0, 0}};
}

/// An entry for `event_channel_op(op, arg)`: `arg` is the op's struct,
/// which must stay in place until the call returns (Xen reads it, and
/// writes its OUT fields, e.g. the port of a bind, when it reaches the
/// entry).
inline abi::multicall_entry evtchn_op_entry(abi::evtchnop op, void* arg) noexcept
{
    return abi::multicall_entry{static_cast<uint64_t>(abi::hypercall::event_channel_op),
                                multicall_not_run,
                                {static_cast<uint32_t>(op), transport::arg(arg), 0, 0, 0, 0}};
}

/// Run `n` entries in one hypercall. The error is the call's own (the
/// entries did not all run; see the file comment); success means every
/// entry ran and has its result.
inline Result<void> multicall(abi::multicall_entry* calls, uint32_t n) noexcept
{
    if (n == 0)
        return ok();
    return result_of(transport::hypercall2<abi::hypercall::multicall>(transport::arg(calls), n));
}

/// One entry's return value after a successful multicall(): a non-negative
/// value, or Xen's errno as Errc. An entry Xen never wrote reads as
/// `unsupported`.
inline Result<long> entry_result(const abi::multicall_entry& e) noexcept
{
    if (e.result == multicall_not_run)
        return err(Errc::unsupported);
    return value_of(static_cast<long>(e.result));
}

} // namespace xen::hc
