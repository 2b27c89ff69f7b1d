// PVH boot, after entry_pvh.S: a ring-0 kernel in long mode on its own
// identity page tables, inside an HVM container without emulated devices.
//   1. the hypercall page: write its physical address to Xen's MSR
//      (xen::install_hypercall_page); until then there is no console;
//   2. a real GDT with a TSS and a real IDT (the stubs in traps.S);
//   3. shared_info: ask Xen to place it at a guest frame we choose
//      (XENMEM_add_to_physmap, XENMAPSPACE_shared_info) - a page of .bss;
//   4. event upcalls as an IDT vector: HVM_PARAM_CALLBACK_IRQ with the
//      "vector" callback type, then sti, then the common kernel.
#include <xen/abi/start_info.hpp>
#include <xen/hypercall/page.hpp>
#include <xen/hypercall/platform_op.hpp>
#include <xen/hypercall/xen_version.hpp>

#include "console.hpp"
#include "descriptors.hpp"
#include "domain.hpp"
#include "events.hpp"
#include "kernel.hpp"
#include "smp_internal.hpp"
#include "traps.hpp"

namespace mk {

namespace {

// --- 2. GDT, TSS, IDT: descriptors.cpp (the APs load their own the same way).

// --- 3. shared_info ----------------------------------------------------------

alignas(4096) char shared_info_page[4096];

xen::abi::shared_info* map_shared_info() noexcept
{
    // Identity-mapped: the page's address is its guest-physical address.
    const uint64_t gfn = reinterpret_cast<uint64_t>(shared_info_page) / 4096;
    if (!xen::hc::add_to_physmap(xen::abi::xenmapspace::shared_info, 0, gfn)) {
        console::print("Bail out! XENMEM_add_to_physmap(shared_info) failed\n");
        machine_crash();
    }
    return reinterpret_cast<xen::abi::shared_info*>(shared_info_page);
}

// --- 4. the upcall vector ----------------------------------------------------

void set_upcall_vector() noexcept
{
    // The vector callback needs XENFEAT_hvm_callback_vector (Xen 4.0+).
    const auto features = xen::hc::xen_features();
    if (!features || !xen::hc::has_feature(*features, xen::abi::xenfeat::hvm_callback_vector)) {
        console::print("# no XENFEAT_hvm_callback_vector: event upcalls stay off\n");
        return;
    }
    if (!xen::hc::hvm_set_param(xen::abi::hvm_param::callback_irq,
                                xen::abi::hvm_callback_via_vector(pvh_upcall_vector)))
        console::print("# HVM_PARAM_CALLBACK_IRQ failed: event upcalls stay off\n");
}

} // namespace

extern "C" [[noreturn]] void pvh_main(uint32_t start_info_paddr) noexcept
{
    set_guest_type(GuestType::pvh);
    // 1. No console before this: a failure here is a ud2, which Xen reports
    // as a crash of dom0 (with the registers) on its own console.
    if (!xen::install_hypercall_page(xen::PhysAddr{reinterpret_cast<uint64_t>(xenvcpu_hypercall_page)}))
        __builtin_trap();

    const auto* start = reinterpret_cast<const xen::abi::hvm_start_info*>(uint64_t{start_info_paddr});
    if (start->magic != xen::abi::hvm_start_magic) {
        console::print("Bail out! hvm_start_info has a bad magic number\n");
        machine_crash();
    }

    build_idt();
    load_cpu_tables(smp::percpu(xen::boot_vcpu), smp::ist_top(xen::boot_vcpu));
    xen::abi::shared_info* shared = map_shared_info();
    smp::init_boot_cpu(&shared->vcpu_info[0]);
    domain_init(shared, GuestType::pvh);
    set_upcall_vector();
    events::enable();

    const char* cmdline = start->cmdline_paddr != 0 ? reinterpret_cast<const char*>(start->cmdline_paddr) : "";
    const BootInfo boot{GuestType::pvh, cmdline, shared, start_info_paddr, 0};
    kernel_main(boot);
}

} // namespace mk
