/// \file
/// The one global sink the kernel provides at link time: a panic. It is the
/// only link-time seam in the library: Result::value() and XEN_ASSERT must
/// be able to stop the kernel from code that has no Domain at hand (every
/// other kernel hook is in KernelHooks, xen/kernel_hooks.hpp, including the
/// optional log). A kernel defines this extern "C" function once; the host
/// build's test support defines it for the tests.
#pragma once

#include <xen/support/errc.hpp>

extern "C" {
/// Kernel hook: an invariant the library relies on is broken (a bug, never a
/// recoverable error). Must not return.
[[noreturn]] void xenvcpu_panic(const char* message) noexcept;
}

namespace xen {

/// Called by Result::value() on an error: a programming error.
[[noreturn]] inline void panic_bad_result_access(Errc e) noexcept
{
    (void)e;
    xenvcpu_panic("xenvcpu: value() on a Result holding an error");
}

} // namespace xen

/// Check an invariant; panics through the kernel hook when it does not hold.
#define XEN_ASSERT(cond)                                                        \
    do {                                                                        \
        if (!(cond))                                                            \
            xenvcpu_panic("xenvcpu: assertion failed: " #cond " at " __FILE__); \
    } while (0)
