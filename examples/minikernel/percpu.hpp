// Per-CPU data: one PerCpu block per CPU, found through the GS base
// (%gs:0 holds the block's own address). PV: the boot vCPU sets its kernel
// GS base with set_segment_base, and Xen loads each AP's from its initial
// context (gs_base_kernel). PVH: every CPU writes MSR_GS_BASE itself.
// Kernel-internal; tests use smp.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/abi/guest_context.hpp>
#include <xen/abi/shared_info.hpp>

#include "smp.hpp"

namespace mk::smp {

/// The 64-bit TSS (Intel SDM vol. 3, "Task-State Segment in 64-bit mode").
/// Its 64-bit fields sit at 4-byte offsets, hence packed.
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

/// One CPU's block.
struct alignas(64) PerCpu {
    PerCpu* self;  ///< %gs:0
    uint32_t vcpu; ///< %gs:8, Xen's vcpu_id
    uint32_t reserved;
    xen::abi::vcpu_info* vcpu_info; ///< %gs:16, the one Xen uses for this vCPU
    uint64_t upcalls;               ///< event upcalls taken on this vCPU
    // The console's line buffer (console.cpp): one per CPU, so lines from
    // different CPUs never mix.
    uint32_t line_used;
    char line[256];
    // PVH: this CPU's GDT (null, code, data, 16-byte TSS descriptor) and TSS.
    // Each CPU needs its own TSS: ltr marks the descriptor busy.
    alignas(16) uint64_t gdt[5];
    alignas(16) Tss64 tss;
};
static_assert(offsetof(PerCpu, vcpu) == 8 && offsetof(PerCpu, vcpu_info) == 16);

/// vCPU `v`'s block (`v` below max_vcpus).
PerCpu& percpu(xen::VcpuId v) noexcept;

/// True once the boot CPU's GS base points at its block.
bool percpu_ready() noexcept;

/// The calling CPU's block (only once percpu_ready()).
inline PerCpu& this_percpu() noexcept
{
    PerCpu* p;
    asm volatile("movq %%gs:0, %0" : "=r"(p));
    return *p;
}

/// Boot CPU, first thing: fill CPU 0's block and point the GS base at it
/// (PV: set_segment_base(SEGBASE_GS_KERNEL); PVH: MSR_GS_BASE).
void init_boot_cpu(xen::abi::vcpu_info* vcpu_info) noexcept;

/// PV boot: what every PV AP starts with (boot_pv.cpp knows it).
void set_pv_boot(uint64_t cr3, const xen::abi::trap_info* traps) noexcept;

/// The AP entry stub (entry_ap.S).
extern "C" char ap_entry_stub[];

} // namespace mk::smp
