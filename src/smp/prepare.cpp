// Smp::prepare: everything an AP needs before it may start, done by the
// controller while the AP is still down.
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load_state;
using smp_detail::store_state;

Result<void> Smp::prepare(VcpuId v) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * cp, managed(v));
    SmpCpu& c = *cp;
    const CpuState s = load_state(c);
    if (s == CpuState::prepared)
        return ok();
    if (v == boot_vcpu || s != CpuState::down)
        return err(Errc::invalid_argument);
    c.timeline = SmpTimeline{};
    c.timeline.prepare_begin_ns = now();
    auto fail = [&](Errc e) -> Result<void> {
        c.last_error = e;
        return err(e);
    };

    // 1. vcpu_info in the vCPU's slot (op 10). Mandatory beyond 32: a PV
    // vCPU >= 32 cannot even be initialised without it (-EINVAL, common
    // VCPUOP_initialise) and an HVM one would get its events and pvclock in
    // a dummy shared by all. Once only per vCPU lifetime (-EINVAL <= 4.17,
    // -EBUSY 4.18+): Domain::place_vcpu_info skips a registered one. Xen <=
    // 4.17 also refuses it for another vCPU that is up: this one is down.
    if (config_.placement == VcpuInfoPlacement::every_ap || v.value >= abi::legacy_max_vcpus) {
        if (auto r = domain_->place_vcpu_info(v); !r.has_value())
            return fail(r.error());
    }

    // 2. Upcalls masked until the AP's own code is ready for them (Linux
    // sets the mask before initialise too). Xen sets it itself when it
    // moves a vCPU off the dummy, but not for one that had a shared_info
    // slot, and on PV the mask is all that holds events off.
    abi::vcpu_info* vi = domain_->vcpu_info(v);
    if (vi == nullptr)
        return fail(Errc::invalid_argument);
    __atomic_store_n(&vi->evtchn_upcall_mask, uint8_t{1}, __ATOMIC_SEQ_CST);

    // 3. The call IPI, delivered to that vCPU (EVTCHNOP_bind_ipi binds to
    // the vCPU named in the argument, running or not).
    EventChannels& events = domain_->events();
    if (!c.ipi_bound) {
        const auto port = events.bind_ipi(v, &Smp::on_ipi, &c);
        if (!port.has_value())
            return fail(port.error());
        c.ipi_port = *port;
        c.ipi_bound = true;
    }

    // 4. The kernel's own per-vCPU setup (runstate area, VIRQ_TIMER, ...).
    const KernelHooks& h = domain_->hooks();
    if (h.ap_prepare != nullptr) {
        if (auto r = h.ap_prepare(h.ctx, v); !r.has_value()) {
            // The vCPU is down, so closing its port from here is allowed.
            if (events.close(c.ipi_port, v).has_value())
                c.ipi_bound = false;
            return fail(r.error());
        }
    }
    c.last_error = Errc{};
    c.timeline.prepare_end_ns = now();
    store_state(c, CpuState::prepared);
    return ok();
}

} // namespace xen
