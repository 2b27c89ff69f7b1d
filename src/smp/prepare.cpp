// Smp::prepare: everything an AP needs before it may start, done by the
// controller while the AP is still down.
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load_state;

Result<void> Smp::prepare(uint32_t cpu) noexcept
{
    XEN_TRY(check_cpu(cpu));
    SmpCpu& c = cpus_[cpu];
    const CpuState s = load_state(c);
    if (s == CpuState::prepared)
        return ok();
    if (cpu == 0 || s != CpuState::down)
        return err(Errc::invalid_argument);

    auto fail = [&](Errc e) -> Result<void> {
        c.last_error = e;
        return err(e);
    };

    // 1. vcpu_info in our own storage (op 10). Mandatory beyond 32: a PV
    // vCPU >= 32 cannot even be initialised without it (-EINVAL, common
    // VCPUOP_initialise) and an HVM one would get its events and pvclock in
    // a dummy shared by all. Once only per vCPU lifetime (-EINVAL <= 4.17,
    // -EBUSY 4.18+), so a retry after a later failure skips it. Xen <= 4.17
    // also refuses it for another vCPU that is up: this one is down.
    const bool needs_info =
        config_.placement == VcpuInfoPlacement::every_ap || c.vcpu.value >= abi::legacy_max_vcpus;
    if (needs_info && !c.info_registered) {
        const FrameNumber frame = config_.hooks.frame_of(config_.hooks.ctx, c.vcpu_info.get());
        if (auto r = hc::register_vcpu_info(c.vcpu, c.vcpu_info, frame); !r.has_value())
            return fail(r.error());
        c.info_registered = true;
    }

    // 2. Upcalls masked until the AP's own code is ready for them (Linux
    // sets the mask before initialise too). Xen sets it itself when it
    // moves a vCPU off the dummy, but not for one that had a shared_info
    // slot, and on PV the mask is all that holds events off.
    abi::vcpu_info* vi = vcpu_info_of(cpu);
    if (vi == nullptr)
        return fail(Errc::invalid_argument);
    __atomic_store_n(&vi->evtchn_upcall_mask, uint8_t{1}, __ATOMIC_SEQ_CST);

    // 3. The call IPI, delivered to that vCPU (EVTCHNOP_bind_ipi binds to
    // the vCPU named in the argument, running or not).
    if (config_.events != nullptr && !c.ipi_bound) {
        const auto port = config_.events->bind_ipi(c.vcpu, &Smp::on_ipi, &c);
        if (!port.has_value())
            return fail(port.error());
        c.ipi_port = *port;
        c.ipi_bound = true;
    }

    // 4. The kernel's own per-vCPU setup (runstate area, VIRQ_TIMER, ...).
    if (config_.hooks.prepare != nullptr) {
        if (auto r = config_.hooks.prepare(config_.hooks.ctx, cpu, c.vcpu); !r.has_value()) {
            if (c.ipi_bound) {
                // The vCPU is down, so closing its port from here is allowed.
                if (config_.events->close(c.ipi_port, c.vcpu).has_value())
                    c.ipi_bound = false;
            }
            return fail(r.error());
        }
    }

    c.last_error = Errc{};
    set_state(cpu, CpuState::prepared);
    return ok();
}

} // namespace xen
