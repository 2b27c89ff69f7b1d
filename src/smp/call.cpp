// IPIs and the cross-CPU call: one mailbox per target CPU, woken by its
// call IPI (an EVTCHNOP_bind_ipi port delivered to that vCPU).
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load;
using smp_detail::load_state;
using smp_detail::store;

void Smp::on_ipi(Port, VcpuId, void* ctx) noexcept
{
    // Upcall context on the target. The work happens in its thread context
    // (service()): the upcall only woke it from SCHEDOP_block / hlt.
    auto* c = static_cast<SmpCpu*>(ctx);
    __atomic_add_fetch(&c->mailbox.ipis, 1, __ATOMIC_RELAXED);
}

Result<void> Smp::send_ipi(VcpuId v) noexcept
{
    XEN_TRY_ASSIGN(const SmpCpu* c, managed(v));
    if (!c->ipi_bound)
        return err(Errc::unsupported);
    return domain_->events().send(c->ipi_port);
}

Result<CallTicket> Smp::post(VcpuId v, CallFn fn, void* arg, const WaitBound& bound) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * cp, managed(v));
    if (fn == nullptr)
        return err(Errc::invalid_argument);
    SmpCpu& c = *cp;
    if (load_state(c) != CpuState::online || !c.ipi_bound)
        return err(Errc::unsupported);
    CallMailbox& m = c.mailbox;
    // One call at a time per target: take the mailbox (the target frees it
    // once the call has returned).
    XEN_TRY(wait_until(bound, [&] {
        uint32_t expected = 0;
        return __atomic_compare_exchange_n(&m.busy, &expected, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    }));
    m.fn = fn;
    m.arg = arg;
    const uint32_t seq = m.posted + 1;
    store(m.posted, seq); // release: fn and arg are visible first
    XEN_TRY(send_ipi(v));
    return CallTicket{v, seq};
}

Result<void> Smp::wait_call(CallTicket ticket, const WaitBound& bound) noexcept
{
    XEN_TRY_ASSIGN(const SmpCpu* c, managed(ticket.vcpu));
    const CallMailbox& m = c->mailbox;
    // Sequence numbers wrap: compare by distance.
    return wait_until(bound, [&] { return static_cast<int32_t>(load(m.done) - ticket.seq) >= 0; });
}

Result<void> Smp::call(VcpuId v, CallFn fn, void* arg, const WaitBound& bound) noexcept
{
    XEN_TRY(managed(v));
    if (fn == nullptr)
        return err(Errc::invalid_argument);
    if (v == self()) {
        fn(arg);
        return ok();
    }
    XEN_TRY_ASSIGN(const CallTicket ticket, post(v, fn, arg, bound));
    return wait_call(ticket, bound);
}

} // namespace xen
