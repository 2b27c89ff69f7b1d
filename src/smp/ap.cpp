// The AP's side: check in, serve calls, park itself and resume.
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load;
using smp_detail::store;

void Smp::ap_online(uint32_t self) noexcept
{
    ApHandshake& hs = cpus_[self].handshake;
    // online_ns first, then the generation with release: a controller that
    // sees the new generation (acquire) sees the time too.
    hs.online_ns = now();
    ap_set_stage(hs, ApStage::online);
    __atomic_store_n(&hs.generation, hs.generation + 1, __ATOMIC_RELEASE);
}

Smp::Served Smp::service(uint32_t self) noexcept
{
    CallMailbox& m = cpus_[self].mailbox;
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

bool Smp::pending(uint32_t self) const noexcept
{
    const CallMailbox& m = cpus_[self].mailbox;
    return (load(m.posted) != load(m.done) && m.running == 0) || load(m.park) != 0;
}

bool Smp::other_vcpu_up(VcpuId self_vcpu) noexcept
{
    // Xen's view, not ours: VCPUOP_down of the last running vCPU powers the
    // domain off (common_vcpu_op). Usually the first probe (vCPU 0) answers.
    for (uint32_t id = 0; id < domain_vcpus_; ++id) {
        if (id == self_vcpu.value)
            continue;
        const auto up = hc::vcpu_is_up(VcpuId{id});
        if (up.has_value() && *up)
            return true;
    }
    return false;
}

Result<void> Smp::park_begin(uint32_t self) noexcept
{
    XEN_TRY(check_cpu(self));
    if (self != this->self())
        return err(Errc::not_current_vcpu);
    SmpCpu& c = cpus_[self];
    if (!other_vcpu_up(c.vcpu))
        return err(Errc::last_vcpu);
    if (config_.hooks.before_park != nullptr)
        config_.hooks.before_park(config_.hooks.ctx, self);
    ap_set_stage(c.handshake, ApStage::parked);
    // On itself VCPUOP_down is synchronous: Xen deschedules this vCPU before
    // the call returns, and returns from it only once VCPUOP_up wakes it.
    if (auto r = hc::vcpu_down(c.vcpu); !r.has_value()) {
        ap_set_stage(c.handshake, ApStage::online);
        if (config_.hooks.after_resume != nullptr)
            config_.hooks.after_resume(config_.hooks.ctx, self);
        return r;
    }
    return ok();
}

void Smp::resume(uint32_t self) noexcept
{
    if (config_.hooks.after_resume != nullptr)
        config_.hooks.after_resume(config_.hooks.ctx, self);
    ap_online(self);
}

Result<void> Smp::park_self(uint32_t self) noexcept
{
    XEN_TRY(park_begin(self));
    resume(self);
    return ok();
}

} // namespace xen
