/// \file
/// The hypercall transport: the one seam between the library and Xen.
///
/// Target build (freestanding x86-64): a hypercall is a direct `call` into the
/// hypercall page at `nr * 32`, arguments in rdi, rsi, rdx, r10, r8 and the
/// result in rax. The page is `xenvcpu_hypercall_page` (src/hypercall/page.S);
/// Xen fills it (PV: XEN_ELFNOTE_HYPERCALL_PAGE; PVH: install_hypercall_page()).
///
/// Host build (XENVCPU_HOST defined by the build): every hypercall goes to the
/// simulated hypervisor in tests/sim through `host_hypercall`.
///
/// This is a build-selected facade, chosen once for the whole library: the
/// target pays nothing (each wrapper inlines to register loads and one call),
/// and the host tests swap Xen for the simulator without templates spreading
/// through every layer.
#pragma once

#include <cstdint>
#include <xen/abi/hypercall_numbers.hpp>

#if defined(XENVCPU_HOST)

namespace xen::transport {

/// Host only: answered by the simulator linked into the test binary.
long host_hypercall(abi::hypercall nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5) noexcept;

template <abi::hypercall Nr>
inline long hypercall1(uint64_t a1) noexcept
{
    return host_hypercall(Nr, a1, 0, 0, 0, 0);
}
template <abi::hypercall Nr>
inline long hypercall2(uint64_t a1, uint64_t a2) noexcept
{
    return host_hypercall(Nr, a1, a2, 0, 0, 0);
}
template <abi::hypercall Nr>
inline long hypercall3(uint64_t a1, uint64_t a2, uint64_t a3) noexcept
{
    return host_hypercall(Nr, a1, a2, a3, 0, 0);
}
template <abi::hypercall Nr>
inline long hypercall4(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) noexcept
{
    return host_hypercall(Nr, a1, a2, a3, a4, 0);
}

} // namespace xen::transport

#else // target

extern "C" {
/// The 4 KiB hypercall page, 4 KiB aligned, in the library's text.
extern char xenvcpu_hypercall_page[4096];
}

namespace xen::transport {

// Xen may clobber every argument register (debug builds poison unused ones),
// so all five are outputs or clobbers in every arity. The PV stub preserves
// rcx/r11 around `syscall`, but nothing promises it: we let the compiler
// assume both are lost.
/// \cond INTERNAL
#define XENVCPU_HC_CALL "call xenvcpu_hypercall_page + %c[off]"
/// \endcond

/// Hypercall `Nr` with one argument (rdi); Xen's return value (rax), a
/// negative errno on failure.
template <abi::hypercall Nr>
inline long hypercall1(uint64_t a1) noexcept
{
    long ret;
    asm volatile(XENVCPU_HC_CALL
                 : "=a"(ret), "+D"(a1)
                 : [off] "i"(abi::hypercall_page_offset(Nr))
                 : "memory", "cc", "rsi", "rdx", "r10", "r8", "rcx", "r11");
    return ret;
}

/// Hypercall `Nr` with two arguments (rdi, rsi); Xen's return value.
template <abi::hypercall Nr>
inline long hypercall2(uint64_t a1, uint64_t a2) noexcept
{
    long ret;
    asm volatile(XENVCPU_HC_CALL
                 : "=a"(ret), "+D"(a1), "+S"(a2)
                 : [off] "i"(abi::hypercall_page_offset(Nr))
                 : "memory", "cc", "rdx", "r10", "r8", "rcx", "r11");
    return ret;
}

/// Hypercall `Nr` with three arguments (rdi, rsi, rdx); Xen's return value.
template <abi::hypercall Nr>
inline long hypercall3(uint64_t a1, uint64_t a2, uint64_t a3) noexcept
{
    long ret;
    asm volatile(XENVCPU_HC_CALL
                 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3)
                 : [off] "i"(abi::hypercall_page_offset(Nr))
                 : "memory", "cc", "r10", "r8", "rcx", "r11");
    return ret;
}

/// Hypercall `Nr` with four arguments (rdi, rsi, rdx, r10); Xen's return value.
template <abi::hypercall Nr>
inline long hypercall4(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) noexcept
{
    long ret;
    register uint64_t r10 asm("r10") = a4;
    asm volatile(XENVCPU_HC_CALL
                 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10)
                 : [off] "i"(abi::hypercall_page_offset(Nr))
                 : "memory", "cc", "r8", "rcx", "r11");
    return ret;
}

#undef XENVCPU_HC_CALL

} // namespace xen::transport

#endif

/// The raw hypercall calls (`hypercall1<Nr>` ... `hypercall4<Nr>`) that
/// every wrapper in xen::hc goes through; the build chooses the hypercall
/// page (target) or the simulator (host).
namespace xen::transport {

/// Pointer argument as Xen's register value.
template <class T>
inline uint64_t arg(T* p) noexcept
{
    return reinterpret_cast<uintptr_t>(p);
}

} // namespace xen::transport
