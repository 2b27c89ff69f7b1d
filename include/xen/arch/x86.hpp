/// \file
/// The per-architecture corner: the few x86-64 instructions the library needs,
/// as inline functions. Everything else is portable C++ that also builds on
/// the host. (On the host, cpuid and rdtsc work in user space; the MSR
/// accessors are only ever called by target code.)
#pragma once

#include <cstdint>

/// The x86-64 instructions the library needs (cpuid, rdtsc, MSRs, pause,
/// fences), as inline functions.
namespace xen::arch {

/// The four registers one cpuid leaf returns.
struct CpuidResult {
    ///@{
    uint32_t eax, ebx, ecx, edx; ///< as the instruction leaves them
    ///@}
};

/// Execute cpuid for `leaf` (and `subleaf`, in ecx).
inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0) noexcept
{
    CpuidResult r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

/// Architectural MSRs a 64-bit kernel on Xen writes itself (HVM/PVH; a PV
/// kernel may not: it asks Xen, e.g. hc::set_segment_base). Numbers from
/// the Intel SDM vol. 4 (the IA32_ names), the same on AMD.
enum class Msr : uint32_t {
    efer = 0xc0000080,           ///< IA32_EFER: LME/LMA, NXE, SCE
    star = 0xc0000081,           ///< IA32_STAR: syscall/sysret segment selectors
    lstar = 0xc0000082,          ///< IA32_LSTAR: 64-bit syscall entry
    cstar = 0xc0000083,          ///< compatibility-mode syscall entry (AMD)
    fmask = 0xc0000084,          ///< IA32_FMASK: RFLAGS bits syscall clears
    fs_base = 0xc0000100,        ///< IA32_FS_BASE
    gs_base = 0xc0000101,        ///< IA32_GS_BASE: the live GS base
    kernel_gs_base = 0xc0000102, ///< IA32_KERNEL_GS_BASE: what swapgs swaps in
};

/// Write a model-specific register (ring 0 only: a PV kernel faults).
inline void wrmsr(uint32_t msr, uint64_t value) noexcept
{
    asm volatile("wrmsr" ::"c"(msr), "a"(static_cast<uint32_t>(value)), "d"(static_cast<uint32_t>(value >> 32))
                 : "memory");
}

/// Read a model-specific register (ring 0 only: a PV kernel faults).
inline uint64_t rdmsr(uint32_t msr) noexcept
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t{hi} << 32) | lo;
}

/// wrmsr of a named MSR.
inline void wrmsr(Msr msr, uint64_t value) noexcept { wrmsr(static_cast<uint32_t>(msr), value); }

/// rdmsr of a named MSR.
inline uint64_t rdmsr(Msr msr) noexcept { return rdmsr(static_cast<uint32_t>(msr)); }

/// Plain rdtsc: may execute before earlier loads complete.
inline uint64_t rdtsc() noexcept
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t{hi} << 32) | lo;
}

/// rdtsc ordered after every earlier instruction (lfence; rdtsc): what a
/// pvclock read needs so the TSC is not sampled before the record is read.
inline uint64_t rdtsc_ordered() noexcept
{
    uint32_t lo, hi;
    asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return (uint64_t{hi} << 32) | lo;
}

/// lfence: later instructions (loads, rdtsc) start only after every earlier
/// one has completed, so a TSC value read before it precedes later loads.
inline void load_fence() noexcept { asm volatile("lfence" ::: "memory"); }

/// `p`, made to depend on the value `v` (p + v - v in two instructions the
/// CPU cannot shortcut): a load through the result cannot execute before
/// `v` exists. Orders one load after, say, an rdtsc without lfence's cost
/// of stopping every later instruction.
template <class T>
inline T* after_value(T* p, uint64_t v) noexcept
{
    asm volatile("add %1, %0\n\tsub %1, %0" : "+r"(p) : "r"(v) : "cc", "memory");
    return p;
}

/// Spin-wait hint.
inline void cpu_relax() noexcept { asm volatile("pause" ::: "memory"); }

/// Compiler-only barrier (x86 is TSO: loads are not reordered with loads).
inline void compiler_barrier() noexcept { asm volatile("" ::: "memory"); }

} // namespace xen::arch
