// PVH: the descriptor tables every CPU loads for itself - a GDT and a TSS
// of its own (with an IST stack for NMI and #DF), and the IDT all share.
// Xen starts a PVH AP (vcpu_hvm_context, 64-bit mode) with flat segments
// but no GDTR, IDTR or TR, so this is the first thing its entry does.
#pragma once

#include "percpu.hpp"

namespace mk {

/// The selectors of every CPU's GDT (the boot GDT in entry_pvh.S has the
/// same code and data selectors).
inline constexpr uint16_t kernel_cs = 0x08;
inline constexpr uint16_t kernel_ds = 0x10;
inline constexpr uint16_t tss_selector = 0x18;

/// Fill the shared IDT (256 interrupt gates into traps.S). Boot CPU, once.
void build_idt() noexcept;

/// Build `pc`'s GDT and TSS (IST 1 = `ist_top`) and load GDTR, the segment
/// registers, TR and IDTR on the calling CPU.
void load_cpu_tables(smp::PerCpu& pc, char* ist_top) noexcept;

} // namespace mk
