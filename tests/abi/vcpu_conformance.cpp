// Conformance: hypercall numbers (xen.h) and VCPUOP (vcpu.h).
#include "xen_public.hpp"

#include "check.hpp"

ABI_AREA_BEGIN(hypercall)

ABI_CONST(xa::hypercall::set_trap_table, __HYPERVISOR_set_trap_table);
ABI_CONST(xa::hypercall::mmu_update, __HYPERVISOR_mmu_update);
ABI_CONST(xa::hypercall::set_gdt, __HYPERVISOR_set_gdt);
ABI_CONST(xa::hypercall::stack_switch, __HYPERVISOR_stack_switch);
ABI_CONST(xa::hypercall::set_callbacks, __HYPERVISOR_set_callbacks);
ABI_CONST(xa::hypercall::fpu_taskswitch, __HYPERVISOR_fpu_taskswitch);
ABI_CONST(xa::hypercall::platform_op, __HYPERVISOR_platform_op);
ABI_CONST(xa::hypercall::memory_op, __HYPERVISOR_memory_op);
ABI_CONST(xa::hypercall::multicall, __HYPERVISOR_multicall);
ABI_CONST(xa::hypercall::update_va_mapping, __HYPERVISOR_update_va_mapping);
ABI_CONST(xa::hypercall::set_timer_op, __HYPERVISOR_set_timer_op);
ABI_CONST(xa::hypercall::xen_version, __HYPERVISOR_xen_version);
ABI_CONST(xa::hypercall::console_io, __HYPERVISOR_console_io);
ABI_CONST(xa::hypercall::grant_table_op, __HYPERVISOR_grant_table_op);
ABI_CONST(xa::hypercall::vm_assist, __HYPERVISOR_vm_assist);
ABI_CONST(xa::hypercall::iret, __HYPERVISOR_iret);
ABI_CONST(xa::hypercall::vcpu_op, __HYPERVISOR_vcpu_op);
ABI_CONST(xa::hypercall::set_segment_base, __HYPERVISOR_set_segment_base);
ABI_CONST(xa::hypercall::mmuext_op, __HYPERVISOR_mmuext_op);
ABI_CONST(xa::hypercall::nmi_op, __HYPERVISOR_nmi_op);
ABI_CONST(xa::hypercall::sched_op, __HYPERVISOR_sched_op);
ABI_CONST(xa::hypercall::callback_op, __HYPERVISOR_callback_op);
ABI_CONST(xa::hypercall::event_channel_op, __HYPERVISOR_event_channel_op);
ABI_CONST(xa::hypercall::physdev_op, __HYPERVISOR_physdev_op);
ABI_CONST(xa::hypercall::hvm_op, __HYPERVISOR_hvm_op);
ABI_CONST(xa::domid_self, DOMID_SELF);

// HYPERVISOR_multicall's batch entry (xen.h).
ABI_TYPE(xa::multicall_entry, multicall_entry_t);
ABI_SAME_FIELD(xa::multicall_entry, multicall_entry_t, op);
ABI_SAME_FIELD(xa::multicall_entry, multicall_entry_t, result);
ABI_SAME_FIELD(xa::multicall_entry, multicall_entry_t, args);

ABI_NOT_IN_XEN_HEADERS(xa::hypercall_entry_size,
                       "32-byte page entries: Xen's x86 hypercall page layout (hypercall_page_initialise)");
ABI_NOT_IN_XEN_HEADERS(xa::hypercall_page_offset, "library helper over hypercall_entry_size");

ABI_AREA_END(hypercall)

ABI_AREA_BEGIN(vcpu)

ABI_CONST(xa::vcpuop::initialise, VCPUOP_initialise);
ABI_CONST(xa::vcpuop::up, VCPUOP_up);
ABI_CONST(xa::vcpuop::down, VCPUOP_down);
ABI_CONST(xa::vcpuop::is_up, VCPUOP_is_up);
ABI_CONST(xa::vcpuop::get_runstate_info, VCPUOP_get_runstate_info);
ABI_CONST(xa::vcpuop::register_runstate_memory_area, VCPUOP_register_runstate_memory_area);
ABI_CONST(xa::vcpuop::set_periodic_timer, VCPUOP_set_periodic_timer);
ABI_CONST(xa::vcpuop::stop_periodic_timer, VCPUOP_stop_periodic_timer);
ABI_CONST(xa::vcpuop::set_singleshot_timer, VCPUOP_set_singleshot_timer);
ABI_CONST(xa::vcpuop::stop_singleshot_timer, VCPUOP_stop_singleshot_timer);
ABI_CONST(xa::vcpuop::register_vcpu_info, VCPUOP_register_vcpu_info);
ABI_CONST(xa::vcpuop::send_nmi, VCPUOP_send_nmi);
ABI_CONST(xa::vcpuop::get_physid, VCPUOP_get_physid);
ABI_CONST(xa::vcpuop::register_vcpu_time_memory_area, VCPUOP_register_vcpu_time_memory_area);
// Ops 14 and 15 arrived in Xen 4.18: Debian 12's 4.17 headers lack them.
#if defined(VCPUOP_register_runstate_phys_area)
ABI_CONST(xa::vcpuop::register_runstate_phys_area, VCPUOP_register_runstate_phys_area);
ABI_CONST(xa::vcpuop::register_vcpu_time_phys_area, VCPUOP_register_vcpu_time_phys_area);
ABI_CONST(xa::vcpuop_count, VCPUOP_register_vcpu_time_phys_area + 1);
#endif

ABI_CONST(xa::runstate::running, RUNSTATE_running);
ABI_CONST(xa::runstate::runnable, RUNSTATE_runnable);
ABI_CONST(xa::runstate::blocked, RUNSTATE_blocked);
ABI_CONST(xa::runstate::offline, RUNSTATE_offline);
ABI_CONST(xa::runstate_update_flag, XEN_RUNSTATE_UPDATE);

ABI_TYPE(xa::vcpu_runstate_info, vcpu_runstate_info);
ABI_SAME_FIELD(xa::vcpu_runstate_info, vcpu_runstate_info, state);
ABI_PAD(xa::vcpu_runstate_info, pad0, vcpu_runstate_info, state, offsetof(vcpu_runstate_info, state_entry_time));
ABI_SAME_FIELD(xa::vcpu_runstate_info, vcpu_runstate_info, state_entry_time);
ABI_SAME_FIELD(xa::vcpu_runstate_info, vcpu_runstate_info, time);

// Ops 5 and 13 take a union of handle, pointer and u64; we keep the u64.
ABI_TYPE(xa::vcpu_register_area_va, vcpu_register_runstate_memory_area);
ABI_FIELD(xa::vcpu_register_area_va, vcpu_register_runstate_memory_area, addr, addr.p);
ABI_TYPE(xa::vcpu_register_area_va, vcpu_register_time_memory_area);
ABI_FIELD(xa::vcpu_register_area_va, vcpu_register_time_memory_area, addr, addr.p);
// Ops 14 and 15 reuse the same structs, read as `addr.p` (vcpu.h, 4.18+).
ABI_TYPE(xa::vcpu_register_area_phys, vcpu_register_runstate_memory_area);
ABI_FIELD(xa::vcpu_register_area_phys, vcpu_register_runstate_memory_area, addr, addr.p);

ABI_TYPE(xa::vcpu_set_periodic_timer, vcpu_set_periodic_timer);
ABI_SAME_FIELD(xa::vcpu_set_periodic_timer, vcpu_set_periodic_timer, period_ns);
ABI_NOT_IN_XEN_HEADERS(xa::periodic_period_min_ns, "Xen's vcpu_op: -EINVAL under 1 ms (docs/vcpuop.md)");
ABI_NOT_IN_XEN_HEADERS(xa::periodic_period_max_ns, "Xen's vcpu_op: -EINVAL above STIME_DELTA_MAX");

ABI_TYPE(xa::vcpu_set_singleshot_timer, vcpu_set_singleshot_timer);
ABI_SAME_FIELD(xa::vcpu_set_singleshot_timer, vcpu_set_singleshot_timer, timeout_abs_ns);
ABI_SAME_FIELD(xa::vcpu_set_singleshot_timer, vcpu_set_singleshot_timer, flags);
ABI_PAD(xa::vcpu_set_singleshot_timer, pad0, vcpu_set_singleshot_timer, flags, sizeof(vcpu_set_singleshot_timer));
ABI_CONST(xa::sshottmr_future, VCPU_SSHOTTMR_future);

ABI_TYPE(xa::vcpu_register_vcpu_info, vcpu_register_vcpu_info);
ABI_SAME_FIELD(xa::vcpu_register_vcpu_info, vcpu_register_vcpu_info, mfn);
ABI_SAME_FIELD(xa::vcpu_register_vcpu_info, vcpu_register_vcpu_info, offset);
ABI_SAME_FIELD(xa::vcpu_register_vcpu_info, vcpu_register_vcpu_info, rsvd);

ABI_TYPE(xa::vcpu_get_physid, vcpu_get_physid);
ABI_SAME_FIELD(xa::vcpu_get_physid, vcpu_get_physid, phys_id);
// Our helpers against Xen's macros, on a value whose halves differ.
ABI_CONST(xa::physid_to_apic_id(0x1234'5678'9abc'def0), xen_vcpu_physid_to_x86_apicid(0x1234'5678'9abc'def0ull));
ABI_CONST(xa::physid_to_acpi_id(0x1234'5678'9abc'def0), xen_vcpu_physid_to_x86_acpiid(0x1234'5678'9abc'def0ull));

ABI_AREA_END(vcpu)
