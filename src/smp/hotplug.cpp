// Smp::offline, offline_remote and online: the controller's side of vCPU
// hotplug (docs/smp.md, "Hotplug": VCPUOP_down/up/is_up, re-onlining).
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load_state;
using smp_detail::store;

namespace {

// The checks offline and offline_remote share: a CPU cannot take itself
// down and wait for it, and the last CPU must never go (Xen would power the
// domain off).
Result<void> check_offline(uint32_t cpu, uint32_t self, uint32_t online, CpuState s) noexcept
{
    if (cpu == self)
        return err(online <= 1 ? Errc::last_vcpu : Errc::invalid_argument);
    if (s != CpuState::online && s != CpuState::parking)
        return err(Errc::invalid_argument);
    return ok();
}

} // namespace

Result<void> Smp::poll_down(uint32_t cpu, const WaitBound& bound) noexcept
{
    SmpCpu& c = cpus_[cpu];
    // A remote VCPUOP_down is asynchronous and a parking AP goes down when
    // it gets there: only is_up == 0 says it is down (docs/smp.md, "Hotplug").
    Errc failure{};
    const auto r = wait_until(bound, [&] {
        const auto up = hc::vcpu_is_up(c.vcpu);
        if (!up.has_value()) {
            failure = up.error();
            return true;
        }
        return !*up;
    });
    if (failure != Errc{}) {
        c.last_error = failure;
        return err(failure);
    }
    if (!r.has_value()) {
        c.last_error = r.error();
        return r; // still parking; a later offline() polls again
    }
    c.last_error = Errc{};
    set_state(cpu, CpuState::parked);
    return ok();
}

Result<void> Smp::offline(uint32_t cpu, const WaitBound& bound) noexcept
{
    XEN_TRY(check_cpu(cpu));
    SmpCpu& c = cpus_[cpu];
    const CpuState s = load_state(c);
    XEN_TRY(check_offline(cpu, self(), online_count(), s));
    if (s == CpuState::online) {
        if (!c.ipi_bound)
            return err(Errc::unsupported);
        c.remote_down = false;
        c.awaited_generation = ap_generation(c.handshake) + 1;
        set_state(cpu, CpuState::parking);
        store(c.mailbox.park, 1);
        if (auto r = send_ipi(cpu); !r.has_value()) {
            store(c.mailbox.park, 0);
            set_state(cpu, CpuState::online);
            c.last_error = r.error();
            return r;
        }
    }
    return poll_down(cpu, bound);
}

Result<void> Smp::offline_remote(uint32_t cpu, const WaitBound& bound) noexcept
{
    XEN_TRY(check_cpu(cpu));
    SmpCpu& c = cpus_[cpu];
    const CpuState s = load_state(c);
    XEN_TRY(check_offline(cpu, self(), online_count(), s));
    if (s == CpuState::online) {
        // The caller runs, so `cpu` is not the last vCPU up.
        c.remote_down = true;
        set_state(cpu, CpuState::parking);
        if (auto r = hc::vcpu_down(c.vcpu); !r.has_value()) {
            set_state(cpu, CpuState::online);
            c.last_error = r.error();
            return r;
        }
    }
    return poll_down(cpu, bound);
}

Result<void> Smp::online(uint32_t cpu, const WaitBound& bound) noexcept
{
    XEN_TRY(check_cpu(cpu));
    SmpCpu& c = cpus_[cpu];
    const CpuState s = load_state(c);
    if (s == CpuState::parked) {
        // VCPUOP_up only: the vCPU is still initialised (a second
        // VCPUOP_initialise is -EEXIST). It resumes where it stopped: right
        // after its own VCPUOP_down when it parked itself.
        c.handshake.start_ns = now();
        set_state(cpu, CpuState::resuming);
        if (auto r = hc::vcpu_up(c.vcpu); !r.has_value()) {
            set_state(cpu, CpuState::parked);
            c.last_error = r.error();
            return r;
        }
    } else if (s != CpuState::resuming) {
        return err(Errc::invalid_argument);
    }

    if (c.remote_down) {
        // Stopped from outside, it does not know it was away: no check-in
        // comes. Xen's is_up is the answer.
        Errc failure{};
        const auto r = wait_until(bound, [&] {
            const auto up = hc::vcpu_is_up(c.vcpu);
            if (!up.has_value())
                failure = up.error();
            return !up.has_value() || *up;
        });
        if (failure != Errc{} || !r.has_value()) {
            c.last_error = failure != Errc{} ? failure : r.error();
            return err(c.last_error);
        }
        ++c.cycles;
        c.last_error = Errc{};
        set_state(cpu, CpuState::online);
        return ok();
    }
    return await_online(cpu, bound);
}

} // namespace xen
