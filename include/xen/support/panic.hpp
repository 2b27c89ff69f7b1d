// The two global sinks the kernel provides: a log line and a panic. They are
// resolved at link time (the only link-time seam in the library): a kernel
// defines these extern "C" functions once; the host build's test support
// defines them for the tests.
#pragma once

#include <xen/support/errc.hpp>

extern "C" {
/// Kernel hook: write `len` bytes of text (no terminating newline added).
/// Must be safe to call from any vCPU; may drop output. Never fails.
void xenvcpu_log(const char* text, unsigned long len) noexcept;

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
#define XEN_ASSERT(cond)                                                                 \
    do {                                                                                 \
        if (!(cond))                                                                     \
            xenvcpu_panic("xenvcpu: assertion failed: " #cond " at " __FILE__);         \
    } while (0)
