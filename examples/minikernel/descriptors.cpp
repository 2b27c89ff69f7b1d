#include "descriptors.hpp"

#include "traps.hpp"

namespace mk {

namespace {

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

alignas(16) IdtGate idt[256];

struct [[gnu::packed]] DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};

} // namespace

void build_idt() noexcept
{
    for (unsigned v = 0; v < 256; ++v) {
        const uint64_t stub = reinterpret_cast<uint64_t>(pvh_trap_stubs + v * pvh_stub_size);
        const bool own_stack = v == 2 || v == 8; // NMI, #DF: they may hit on a broken stack
        idt[v] = IdtGate{static_cast<uint16_t>(stub),
                         kernel_cs,
                         static_cast<uint8_t>(own_stack ? 1 : 0),
                         0x8e, // present, DPL 0, 64-bit interrupt gate (clears IF)
                         static_cast<uint16_t>(stub >> 16),
                         static_cast<uint32_t>(stub >> 32),
                         0};
    }
}

void load_cpu_tables(smp::PerCpu& pc, char* ist_top) noexcept
{
    smp::Tss64& tss = pc.tss;
    const uint64_t tss_base = reinterpret_cast<uint64_t>(&tss);
    const uint64_t tss_limit = sizeof(tss) - 1;
    tss.ist[0] = reinterpret_cast<uint64_t>(ist_top);
    tss.iomap_base = sizeof(tss); // no I/O bitmap

    uint64_t* gdt = pc.gdt;
    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffff; // 64-bit code, DPL 0
    gdt[2] = 0x00cf92000000ffff; // data, DPL 0
    // A 16-byte system descriptor: type 9 (available 64-bit TSS), present.
    gdt[3] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) | (uint64_t{0x89} << 40) |
             (((tss_limit >> 16) & 0xf) << 48) | (((tss_base >> 24) & 0xff) << 56);
    gdt[4] = tss_base >> 32;

    const DescriptorPointer gdtr{sizeof(pc.gdt) - 1, reinterpret_cast<uint64_t>(gdt)};
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
                 : [gdtr] "m"(gdtr), [idtr] "m"(idtr), [cs] "i"(kernel_cs), [ds] "i"(kernel_ds), [tr] "r"(tss_selector)
                 : "rax", "memory");
}

} // namespace mk
