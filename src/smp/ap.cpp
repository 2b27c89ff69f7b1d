// The AP's side: check in, serve calls, park itself and resume.
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load;
using smp_detail::store;

void Smp::ap_online(VcpuId self) noexcept
{
    ApHandshake& hs = part(self).handshake;
    // online_ns first, then the generation with release: a controller that
    // sees the new generation (acquire) sees the time too.
    hs.online_ns = now();
    ap_set_stage(hs, ApStage::online);
    __atomic_store_n(&hs.generation, hs.generation + 1, __ATOMIC_RELEASE);
}

Smp::Served Smp::service(VcpuId self) noexcept
{
    CallMailbox& m = part(self).mailbox;
    // Calls first: one posted before a park request still runs. Not again
    // from inside itself (a call that waits, and so serves, on this CPU).
    const uint32_t posted = load(m.posted);
    if (posted != load(m.done) && m.running == 0) {
        const CallFn fn = m.fn;
        void* const arg = m.arg;
        m.running = 1;
        fn(arg);
        m.running = 0;
        store(m.done, posted);
        store(m.busy, 0);
        return Served::call;
    }
    if (load(m.park) != 0) {
        store(m.park, 0);
        // If it cannot park (the last vCPU), it keeps running; the
        // controller's poll of is_up then times out and says so.
        return park_self(self).has_value() ? Served::parked : Served::nothing;
    }
    return Served::nothing;
}

bool Smp::pending(VcpuId self) const noexcept
{
    const CallMailbox& m = part(self).mailbox;
    return (load(m.posted) != load(m.done) && m.running == 0) || load(m.park) != 0;
}

Result<void> Smp::park_begin(VcpuId self) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * c, managed(self));
    if (self != this->self())
        return err(Errc::not_current_vcpu);
    // This park answers any park request waiting in the mailbox (a kernel
    // that parks through park_begin rather than service() would otherwise
    // find the request still there after its resume, and park again).
    store(c->mailbox.park, 0);
    const KernelHooks& h = domain_->hooks();
    if (h.before_park != nullptr)
        h.before_park(h.ctx, self);
    ap_set_stage(c->handshake, ApStage::parked);
    // On itself VCPUOP_down is synchronous: Xen deschedules this vCPU before
    // the call returns, and returns from it only once VCPUOP_up wakes it.
    // Domain::down refuses (last_vcpu) when no other vCPU is up; the hook's
    // work is then undone like any other failure.
    if (auto r = domain_->down(self); !r.has_value()) {
        ap_set_stage(c->handshake, ApStage::online);
        if (h.after_resume != nullptr)
            h.after_resume(h.ctx, self);
        return r;
    }
    return ok();
}

void Smp::resume(VcpuId self) noexcept
{
    const KernelHooks& h = domain_->hooks();
    if (h.after_resume != nullptr)
        h.after_resume(h.ctx, self);
    ap_online(self);
}

Result<void> Smp::park_self(VcpuId self) noexcept
{
    XEN_TRY(park_begin(self));
    resume(self);
    return ok();
}

} // namespace xen
