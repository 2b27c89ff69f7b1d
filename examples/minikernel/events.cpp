#include "events.hpp"

#include <xen/event/upcall.hpp>

#include "domain.hpp"
#include "percpu.hpp"

namespace mk::events {

namespace {

uint64_t early_upcalls = 0; // before the boot vCPU's per-CPU block exists

// The calling vCPU's vcpu_info: where its event flags and mask are.
xen::abi::vcpu_info& mine() noexcept { return smp::this_vcpu_info(); }

} // namespace

xen::EventChannels& channels() noexcept { return domain().events(); }

xen::abi::shared_info* shared_info() noexcept { return domain_ready() ? &domain().shared() : nullptr; }

void enable() noexcept { (void)xen::upcalls_on(guest_type(), mine()); }

void disable() noexcept { (void)xen::upcalls_off(guest_type(), mine()); }

void upcall() noexcept
{
    ++*(smp::percpu_ready() ? &smp::this_percpu().upcalls : &early_upcalls);
    if (!domain_ready())
        return; // an upcall before the domain exists: nothing is bound, nothing to run
    // If the budget runs out, the dispatcher hands the rest back to Xen
    // (selector bits and evtchn_upcall_pending set again): on the way out,
    // the iret hypercall (PV) or the next VM entry (PVH) brings us back here.
    (void)domain().events().dispatch(smp::this_vcpu(), mine());
}

uint64_t upcall_count() noexcept
{
    if (!smp::percpu_ready())
        return early_upcalls;
    return smp::this_percpu().upcalls + (smp::this_vcpu() == xen::boot_vcpu ? early_upcalls : 0);
}

} // namespace mk::events
