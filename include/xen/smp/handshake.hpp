/// \file
/// The bring-up handshake: one small struct per AP, shared by the boot vCPU
/// (the controller), the AP's first instructions (assembly) and the AP's
/// kernel code. Fixed layout: the assembly reads it by offset, so every
/// offset it uses is a named constant here and static_asserted.
///
/// The controller writes the launch fields (vcpu, stack_top, entry, arg)
/// before VCPUOP_initialise and never while the AP may read them. The AP
/// writes `stage` and, at every check-in, `online_ns` then `generation`
/// (release); the controller polls `generation` / `stage` (acquire). Stage
/// and generation are single aligned 32-bit words: a reader on another vCPU
/// sees each whole, never torn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace xen {

/// How far an AP has come, as it reports it itself. Stored as a uint32_t.
enum class ApStage : uint32_t {
    idle = 0,    ///< not started yet (or the controller reset it for a start)
    entered = 1, ///< its first instruction ran: the entry stub wrote this
    online = 2,  ///< its kernel setup is done and it serves calls (check-in)
    parked = 3,  ///< it is about to take itself down with VCPUOP_down
};

/// The AP's kernel entry, which the stub calls with the handshake: it sets
/// the CPU up (PVH: GDT, IDT and TR first) and checks in. Never returns.
using ApEntryFn = void (*)(struct ApHandshake& hs) noexcept;

/// One AP's handshake. 64 bytes, 64-byte aligned: one cache line, so the
/// polling controller and the AP share nothing else.
struct alignas(64) ApHandshake {
    uint32_t stage;      ///< ApStage; written by the AP (stub, then kernel)
    uint32_t generation; ///< check-ins so far: 1 after bring-up, +1 per resume
    uint32_t reserved0;  ///< zero
    uint32_t vcpu;       ///< Xen's vcpu_id (controller)
    uint64_t stack_top;  ///< initial rsp, 16-byte aligned (controller)
    uint64_t entry;      ///< ApEntryFn the stub calls (controller)
    uint64_t arg;        ///< kernel data for the entry, e.g. its per-CPU block (controller)
    uint64_t start_ns;   ///< Xen system time just before VCPUOP_initialise (PVH parallel: before its batch's multicall)
    uint64_t online_ns;  ///< Xen system time of the last check-in, by the AP's own clock (AP)
    uint64_t reserved;   ///< zero
};

// The offsets the entry stub uses: keep the assembly's numbers in step.
// (Byte offsets into ApHandshake, for entry code in assembly, which cannot
// use offsetof; static_assert below keeps them true.)
inline constexpr size_t ap_handshake_stage_offset = 0;      ///< ApHandshake::stage
inline constexpr size_t ap_handshake_generation_offset = 4; ///< ApHandshake::generation
inline constexpr size_t ap_handshake_stack_top_offset = 16; ///< ApHandshake::stack_top
inline constexpr size_t ap_handshake_entry_offset = 24;     ///< ApHandshake::entry
inline constexpr size_t ap_handshake_arg_offset = 32;       ///< ApHandshake::arg
inline constexpr size_t ap_handshake_size = 64;             ///< sizeof(ApHandshake)

static_assert(sizeof(ApHandshake) == ap_handshake_size);
static_assert(alignof(ApHandshake) == 64);
static_assert(offsetof(ApHandshake, stage) == ap_handshake_stage_offset);
static_assert(offsetof(ApHandshake, generation) == ap_handshake_generation_offset);
static_assert(offsetof(ApHandshake, reserved0) == 8);
static_assert(offsetof(ApHandshake, vcpu) == 12);
static_assert(offsetof(ApHandshake, stack_top) == ap_handshake_stack_top_offset);
static_assert(offsetof(ApHandshake, entry) == ap_handshake_entry_offset);
static_assert(offsetof(ApHandshake, arg) == ap_handshake_arg_offset);
static_assert(offsetof(ApHandshake, start_ns) == 40);
static_assert(offsetof(ApHandshake, online_ns) == 48);
static_assert(std::is_standard_layout_v<ApHandshake> && std::is_trivially_copyable_v<ApHandshake>);

/// The AP's stage, as the controller reads it (acquire).
inline ApStage ap_stage(const ApHandshake& hs) noexcept
{
    return static_cast<ApStage>(__atomic_load_n(&hs.stage, __ATOMIC_ACQUIRE));
}

/// Check-ins so far, as the controller reads them (acquire: online_ns,
/// written before, is visible once the new generation is).
inline uint32_t ap_generation(const ApHandshake& hs) noexcept
{
    return __atomic_load_n(&hs.generation, __ATOMIC_ACQUIRE);
}

/// On the AP: record `stage` (release).
inline void ap_set_stage(ApHandshake& hs, ApStage stage) noexcept
{
    __atomic_store_n(&hs.stage, static_cast<uint32_t>(stage), __ATOMIC_RELEASE);
}

} // namespace xen
