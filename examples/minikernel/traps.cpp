#include "traps.hpp"

#include "console.hpp"
#include "events.hpp"
#include "kernel.hpp"
#include "smp.hpp"

namespace mk {

namespace {

TrapHook hooks[32] = {};

const char* const exception_names[32] = {
    "#DE",  "#DB",  "NMI",  "#BP",  "#OF",  "#BR",  "#UD", "#NM", "#DF", "#MF(old)", "#TS",
    "#NP",  "#SS",  "#GP",  "#PF",  "(15)", "#MF",  "#AC", "#MC", "#XM", "#VE",      "#CP",
    "(22)", "(23)", "(24)", "(25)", "(26)", "(27)", "#HV", "#VC", "#SX", "(31)",
};

// The faulting address of the last #PF. PV cannot read %cr2 (ring 3): Xen
// copies it into the vCPU's own vcpu_info.arch.cr2 before bouncing the
// fault to us.
uint64_t fault_address() noexcept
{
    if (guest_type() == GuestType::pv)
        return events::shared_info() != nullptr ? smp::this_vcpu_info().arch.cr2 : 0;
    uint64_t cr2;
    asm volatile("mov %%cr2, %0" : "=r"(cr2));
    return cr2;
}

[[noreturn]] void report_fatal(const TrapFrame& f) noexcept
{
    using console::Hex;
    console::print("\n"); // finish any half-written line
    if (f.vector == pv_failsafe_vector) {
        console::print("Bail out! failsafe callback: Xen could not return to rip ", Hex{f.rip}, "\n");
    } else {
        const char* name = f.vector < 32 ? exception_names[f.vector] : "interrupt";
        console::print("Bail out! unexpected exception: vector ", f.vector, " ", name, " rip ", Hex{f.rip},
                       " error code ", Hex{f.error_code});
        if (f.vector == 14)
            console::print(" address ", Hex{fault_address()});
        console::print("\n");
    }
    console::print("# rax ", Hex{f.rax}, " rbx ", Hex{f.rbx}, " rcx ", Hex{f.rcx}, " rdx ", Hex{f.rdx}, "\n");
    console::print("# rsi ", Hex{f.rsi}, " rdi ", Hex{f.rdi}, " rbp ", Hex{f.rbp}, " rsp ", Hex{f.rsp}, "\n");
    console::print("# cs ", Hex{f.cs & 0xffff}, " ss ", Hex{f.ss}, " rflags ", Hex{f.rflags}, " on vCPU ",
                   smp::this_vcpu().value, "\n");
    machine_crash();
}

} // namespace

void set_trap_hook(uint8_t vector, TrapHook hook) noexcept
{
    if (vector < 32)
        hooks[vector] = hook;
}

extern "C" void trap_dispatch(TrapFrame* frame) noexcept
{
    const bool upcall = guest_type() == GuestType::pv ? frame->vector == pv_event_vector
                                                      : frame->vector == pvh_upcall_vector;
    if (upcall) {
        events::upcall();
        return;
    }
    if (frame->vector < 32 && hooks[frame->vector] != nullptr && hooks[frame->vector](*frame))
        return;
    report_fatal(*frame);
}

} // namespace mk
