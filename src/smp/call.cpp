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

Result<void> Smp::send_ipi(uint32_t cpu) noexcept
{
    XEN_TRY(check_cpu(cpu));
    const SmpCpu& c = cpus_[cpu];
    if (config_.events == nullptr || !c.ipi_bound)
        return err(Errc::unsupported);
    return config_.events->send(c.ipi_port);
}

Result<CallTicket> Smp::post(uint32_t cpu, CallFn fn, void* arg, const WaitBound& bound) noexcept
{
    XEN_TRY(check_cpu(cpu));
    if (fn == nullptr)
        return err(Errc::invalid_argument);
    SmpCpu& c = cpus_[cpu];
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
    XEN_TRY(send_ipi(cpu));
    return CallTicket{cpu, seq};
}

Result<void> Smp::wait_call(CallTicket ticket, const WaitBound& bound) noexcept
{
    XEN_TRY(check_cpu(ticket.cpu));
    const CallMailbox& m = cpus_[ticket.cpu].mailbox;
    // Sequence numbers wrap: compare by distance.
    return wait_until(bound, [&] { return static_cast<int32_t>(load(m.done) - ticket.seq) >= 0; });
}

Result<void> Smp::call(uint32_t cpu, CallFn fn, void* arg, const WaitBound& bound) noexcept
{
    XEN_TRY(check_cpu(cpu));
    if (fn == nullptr)
        return err(Errc::invalid_argument);
    if (cpu == self()) {
        fn(arg);
        return ok();
    }
    XEN_TRY_ASSIGN(const CallTicket ticket, post(cpu, fn, arg, bound));
    return wait_call(ticket, bound);
}

} // namespace xen
