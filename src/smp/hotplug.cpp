// Smp::offline, offline_remote and online: the controller's side of vCPU
// hotplug (docs/smp.md, "Hotplug": VCPUOP_down/up/is_up, re-onlining).
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load_state;
using smp_detail::store;
using smp_detail::store_state;

namespace {

// The checks offline and offline_remote share: a CPU cannot take itself
// down and wait for it, and the last CPU must never go (Xen would power the
// domain off).
Result<void> check_offline(VcpuId v, VcpuId self, uint32_t online, CpuState s) noexcept
{
    if (v == self)
        return err(online <= 1 ? Errc::last_vcpu : Errc::invalid_argument);
    if (s != CpuState::online && s != CpuState::parking)
        return err(Errc::invalid_argument);
    return ok();
}

} // namespace

Result<void> Smp::poll_down(SmpCpu& c, const WaitBound& bound) noexcept
{
    // A remote VCPUOP_down is asynchronous and a parking AP goes down when
    // it gets there: only is_up == 0 says it is down (docs/smp.md, "Hotplug").
    Errc failure{};
    const auto r = wait_until(bound, [&] {
        const auto up = domain_->is_up(c.vcpu);
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
    store_state(c, CpuState::parked);
    return ok();
}

Result<void> Smp::offline(VcpuId v, const WaitBound& bound) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * cp, managed(v));
    SmpCpu& c = *cp;
    const CpuState s = load_state(c);
    XEN_TRY(check_offline(v, self(), online_count(), s));
    if (s == CpuState::online) {
        if (!c.ipi_bound)
            return err(Errc::unsupported);
        c.remote_down = false;
        c.awaited_generation = ap_generation(c.handshake) + 1;
        store_state(c, CpuState::parking);
        store(c.mailbox.park, 1);
        if (auto r = send_ipi(v); !r.has_value()) {
            store(c.mailbox.park, 0);
            store_state(c, CpuState::online);
            c.last_error = r.error();
            return r;
        }
    }
    return poll_down(c, bound);
}

Result<void> Smp::offline_remote(VcpuId v, const WaitBound& bound) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * cp, managed(v));
    SmpCpu& c = *cp;
    const CpuState s = load_state(c);
    XEN_TRY(check_offline(v, self(), online_count(), s));
    if (s == CpuState::online) {
        // The caller runs, so `v` is not the last vCPU up: Domain::down
        // confirms it with one VCPUOP_is_up (usually of the caller).
        c.remote_down = true;
        store_state(c, CpuState::parking);
        if (auto r = domain_->down(v); !r.has_value()) {
            store_state(c, CpuState::online);
            c.last_error = r.error();
            return r;
        }
    }
    return poll_down(c, bound);
}

Result<void> Smp::online(VcpuId v, const WaitBound& bound) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * cp, managed(v));
    SmpCpu& c = *cp;
    const CpuState s = load_state(c);
    if (s == CpuState::parked) {
        // VCPUOP_up only: the vCPU is still initialised (a second
        // VCPUOP_initialise is -EEXIST). It resumes where it stopped: right
        // after its own VCPUOP_down when it parked itself.
        c.handshake.start_ns = now();
        store_state(c, CpuState::resuming);
        if (auto r = domain_->up(v); !r.has_value()) {
            store_state(c, CpuState::parked);
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
            const auto up = domain_->is_up(v);
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
        store_state(c, CpuState::online);
        return ok();
    }
    return await_online(v, bound);
}

} // namespace xen
