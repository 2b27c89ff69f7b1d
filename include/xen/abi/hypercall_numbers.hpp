/// \file
/// Hypercall numbers (Xen public xen.h, `__HYPERVISOR_*`). Each hypercall-page
/// entry is 32 bytes long: entry N sits at page offset N * 32.
#pragma once

#include <cstdint>

namespace xen::abi {

/// The hypercalls this library uses (a curated subset, XTF-style).
enum class hypercall : uint32_t {
    set_trap_table = 0,
    mmu_update = 1,
    set_gdt = 2,
    stack_switch = 3,
    set_callbacks = 4,
    fpu_taskswitch = 5,
    platform_op = 7,
    memory_op = 12,
    multicall = 13,
    update_va_mapping = 14,
    set_timer_op = 15,
    xen_version = 17,
    console_io = 18,
    grant_table_op = 20,
    vm_assist = 21,
    iret = 23,
    vcpu_op = 24,
    set_segment_base = 25,
    mmuext_op = 26,
    nmi_op = 28,
    sched_op = 29,
    callback_op = 30,
    event_channel_op = 32,
    physdev_op = 33,
    hvm_op = 34,
};

/// Size of one hypercall-page entry ("call hypercall_page + nr * 32").
inline constexpr uint32_t hypercall_entry_size = 32;

/// Offset of a hypercall's entry in the hypercall page.
constexpr uint32_t hypercall_page_offset(hypercall h) noexcept
{
    return static_cast<uint32_t>(h) * hypercall_entry_size;
}

/// `DOMID_SELF` (xen.h): "the calling domain" in domain-id arguments.
inline constexpr uint16_t domid_self = 0x7ff0;

} // namespace xen::abi
