// The scenarios the boot harness uses to test itself: one that passes, one
// that fails, one that never finishes (only run when named in tests=).
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

} // namespace mk
