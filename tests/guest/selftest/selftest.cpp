// The scenarios the boot harness uses to test itself: one that passes, one
// that fails, one that never finishes, one that takes an unexpected page
// fault (all but selftest run only when named in tests=).
#include <xen/arch/x86.hpp>

#include "framework/test.hpp"

namespace mk {

void run_selftest(Tap& tap, const Context& context) noexcept
{
    tap.result(true, "selftest", "minikernel up as ", guest_type_name(context.boot.type), " dom0 on Xen ",
               context.version.major, ".", context.version.minor);
}

void run_broken(Tap& tap, const Context&) noexcept
{
    tap.result(false, "broken", "fails on purpose (asked for with tests=broken)");
}

void run_hang(Tap& tap, const Context&) noexcept
{
    tap.comment("hang: spinning forever on purpose (asked for with tests=hang)");
    for (;;)
        xen::arch::cpu_relax();
}

void run_crash(Tap& tap, const Context&) noexcept
{
    // Page 0 is unmapped on purpose (boot_pv.cpp, entry_pvh.S): a null
    // pointer read must page-fault, be reported and crash dom0. The pointer
    // is laundered through asm so the compiler cannot see it is null.
    tap.comment("crash: reading through a null pointer on purpose (asked for with tests=crash)");
    const volatile uint64_t* null_pointer = nullptr;
    asm volatile("" : "+r"(null_pointer));
    (void)*null_pointer;
    tap.result(false, "crash", "reading through a null pointer did not fault");
}

namespace guest_tests {

// Passes anywhere.
extern const Test selftest_test{
    .name = "selftest",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_selftest,
};

// The harness's probes run anywhere, only when named.
extern const Test broken_test{
    .name = "broken",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_broken,
};

extern const Test hang_test{
    .name = "hang",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_hang,
};

extern const Test crash_test{
    .name = "crash",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_crash,
};

} // namespace guest_tests

} // namespace mk
