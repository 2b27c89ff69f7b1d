// PV boot, after entry_pv.S: a 64-bit kernel in ring 3 whose page tables
// Xen owns. Everything privileged goes through hypercalls:
//   1. the virtual IDT (set_trap_table) and the event + failsafe callbacks
//      (callback_op), so faults and upcalls reach traps.S;
//   2. shared_info, which Xen names by machine address: map it over a page
//      of our own .bss with update_va_mapping;
//   3. events on (vcpu_info.evtchn_upcall_mask = 0), then the common kernel.
// (And page 0 unmapped, so that a null pointer faults.)
// The hypercall page is already there: Xen filled it at load time because
// of XEN_ELFNOTE_HYPERCALL_PAGE (notes.S).
#include <xen/abi/guest_context.hpp>
#include <xen/abi/start_info.hpp>
#include <xen/hypercall/platform_op.hpp>
#include <xen/pv/p2m.hpp>

#include "console.hpp"
#include "domain.hpp"
#include "events.hpp"
#include "kernel.hpp"
#include "lifecycle.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "traps.hpp"

namespace mk {

namespace {

// The virtual IDT: one entry per exception we can take, plus a terminator
// (address 0). Vector 2 (NMI) has its own callback type and 8 (#DF) is never
// bounced to a PV guest, so neither gets an entry. int3 (#BP) and into (#OF)
// are instructions the kernel executes itself from ring 3, so their DPL is 3.
xen::abi::trap_info trap_table[32];

void install_trap_table() noexcept
{
    size_t n = 0;
    for (uint8_t v = 0; v < 20; ++v) {
        if (v == 2 || v == 8 || v == 9 || v == 15)
            continue;
        const uint8_t dpl = (v == 3 || v == 4) ? 3 : 0;
        trap_table[n++] = xen::abi::trap_info{v, dpl, xen::abi::flat_kernel_cs, 0,
                                              reinterpret_cast<uint64_t>(pv_trap_stubs + v * pv_stub_size)};
    }
    trap_table[n] = xen::abi::trap_info{}; // terminator: address 0
    // Without a trap table we cannot report anything ourselves; Xen would
    // crash the domain at the first fault and print why, which is fine.
    if (!xen::hc::set_trap_table(trap_table))
        console::print("# set_trap_table failed\n");
}

void install_callbacks() noexcept
{
    using xen::abi::callback_type;
    // Xen masks events on entry to the event callback by itself; for the
    // failsafe callback we ask for it (CALLBACKF_mask_events).
    if (!xen::hc::register_callback(callback_type::event, reinterpret_cast<uint64_t>(pv_event_callback)))
        console::print("# register_callback(event) failed\n");
    if (!xen::hc::register_callback(callback_type::failsafe, reinterpret_cast<uint64_t>(pv_failsafe_callback),
                                    xen::abi::callbackf_mask_events))
        console::print("# register_callback(failsafe) failed\n");
}

// A page of .bss whose mapping we replace with shared_info. Its own frame is
// simply no longer mapped; the kernel never uses it otherwise.
alignas(4096) char shared_info_page[4096];

// PTE bits: present, writable, accessed, dirty (Xen adds what a ring-3
// kernel needs itself).
constexpr uint64_t pte_present = 1u << 0;
constexpr uint64_t pte_writable = 1u << 1;
constexpr uint64_t pte_accessed = 1u << 5;
constexpr uint64_t pte_dirty = 1u << 6;

} // namespace

xen::abi::shared_info* pv_map_shared_info(uint64_t machine_address) noexcept
{
    const uint64_t va = reinterpret_cast<uint64_t>(shared_info_page);
    const uint64_t pte = machine_address | pte_present | pte_writable | pte_accessed | pte_dirty;
    if (!xen::hc::update_va_mapping(va, pte, xen::abi::uvmf_invlpg | xen::abi::uvmf_local)) {
        console::print("Bail out! update_va_mapping(shared_info) failed\n");
        machine_crash();
    }
    return reinterpret_cast<xen::abi::shared_info*>(shared_info_page);
}

// The toolstack saves a PV guest by its p2m, which it finds through
// shared_info: published now, before any save can come (and again after
// every resume, into the new shared_info). 1 GiB of frame lists is far more
// than the minikernel is ever given.
static xen::pv::P2mFrameLists<1> p2m_lists;

void pv_publish_p2m(const xen::abi::start_info& start) noexcept
{
    if (auto r = xen::pv::publish_p2m(domain(), reinterpret_cast<const uint64_t*>(start.mfn_list), start.nr_pages,
                                      p2m_lists);
        !r) {
        console::print("# publishing the p2m failed: ", xen::errc_name(r.error()), " (the domain cannot be saved)\n");
    }
}

// Before a save the page over which shared_info is mapped gets its own
// frame back (lifecycle.cpp says why), with a copy of what shared_info held
// so that the clock reads on. pv_map_shared_info maps shared_info again.
void pv_unmap_shared_info() noexcept
{
    alignas(16) static char copy[4096];
    __builtin_memcpy(copy, shared_info_page, sizeof(copy));
    const uint64_t va = reinterpret_cast<uint64_t>(shared_info_page);
    const uint64_t pte = (uint64_t{xen_frame_of(shared_info_page).value} << 12) | pte_present | pte_writable |
                         pte_accessed | pte_dirty;
    if (!xen::hc::update_va_mapping(va, pte, xen::abi::uvmf_invlpg | xen::abi::uvmf_local)) {
        console::print("Bail out! update_va_mapping(own frame of the shared_info page) failed\n");
        machine_crash();
    }
    __builtin_memcpy(shared_info_page, copy, sizeof(copy));
}

extern "C" [[noreturn]] void pv_main(const xen::abi::start_info* start) noexcept
{
    set_guest_type(GuestType::pv);
    install_trap_table();
    install_callbacks();

    // Xen names a PV guest's memory by machine frame: keep the p2m list.
    set_p2m(reinterpret_cast<const uint64_t*>(start->mfn_list), start->nr_pages);
    // Xen's initial mapping starts at virtual address 0 (VIRT_BASE 0): drop
    // page 0 so that a null pointer faults instead of reading dom0's memory.
    if (!xen::hc::update_va_mapping(0, 0, xen::abi::uvmf_invlpg | xen::abi::uvmf_local))
        console::print("# could not unmap page 0\n");

    xen::abi::shared_info* shared = pv_map_shared_info(start->shared_info);
    // Per-CPU data for the boot vCPU, and what every AP starts with: this
    // trap table, and Xen's bootstrap page tables (pt_base, the L4) as cr3.
    smp::init_boot_cpu(&shared->vcpu_info[0]);
    const void* l4 = reinterpret_cast<const void*>(start->pt_base);
    smp::set_pv_boot(xen::abi::pfn_to_cr3(xen_frame_of(l4).value), trap_table);
    domain_init(shared, GuestType::pv);
    pv_publish_p2m(*start);
    events::enable();

    const BootInfo boot{GuestType::pv, reinterpret_cast<const char*>(start->cmd_line), shared,
                        reinterpret_cast<uint64_t>(start), start->nr_pages};
    kernel_main(boot);
}

} // namespace mk
