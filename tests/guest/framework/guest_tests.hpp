// The in-guest tests as the kernel sees them: what it hands them, and the
// one call that runs them. A kernel that wants no tests leaves both out.
#pragma once

#include <cstdint>
#include <xen/hypercall/xen_version.hpp>

#include "cmdline.hpp"
#include "kernel.hpp"

namespace mk {

/// What a test may look at.
struct Context {
    const BootInfo& boot;
    const Cmdline& cmdline;      ///< test knobs, e.g. `timers=1000`
    xen::hc::XenVersion version; ///< the Xen we run on
    uint32_t features;           ///< XENFEAT submap 0
};

} // namespace mk

namespace mk::guest_tests {

/// Run the tests the command line selects (`tests=a,b,c`; without it, every
/// test that runs by default) and report them as a TAP stream on the
/// console, its plan last. Call once, on CPU 0, in thread context, after the
/// console works; it returns when every selected test has returned.
void run_all(const Context& context) noexcept;

} // namespace mk::guest_tests
