#include "events.hpp"

#include <new>
#include <xen/event/upcall.hpp>

#include "percpu.hpp"

namespace mk::events {

namespace {

xen::abi::shared_info* shared = nullptr;
GuestType guest = GuestType::pv;
uint64_t early_upcalls = 0; // before the boot CPU's per-CPU block exists

// The handler slots and per-vCPU cursors the library works in, and the
// EventChannels object itself. It needs shared_info, known only at boot,
// so it is constructed in place by init() (no global constructors here).
xen::EventStorage<max_ports, max_vcpus> storage;
alignas(xen::EventChannels) unsigned char channels_space[sizeof(xen::EventChannels)];
xen::EventChannels* table = nullptr;

// The calling CPU's vcpu_info: where its event flags and mask are.
xen::abi::vcpu_info& mine() noexcept { return smp::this_vcpu_info(); }

} // namespace

void init(xen::abi::shared_info* page, GuestType type) noexcept
{
    shared = page;
    guest = type;
    table = new (channels_space) xen::EventChannels(*page, storage);
    table->mask_all();
}

xen::abi::shared_info* shared_info() noexcept { return shared; }

xen::EventChannels& channels() noexcept { return *table; }

void enable() noexcept { (void)xen::upcalls_on(guest_kind(guest), mine()); }

void disable() noexcept { (void)xen::upcalls_off(guest_kind(guest), mine()); }

void upcall() noexcept
{
    ++*(smp::percpu_ready() ? &smp::this_percpu().upcalls : &early_upcalls);
    if (table == nullptr)
        return; // an upcall before init: nothing is bound, nothing to run
    // If the budget runs out, the dispatcher hands the rest back to Xen
    // (selector bits and evtchn_upcall_pending set again): on the way out,
    // the iret hypercall (PV) or the next VM entry (PVH) brings us back here.
    (void)table->dispatch(smp::this_vcpu(), mine());
}

uint64_t upcall_count() noexcept
{
    if (!smp::percpu_ready())
        return early_upcalls;
    return smp::this_percpu().upcalls + (smp::this_cpu() == 0 ? early_upcalls : 0);
}

} // namespace mk::events
