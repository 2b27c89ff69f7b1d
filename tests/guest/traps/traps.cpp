// traps: an int3 reaches our handler and execution resumes after it. On PV
// this goes through the virtual IDT (set_trap_table), Xen's bounce frame and
// the iret hypercall; on PVH through the real IDT and iretq.
#include "traps.hpp"
#include "framework/test.hpp"

namespace mk {

namespace {

volatile uint64_t breakpoint_hits = 0;
volatile uint64_t breakpoint_rip = 0;

bool on_breakpoint(TrapFrame& frame) noexcept
{
    breakpoint_hits = breakpoint_hits + 1;
    breakpoint_rip = frame.rip; // #BP is a trap: rip is already past the int3
    return true;
}

} // namespace

void run_traps(Tap& tap, const Context&) noexcept
{
    constexpr uint8_t breakpoint_vector = 3;
    set_trap_hook(breakpoint_vector, on_breakpoint);
    uint64_t after = 0;
    asm volatile("int3\n\t"
                 "1: leaq 1b(%%rip), %0"
                 : "=r"(after)
                 :
                 : "memory");
    set_trap_hook(breakpoint_vector, nullptr);

    tap.result(breakpoint_hits == 1 && breakpoint_rip == after, "traps",
               "int3 reaches the handler and returns to the next instruction");
}

namespace guest_tests {

// Anywhere: the boot vCPU alone.
extern const Test traps_test{
    .name = "traps",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_traps,
};

} // namespace guest_tests

} // namespace mk
