// Finding and mapping a domU's rings.
//   PV:  start_info names machine frames (console.domU.mfn, store_mfn). The
//        machine-to-physical table Xen maps read-only at the start of its
//        hypervisor area turns one into our pseudo-physical frame, and the
//        domain builder put both pages inside the initial mapping (virtual ==
//        pseudo-physical here, VIRT_BASE 0).
//   PVH: HVM_PARAM_CONSOLE_PFN / STORE_PFN are guest frames, which libxl
//        places just below 4 GiB (the "special pages"), beyond the 1 GiB the
//        boot page tables map: map the 3-4 GiB gigabyte with 2 MiB pages.
#include "domu.hpp"

#include <xen/abi/start_info.hpp>
#include <xen/console.hpp>
#include <xen/event/bitmap.hpp>
#include <xen/event/upcall.hpp>
#include <xen/hypercall/platform_op.hpp>
#include <xen/hypercall/sched_op.hpp>
#include <xen/hypercall/xen_version.hpp>

#include <new>
#include <xen/time/pvclock.hpp>

#include "domain.hpp"
#include "smp.hpp"

namespace mk::domu {

namespace {

// Xen's HYPERVISOR_VIRT_START on x86-64: machine_to_phys_mapping (public
// arch-x86/xen-x86_64.h), readable by 64-bit PV guests.
constexpr uint64_t m2p_address = 0xffff800000000000ull;

alignas(xen::ConsoleRing) char console_storage[sizeof(xen::ConsoleRing)];
alignas(xen::XenStore) char xenstore_storage[sizeof(xen::XenStore)];
xen::ConsoleRing* console = nullptr;
xen::XenStore* store = nullptr;

// PVH: a page directory for guest-physical 3-4 GiB.
alignas(4096) uint64_t high_pd[512];

void map_top_gigabyte() noexcept
{
    uint64_t cr3;
    asm volatile("mov %%cr3, %0" : "=r"(cr3));
    auto* pml4 = reinterpret_cast<uint64_t*>(cr3 & ~0xfffull);
    auto* pdpt = reinterpret_cast<uint64_t*>(pml4[0] & 0x000ffffffffff000ull);
    if (pdpt[3] & 1)
        return;
    for (uint64_t i = 0; i < 512; ++i)
        high_pd[i] = ((uint64_t{3} << 30) + (i << 21)) | 0x83; // present, writable, 2 MiB
    pdpt[3] = reinterpret_cast<uint64_t>(high_pd) | 0x3;
    asm volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

void* pvh_page(uint64_t gfn) noexcept
{
    if (gfn == 0 || gfn >= (uint64_t{1} << 20))
        return nullptr; // above 4 GiB: not where libxl puts them
    if (gfn >= (uint64_t{1} << 18))
        map_top_gigabyte();
    return reinterpret_cast<void*>(gfn << 12);
}

void* pv_page(uint64_t mfn, uint64_t nr_pages) noexcept
{
    const auto* m2p = reinterpret_cast<const uint64_t*>(m2p_address);
    const uint64_t pfn = m2p[mfn];
    if (pfn >= nr_pages)
        return nullptr;
    return reinterpret_cast<void*>(pfn << 12);
}

xen::abi::shared_info* shared = nullptr;
GuestType guest = GuestType::pv;
xen::hc::Port ports[2]{};
uint32_t nr_ports = 0;

void clear_pending(xen::hc::Port p) noexcept { (void)xen::event::test_and_clear(shared->evtchn_pending, p.value); }

void yield(void*) noexcept { idle_wait(2'000'000); }

// Writes the ring refused (timed out, or a broken backend): output lost.
uint32_t console_failures = 0;

} // namespace

namespace {

void attach(const BootInfo& boot) noexcept
{
    void* cons_page = nullptr;
    void* store_page = nullptr;
    uint32_t cons_port = 0, store_port = 0;
    if (boot.type == GuestType::pv) {
        const auto* start = reinterpret_cast<const xen::abi::start_info*>(boot.start_info);
        cons_page = pv_page(start->console.domu.mfn, start->nr_pages);
        cons_port = start->console.domu.evtchn;
        store_page = pv_page(start->store_mfn, start->nr_pages);
        store_port = start->store_evtchn;
    } else {
        using xen::abi::hvm_param;
        const auto cpfn = xen::hc::hvm_get_param(hvm_param::console_pfn);
        const auto cport = xen::hc::hvm_get_param(hvm_param::console_evtchn);
        const auto spfn = xen::hc::hvm_get_param(hvm_param::store_pfn);
        const auto sport = xen::hc::hvm_get_param(hvm_param::store_evtchn);
        if (cpfn && cport) {
            cons_page = pvh_page(*cpfn);
            cons_port = static_cast<uint32_t>(*cport);
        }
        if (spfn && sport) {
            store_page = pvh_page(*spfn);
            store_port = static_cast<uint32_t>(*sport);
        }
    }
    shared = boot.shared;
    guest = boot.type;
    nr_ports = 0;
    if (cons_port != 0)
        ports[nr_ports++] = xen::hc::Port{cons_port};
    if (store_port != 0)
        ports[nr_ports++] = xen::hc::Port{store_port};
    if (cons_page != nullptr && cons_port != 0)
        console = new (console_storage)
            xen::ConsoleRing(static_cast<xen::abi::xencons_interface*>(cons_page), xen::hc::Port{cons_port});
    // Each wait is at most 2 ms (SCHEDOP_poll): 30000 in a row without
    // progress is a minute, far beyond any healthy dom0 under TCG, and still
    // ends a run that lost its xenstored.
    if (store_page != nullptr && store_port != 0)
        store = new (xenstore_storage) xen::XenStore(static_cast<xen::abi::xenstore_domain_interface*>(store_page),
                                                     xen::hc::Port{store_port}, yield, nullptr, 30000);
}

} // namespace

void init(const BootInfo& boot, uint32_t features) noexcept
{
    if (xen::hc::has_feature(features, xen::abi::xenfeat::dom0))
        return;
    attach(boot);
    // Tell the toolstack we suspend through control/shutdown (as Linux and
    // Mini-OS do); whoever watches it answers (lifecycle.hpp).
    if (store != nullptr)
        (void)store->write("control/feature-suspend", "1");
}

void reattach(const BootInfo& boot) noexcept
{
    if (console == nullptr && store == nullptr)
        return;
    // The new domain's shared_info (PV: the page was mapped again).
    attach(BootInfo{boot.type, boot.cmdline, &domain().shared(), boot.start_info, boot.nr_pages});
    // Ports in a new domain start masked (a PV restore masks them all):
    // the rings' notifications must reach SCHEDOP_poll, which looks at
    // pending bits only, so nothing else is needed.
}

bool active() noexcept { return console != nullptr; }

void idle_wait(uint64_t timeout_ns) noexcept
{
    if (nr_ports == 0 || shared == nullptr) {
        (void)xen::hc::sched_yield();
        return;
    }
    const uint64_t now = now_ns();
    // A notification that came before is consumed here; the caller looks
    // at the rings after we return, so nothing it announced is missed.
    for (uint32_t i = 0; i < nr_ports; ++i)
        clear_pending(ports[i]);
    // SCHEDOP_poll returns at once while an upcall could be delivered, so
    // upcalls are held off around it (PV: the vcpu_info mask; PVH: IF,
    // which Xen asks for the vCPU's interrupt window). The guard's end lets
    // in what came meanwhile.
    xen::UpcallGuard off(guest, smp::this_vcpu_info());
    // The poll's timeout is in Xen's system time, which the kernel clock
    // leaves after a restore (Domain::clock_offset).
    (void)xen::hc::sched_poll(ports, nr_ports,
                              domain_ready() ? domain().to_xen_time(now + timeout_ns) : now + timeout_ns);
}

// CPUs printing at once take turns, a whole line each: the ring's own
// writer lock (xen::ConsoleRing::write). Upcalls stay off while this vCPU
// holds it, so that no handler on the same vCPU can wait on a lock its own
// thread holds (the lock is not recursive); a wait for room or for the
// lock still sleeps in SCHEDOP_poll (idle_wait nests its guard in this one).
void console_write(const char* text, size_t len) noexcept
{
    if (console == nullptr)
        return;
    const xen::UpcallGuard off(guest, smp::this_vcpu_info());
    if (!console->write(text, len, yield, nullptr, 30000))
        __atomic_add_fetch(&console_failures, 1, __ATOMIC_RELAXED);
}

uint32_t console_write_failures() noexcept { return __atomic_load_n(&console_failures, __ATOMIC_RELAXED); }

void console_drain() noexcept
{
    // At most ~4 s: xenconsoled notifies us as it consumes.
    for (uint32_t i = 0; console != nullptr && console->output_pending().value_or(0) != 0 && i < 2000; ++i)
        idle_wait(2'000'000);
}

size_t console_read(char* buf, size_t cap) noexcept
{
    if (console == nullptr)
        return 0;
    return console->read(buf, cap).value_or(0);
}

xen::XenStore* xenstore() noexcept { return store; }

} // namespace mk::domu
