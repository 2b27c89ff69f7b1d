// Traps: the frame every entry stub in traps.S builds, and what happens to
// a trap. Expected traps (a scenario's int3) go to a hook; event upcalls go
// to the event dispatcher; anything else is reported and ends the machine.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mk {

/// The registers as traps.S saves them (low to high address). The last five
/// words are the hardware-shaped iret frame; on PV the cs word also carries
/// Xen's saved event mask in bits 32-39.
struct TrapFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;     ///< 0-255 CPU vector, or pv_event_vector / pv_failsafe_vector
    uint64_t error_code; ///< 0 for vectors without one
    uint64_t rip, cs, rflags, rsp, ss;
};
static_assert(offsetof(TrapFrame, vector) == 15 * 8);
static_assert(offsetof(TrapFrame, rip) == 17 * 8);
static_assert(sizeof(TrapFrame) == 22 * 8, "traps.S pushes exactly these 22 words");

/// Pseudo-vectors for the PV callbacks (traps.S uses the same numbers).
inline constexpr uint64_t pv_event_vector = 256;
inline constexpr uint64_t pv_failsafe_vector = 257;

/// The IDT vector Xen injects for event upcalls on PVH
/// (HVM_PARAM_CALLBACK_IRQ, callback type "vector").
inline constexpr uint8_t pvh_upcall_vector = 0xf3;

/// A handler for an expected exception: return true if the trap was handled
/// and execution resumes at frame.rip.
using TrapHook = bool (*)(TrapFrame& frame) noexcept;

/// Install (or with nullptr remove) the hook for CPU exception `vector` (< 32).
void set_trap_hook(uint8_t vector, TrapHook hook) noexcept;

/// Where the stubs in traps.S come in (extern "C" for the assembly).
extern "C" void trap_dispatch(TrapFrame* frame) noexcept;

// The stub tables in traps.S.
extern "C" char pvh_trap_stubs[];       ///< 256 stubs of 16 bytes
extern "C" char pv_trap_stubs[];        ///< 32 stubs of 32 bytes
extern "C" char pv_event_callback[];    ///< CALLBACKTYPE_event entry
extern "C" char pv_failsafe_callback[]; ///< CALLBACKTYPE_failsafe entry
inline constexpr size_t pvh_stub_size = 16;
inline constexpr size_t pv_stub_size = 32;

} // namespace mk
