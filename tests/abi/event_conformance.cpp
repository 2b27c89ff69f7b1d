// Conformance: event channels and VIRQs (event_channel.h, xen.h), scheduler
// ops (sched.h), xen_version and feature bits (version.h, features.h).
#include "xen_public.hpp"

#include "check.hpp"

ABI_AREA_BEGIN(event_channel)

ABI_TYPE(xa::evtchn_port, evtchn_port_t);

ABI_CONST(xa::evtchnop::bind_interdomain, EVTCHNOP_bind_interdomain);
ABI_CONST(xa::evtchnop::bind_virq, EVTCHNOP_bind_virq);
ABI_CONST(xa::evtchnop::bind_pirq, EVTCHNOP_bind_pirq);
ABI_CONST(xa::evtchnop::close, EVTCHNOP_close);
ABI_CONST(xa::evtchnop::send, EVTCHNOP_send);
ABI_CONST(xa::evtchnop::status, EVTCHNOP_status);
ABI_CONST(xa::evtchnop::alloc_unbound, EVTCHNOP_alloc_unbound);
ABI_CONST(xa::evtchnop::bind_ipi, EVTCHNOP_bind_ipi);
ABI_CONST(xa::evtchnop::bind_vcpu, EVTCHNOP_bind_vcpu);
ABI_CONST(xa::evtchnop::unmask, EVTCHNOP_unmask);
ABI_CONST(xa::evtchnop::reset, EVTCHNOP_reset);
ABI_CONST(xa::evtchnop::init_control, EVTCHNOP_init_control);
ABI_CONST(xa::evtchnop::expand_array, EVTCHNOP_expand_array);
ABI_CONST(xa::evtchnop::set_priority, EVTCHNOP_set_priority);

ABI_CONST(xa::virq::timer, VIRQ_TIMER);
ABI_CONST(xa::virq::debug, VIRQ_DEBUG);
ABI_CONST(xa::virq::console, VIRQ_CONSOLE);
ABI_CONST(xa::virq::dom_exc, VIRQ_DOM_EXC);
ABI_CONST(xa::virq::tbuf, VIRQ_TBUF);
ABI_CONST(xa::virq::debugger, VIRQ_DEBUGGER);
ABI_CONST(xa::virq::xenoprof, VIRQ_XENOPROF);
ABI_CONST(xa::virq::con_ring, VIRQ_CON_RING);
ABI_CONST(xa::virq::pcpu_state, VIRQ_PCPU_STATE);
ABI_CONST(xa::virq::mem_event, VIRQ_MEM_EVENT);
ABI_CONST(xa::virq::argo, VIRQ_ARGO);
ABI_CONST(xa::virq::enomem, VIRQ_ENOMEM);
ABI_CONST(xa::virq::xenpmu, VIRQ_XENPMU);

ABI_TYPE(xa::evtchn_bind_virq, evtchn_bind_virq);
ABI_SAME_FIELD(xa::evtchn_bind_virq, evtchn_bind_virq, virq);
ABI_SAME_FIELD(xa::evtchn_bind_virq, evtchn_bind_virq, vcpu);
ABI_SAME_FIELD(xa::evtchn_bind_virq, evtchn_bind_virq, port);

ABI_TYPE(xa::evtchn_bind_ipi, evtchn_bind_ipi);
ABI_SAME_FIELD(xa::evtchn_bind_ipi, evtchn_bind_ipi, vcpu);
ABI_SAME_FIELD(xa::evtchn_bind_ipi, evtchn_bind_ipi, port);

ABI_TYPE(xa::evtchn_alloc_unbound, evtchn_alloc_unbound);
ABI_SAME_FIELD(xa::evtchn_alloc_unbound, evtchn_alloc_unbound, dom);
ABI_SAME_FIELD(xa::evtchn_alloc_unbound, evtchn_alloc_unbound, remote_dom);
ABI_SAME_FIELD(xa::evtchn_alloc_unbound, evtchn_alloc_unbound, port);

ABI_TYPE(xa::evtchn_close, evtchn_close);
ABI_SAME_FIELD(xa::evtchn_close, evtchn_close, port);
ABI_TYPE(xa::evtchn_send, evtchn_send);
ABI_SAME_FIELD(xa::evtchn_send, evtchn_send, port);
ABI_TYPE(xa::evtchn_unmask, evtchn_unmask);
ABI_SAME_FIELD(xa::evtchn_unmask, evtchn_unmask, port);

ABI_TYPE(xa::evtchn_bind_vcpu, evtchn_bind_vcpu);
ABI_SAME_FIELD(xa::evtchn_bind_vcpu, evtchn_bind_vcpu, port);
ABI_SAME_FIELD(xa::evtchn_bind_vcpu, evtchn_bind_vcpu, vcpu);

ABI_CONST(xa::evtchn_stat::closed, EVTCHNSTAT_closed);
ABI_CONST(xa::evtchn_stat::unbound, EVTCHNSTAT_unbound);
ABI_CONST(xa::evtchn_stat::interdomain, EVTCHNSTAT_interdomain);
ABI_CONST(xa::evtchn_stat::pirq, EVTCHNSTAT_pirq);
ABI_CONST(xa::evtchn_stat::virq, EVTCHNSTAT_virq);
ABI_CONST(xa::evtchn_stat::ipi, EVTCHNSTAT_ipi);

ABI_TYPE(xa::evtchn_status, evtchn_status);
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, dom);
ABI_PAD(xa::evtchn_status, pad0, evtchn_status, dom, offsetof(evtchn_status, port));
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, port);
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, status);
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, vcpu);
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, u);
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, u.unbound.dom);
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, u.interdomain.dom);
ABI_PAD(xa::evtchn_status, u.interdomain.pad, evtchn_status, u.interdomain.dom,
        offsetof(evtchn_status, u.interdomain.port));
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, u.interdomain.port);
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, u.pirq);
ABI_SAME_FIELD(xa::evtchn_status, evtchn_status, u.virq);

ABI_AREA_END(event_channel)

ABI_AREA_BEGIN(sched)

ABI_CONST(xa::schedop::yield, SCHEDOP_yield);
ABI_CONST(xa::schedop::block, SCHEDOP_block);
ABI_CONST(xa::schedop::shutdown, SCHEDOP_shutdown);
ABI_CONST(xa::schedop::poll, SCHEDOP_poll);
ABI_CONST(xa::schedop::remote_shutdown, SCHEDOP_remote_shutdown);
ABI_CONST(xa::schedop::shutdown_code, SCHEDOP_shutdown_code);
ABI_CONST(xa::schedop::watchdog, SCHEDOP_watchdog);
ABI_CONST(xa::schedop::pin_override, SCHEDOP_pin_override);

ABI_CONST(xa::shutdown_reason::poweroff, SHUTDOWN_poweroff);
ABI_CONST(xa::shutdown_reason::reboot, SHUTDOWN_reboot);
ABI_CONST(xa::shutdown_reason::suspend, SHUTDOWN_suspend);
ABI_CONST(xa::shutdown_reason::crash, SHUTDOWN_crash);
ABI_CONST(xa::shutdown_reason::watchdog, SHUTDOWN_watchdog);
ABI_CONST(xa::shutdown_reason::soft_reset, SHUTDOWN_soft_reset);

ABI_TYPE(xa::sched_shutdown, sched_shutdown);
ABI_SAME_FIELD(xa::sched_shutdown, sched_shutdown, reason);

ABI_TYPE(xa::sched_poll, sched_poll);
ABI_SAME_FIELD(xa::sched_poll, sched_poll, ports);
ABI_SAME_FIELD(xa::sched_poll, sched_poll, nr_ports);
ABI_PAD(xa::sched_poll, pad0, sched_poll, nr_ports, offsetof(sched_poll, timeout));
ABI_SAME_FIELD(xa::sched_poll, sched_poll, timeout);

ABI_AREA_END(sched)

ABI_AREA_BEGIN(version)

ABI_CONST(xa::xenver::version, XENVER_version);
ABI_CONST(xa::xenver::extraversion, XENVER_extraversion);
ABI_CONST(xa::xenver::compile_info, XENVER_compile_info);
ABI_CONST(xa::xenver::capabilities, XENVER_capabilities);
ABI_CONST(xa::xenver::changeset, XENVER_changeset);
ABI_CONST(xa::xenver::platform_parameters, XENVER_platform_parameters);
ABI_CONST(xa::xenver::get_features, XENVER_get_features);
ABI_CONST(xa::xenver::pagesize, XENVER_pagesize);
ABI_CONST(xa::xenver::guest_handle, XENVER_guest_handle);
ABI_CONST(xa::xenver::commandline, XENVER_commandline);
ABI_CONST(xa::xenver::build_id, XENVER_build_id);
ABI_CONST(xa::xen_extraversion_len, sizeof(xen_extraversion_t));

ABI_TYPE(xa::xen_feature_info, xen_feature_info);
ABI_SAME_FIELD(xa::xen_feature_info, xen_feature_info, submap_idx);
ABI_SAME_FIELD(xa::xen_feature_info, xen_feature_info, submap);

ABI_CONST(xa::xenfeat::writable_page_tables, XENFEAT_writable_page_tables);
ABI_CONST(xa::xenfeat::writable_descriptor_tables, XENFEAT_writable_descriptor_tables);
ABI_CONST(xa::xenfeat::auto_translated_physmap, XENFEAT_auto_translated_physmap);
ABI_CONST(xa::xenfeat::supervisor_mode_kernel, XENFEAT_supervisor_mode_kernel);
ABI_CONST(xa::xenfeat::pae_pgdir_above_4gb, XENFEAT_pae_pgdir_above_4gb);
ABI_CONST(xa::xenfeat::mmu_pt_update_preserve_ad, XENFEAT_mmu_pt_update_preserve_ad);
ABI_CONST(xa::xenfeat::highmem_assist, XENFEAT_highmem_assist);
ABI_CONST(xa::xenfeat::gnttab_map_avail_bits, XENFEAT_gnttab_map_avail_bits);
ABI_CONST(xa::xenfeat::hvm_callback_vector, XENFEAT_hvm_callback_vector);
ABI_CONST(xa::xenfeat::hvm_safe_pvclock, XENFEAT_hvm_safe_pvclock);
ABI_CONST(xa::xenfeat::hvm_pirqs, XENFEAT_hvm_pirqs);
ABI_CONST(xa::xenfeat::dom0, XENFEAT_dom0);
ABI_CONST(xa::xenfeat::memory_op_vnode_supported, XENFEAT_memory_op_vnode_supported);
ABI_CONST(xa::xenfeat::arm_smccc_supported, XENFEAT_ARM_SMCCC_supported);
ABI_CONST(xa::xenfeat::linux_rsdp_unrestricted, XENFEAT_linux_rsdp_unrestricted);
ABI_CONST(xa::xenfeat::not_direct_mapped, XENFEAT_not_direct_mapped);
ABI_CONST(xa::xenfeat::direct_mapped, XENFEAT_direct_mapped);
// Feature bits 18 and 19 arrived with ops 14 and 15 in Xen 4.18.
#if defined(XENFEAT_runstate_phys_area)
ABI_CONST(xa::xenfeat::runstate_phys_area, XENFEAT_runstate_phys_area);
ABI_CONST(xa::xenfeat::vcpu_time_phys_area, XENFEAT_vcpu_time_phys_area);
#elif defined(ABI_EXPECT_XEN_4_18)
#error "these headers should be Xen >= 4.18 but lack XENFEAT_runstate_phys_area"
#endif
ABI_CONST(xa::xenfeat_nr_submaps, XENFEAT_NR_SUBMAPS);

ABI_NOT_IN_XEN_HEADERS(xa::xenfeat::grant_map_identity, "features.h keeps bit 12 only inside a comment (deprecated)");
ABI_NOT_IN_XEN_HEADERS(xa::xen_version_major, "version.h: XENVER_version returns major << 16 | minor (prose)");
ABI_NOT_IN_XEN_HEADERS(xa::xen_version_minor, "version.h: XENVER_version returns major << 16 | minor (prose)");

ABI_AREA_END(version)
