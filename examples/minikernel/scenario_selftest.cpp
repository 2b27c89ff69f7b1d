// The scenarios the boot harness uses to test itself: one that passes, one
// that fails, one that never finishes, one that takes an unexpected page
// fault (all but selftest run only when named in tests=).
#include <xen/arch/x86.hpp>

#include "scenarios.hpp"

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
    // The identity map (PVH) and Xen's initial mapping (PV) both end below
    // 1 GiB: reading there must page-fault, be reported and crash dom0.
    tap.comment("crash: reading unmapped memory on purpose (asked for with tests=crash)");
    const auto* unmapped = reinterpret_cast<volatile const uint64_t*>(uint64_t{1} << 30);
    (void)*unmapped;
    tap.result(false, "crash", "reading unmapped memory did not fault");
}

} // namespace mk
