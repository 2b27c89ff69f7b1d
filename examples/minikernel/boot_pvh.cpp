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
#include "events.hpp"
#include "kernel.hpp"
#include "traps.hpp"

namespace mk {

namespace {

// --- 2. GDT, TSS, IDT --------------------------------------------------------

// The 64-bit TSS (Intel SDM vol. 3, "Task-State Segment in 64-bit mode").
// Its 64-bit fields sit at 4-byte offsets, hence packed.
struct [[gnu::packed]] Tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
static_assert(sizeof(Tss64) == 104);

// An IDT gate (64-bit interrupt gate, 16 bytes).
struct IdtGate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
static_assert(sizeof(IdtGate) == 16);

// The same selectors as the boot GDT in entry_pvh.S, plus the TSS.
constexpr uint16_t kernel_cs = 0x08;
constexpr uint16_t kernel_ds = 0x10;
constexpr uint16_t tss_selector = 0x18;

alignas(16) uint64_t gdt[5];
alignas(16) Tss64 tss;
alignas(16) IdtGate idt[256];
// A separate stack for #DF and NMI (IST 1): they may hit on a broken stack.
alignas(16) char ist_stack[8192];

struct [[gnu::packed]] DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};

void load_descriptor_tables() noexcept
{
    const uint64_t tss_base = reinterpret_cast<uint64_t>(&tss);
    const uint64_t tss_limit = sizeof(tss) - 1;
    tss.ist[0] = reinterpret_cast<uint64_t>(ist_stack + sizeof(ist_stack));
    tss.iomap_base = sizeof(tss); // no I/O bitmap

    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffff; // 64-bit code, DPL 0
    gdt[2] = 0x00cf92000000ffff; // data, DPL 0
    // A 16-byte system descriptor: type 9 (available 64-bit TSS), present.
    gdt[3] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) | (uint64_t{0x89} << 40) |
             (((tss_limit >> 16) & 0xf) << 48) | (((tss_base >> 24) & 0xff) << 56);
    gdt[4] = tss_base >> 32;

    for (unsigned v = 0; v < 256; ++v) {
        const uint64_t stub = reinterpret_cast<uint64_t>(pvh_trap_stubs + v * pvh_stub_size);
        const bool own_stack = v == 2 || v == 8; // NMI, #DF
        idt[v] = IdtGate{static_cast<uint16_t>(stub), kernel_cs, static_cast<uint8_t>(own_stack ? 1 : 0),
                         0x8e, // present, DPL 0, 64-bit interrupt gate (clears IF)
                         static_cast<uint16_t>(stub >> 16), static_cast<uint32_t>(stub >> 32), 0};
    }

    const DescriptorPointer gdtr{sizeof(gdt) - 1, reinterpret_cast<uint64_t>(gdt)};
    const DescriptorPointer idtr{sizeof(idt) - 1, reinterpret_cast<uint64_t>(idt)};
    // Reload cs with a far return, then the data segments and the task register.
    asm volatile("lgdt %[gdtr]\n\t"
                 "pushq %[cs]\n\t"
                 "leaq 1f(%%rip), %%rax\n\t"
                 "pushq %%rax\n\t"
                 "lretq\n"
                 "1:\n\t"
                 "movl %[ds], %%eax\n\t"
                 "mov %%eax, %%ds\n\t"
                 "mov %%eax, %%es\n\t"
                 "mov %%eax, %%ss\n\t"
                 "ltr %w[tr]\n\t"
                 "lidt %[idtr]"
                 :
                 : [gdtr] "m"(gdtr), [idtr] "m"(idtr), [cs] "i"(kernel_cs), [ds] "i"(kernel_ds),
                   [tr] "r"(tss_selector)
                 : "rax", "memory");
}

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
    if (!xen::install_hypercall_page(xen::PhysAddr{reinterpret_cast<uint64_t>(xen_hypercall_page)}))
        __builtin_trap();

    const auto* start = reinterpret_cast<const xen::abi::hvm_start_info*>(uint64_t{start_info_paddr});
    if (start->magic != xen::abi::hvm_start_magic) {
        console::print("Bail out! hvm_start_info has a bad magic number\n");
        machine_crash();
    }

    load_descriptor_tables();
    xen::abi::shared_info* shared = map_shared_info();
    events::init(shared, GuestType::pvh);
    set_upcall_vector();
    events::enable();

    const char* cmdline = start->cmdline_paddr != 0 ? reinterpret_cast<const char*>(start->cmdline_paddr) : "";
    const BootInfo boot{GuestType::pvh, cmdline, shared, start_info_paddr, 0};
    kernel_main(boot);
}

} // namespace mk
