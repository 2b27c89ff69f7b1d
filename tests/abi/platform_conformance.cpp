// Conformance: vm_assist, console_io, PV memory management (xen.h),
// set_segment_base's SEGBASE_* (arch-x86/xen-x86_64.h),
// memory_op add_to_physmap (memory.h), callback_op (callback.h), hvm_op and its params (hvm/hvm_op.h,
// hvm/params.h), ELF notes (elfnote.h) and Xen's CPUID leaves
// (arch-x86/cpuid.h).
#include "xen_public.hpp"

#include "check.hpp"

ABI_AREA_BEGIN(platform)

ABI_CONST(xa::vmasst_cmd::enable, VMASST_CMD_enable);
ABI_CONST(xa::vmasst_cmd::disable, VMASST_CMD_disable);
ABI_CONST(xa::vmasst_type::four_gb_segments, VMASST_TYPE_4gb_segments);
ABI_CONST(xa::vmasst_type::four_gb_segments_notify, VMASST_TYPE_4gb_segments_notify);
ABI_CONST(xa::vmasst_type::writable_pagetables, VMASST_TYPE_writable_pagetables);
ABI_CONST(xa::vmasst_type::pae_extended_cr3, VMASST_TYPE_pae_extended_cr3);
ABI_CONST(xa::vmasst_type::architectural_iopl, VMASST_TYPE_architectural_iopl);
ABI_CONST(xa::vmasst_type::runstate_update_flag, VMASST_TYPE_runstate_update_flag);
ABI_CONST(xa::vmasst_type::m2p_strict, VMASST_TYPE_m2p_strict);

ABI_CONST(xa::callbackop::register_, CALLBACKOP_register);
ABI_CONST(xa::callbackop::unregister, CALLBACKOP_unregister);
ABI_CONST(xa::callback_type::event, CALLBACKTYPE_event);
ABI_CONST(xa::callback_type::failsafe, CALLBACKTYPE_failsafe);
ABI_CONST(xa::callback_type::syscall, CALLBACKTYPE_syscall);
ABI_CONST(xa::callback_type::nmi, CALLBACKTYPE_nmi);
ABI_CONST(xa::callback_type::sysenter, CALLBACKTYPE_sysenter);
ABI_CONST(xa::callback_type::syscall32, CALLBACKTYPE_syscall32);
ABI_CONST(xa::callbackf_mask_events, CALLBACKF_mask_events);

ABI_TYPE(xa::callback_register, callback_register);
ABI_SAME_FIELD(xa::callback_register, callback_register, type);
ABI_SAME_FIELD(xa::callback_register, callback_register, flags);
ABI_PAD(xa::callback_register, pad0, callback_register, flags, offsetof(callback_register, address));
ABI_SAME_FIELD(xa::callback_register, callback_register, address);

ABI_CONST(xa::hvmop::set_param, HVMOP_set_param);
ABI_CONST(xa::hvmop::get_param, HVMOP_get_param);
ABI_CONST(xa::hvmop::set_evtchn_upcall_vector, HVMOP_set_evtchn_upcall_vector);

ABI_CONST(xa::hvm_param::callback_irq, HVM_PARAM_CALLBACK_IRQ);
ABI_CONST(xa::hvm_param::store_pfn, HVM_PARAM_STORE_PFN);
ABI_CONST(xa::hvm_param::store_evtchn, HVM_PARAM_STORE_EVTCHN);
ABI_CONST(xa::hvm_param::console_pfn, HVM_PARAM_CONSOLE_PFN);
ABI_CONST(xa::hvm_param::console_evtchn, HVM_PARAM_CONSOLE_EVTCHN);
ABI_CONST(xa::hvm_callback_type_vector, HVM_PARAM_CALLBACK_TYPE_VECTOR);
// params.h: the type sits in val[63:56] (HVM_PARAM_CALLBACK_IRQ_TYPE_MASK),
// the vector in val[7:0].
ABI_CONST(xa::hvm_callback_via_vector(0xf3) & HVM_PARAM_CALLBACK_IRQ_TYPE_MASK,
          static_cast<uint64_t>(HVM_PARAM_CALLBACK_TYPE_VECTOR) << 56);
ABI_CONST(xa::hvm_callback_via_vector(0xf3) & ~HVM_PARAM_CALLBACK_IRQ_TYPE_MASK, 0xf3);

ABI_TYPE(xa::xen_hvm_param, xen_hvm_param);
ABI_SAME_FIELD(xa::xen_hvm_param, xen_hvm_param, domid);
ABI_SAME_FIELD(xa::xen_hvm_param, xen_hvm_param, pad);
ABI_SAME_FIELD(xa::xen_hvm_param, xen_hvm_param, index);
ABI_SAME_FIELD(xa::xen_hvm_param, xen_hvm_param, value);

ABI_TYPE(xa::xen_hvm_evtchn_upcall_vector, xen_hvm_evtchn_upcall_vector);
ABI_SAME_FIELD(xa::xen_hvm_evtchn_upcall_vector, xen_hvm_evtchn_upcall_vector, vcpu);
ABI_SAME_FIELD(xa::xen_hvm_evtchn_upcall_vector, xen_hvm_evtchn_upcall_vector, vector);
ABI_PAD(xa::xen_hvm_evtchn_upcall_vector, pad, xen_hvm_evtchn_upcall_vector, vector,
        sizeof(xen_hvm_evtchn_upcall_vector));

ABI_CONST(xa::xenmem::add_to_physmap, XENMEM_add_to_physmap);
ABI_CONST(xa::xenmapspace::shared_info, XENMAPSPACE_shared_info);
ABI_CONST(xa::xenmapspace::grant_table, XENMAPSPACE_grant_table);
ABI_CONST(xa::xenmapspace::gmfn, XENMAPSPACE_gmfn);
ABI_CONST(xa::xenmapspace::gmfn_range, XENMAPSPACE_gmfn_range);

ABI_TYPE(xa::xen_add_to_physmap, xen_add_to_physmap);
ABI_SAME_FIELD(xa::xen_add_to_physmap, xen_add_to_physmap, domid);
ABI_SAME_FIELD(xa::xen_add_to_physmap, xen_add_to_physmap, size);
ABI_SAME_FIELD(xa::xen_add_to_physmap, xen_add_to_physmap, space);
ABI_SAME_FIELD(xa::xen_add_to_physmap, xen_add_to_physmap, idx);
ABI_SAME_FIELD(xa::xen_add_to_physmap, xen_add_to_physmap, gpfn);

ABI_CONST(xa::segbase::fs, SEGBASE_FS);
ABI_CONST(xa::segbase::gs_user, SEGBASE_GS_USER);
ABI_CONST(xa::segbase::gs_kernel, SEGBASE_GS_KERNEL);
ABI_CONST(xa::segbase::gs_user_sel, SEGBASE_GS_USER_SEL);

ABI_CONST(xa::consoleio::write, CONSOLEIO_write);
ABI_CONST(xa::consoleio::read, CONSOLEIO_read);

ABI_TYPE(xa::mmu_update, mmu_update);
ABI_SAME_FIELD(xa::mmu_update, mmu_update, ptr);
ABI_SAME_FIELD(xa::mmu_update, mmu_update, val);
ABI_CONST(xa::mmu_normal_pt_update, MMU_NORMAL_PT_UPDATE);

ABI_CONST(xa::uvmf_none, UVMF_NONE);
ABI_CONST(xa::uvmf_tlb_flush, UVMF_TLB_FLUSH);
ABI_CONST(xa::uvmf_invlpg, UVMF_INVLPG);
ABI_CONST(xa::uvmf_local, UVMF_LOCAL);
ABI_CONST(xa::uvmf_all, UVMF_ALL);

ABI_CONST(xa::mmuext_cmd::pin_l1_table, MMUEXT_PIN_L1_TABLE);
ABI_CONST(xa::mmuext_cmd::pin_l2_table, MMUEXT_PIN_L2_TABLE);
ABI_CONST(xa::mmuext_cmd::pin_l3_table, MMUEXT_PIN_L3_TABLE);
ABI_CONST(xa::mmuext_cmd::pin_l4_table, MMUEXT_PIN_L4_TABLE);
ABI_CONST(xa::mmuext_cmd::unpin_table, MMUEXT_UNPIN_TABLE);
ABI_CONST(xa::mmuext_cmd::new_baseptr, MMUEXT_NEW_BASEPTR);
ABI_CONST(xa::mmuext_cmd::tlb_flush_local, MMUEXT_TLB_FLUSH_LOCAL);
ABI_CONST(xa::mmuext_cmd::invlpg_local, MMUEXT_INVLPG_LOCAL);
ABI_CONST(xa::mmuext_cmd::tlb_flush_multi, MMUEXT_TLB_FLUSH_MULTI);
ABI_CONST(xa::mmuext_cmd::invlpg_multi, MMUEXT_INVLPG_MULTI);
ABI_CONST(xa::mmuext_cmd::tlb_flush_all, MMUEXT_TLB_FLUSH_ALL);
ABI_CONST(xa::mmuext_cmd::invlpg_all, MMUEXT_INVLPG_ALL);
ABI_CONST(xa::mmuext_cmd::flush_cache, MMUEXT_FLUSH_CACHE);
ABI_CONST(xa::mmuext_cmd::set_ldt, MMUEXT_SET_LDT);
ABI_CONST(xa::mmuext_cmd::new_user_baseptr, MMUEXT_NEW_USER_BASEPTR);
ABI_CONST(xa::mmuext_cmd::clear_page, MMUEXT_CLEAR_PAGE);
ABI_CONST(xa::mmuext_cmd::copy_page, MMUEXT_COPY_PAGE);
ABI_CONST(xa::mmuext_cmd::flush_cache_global, MMUEXT_FLUSH_CACHE_GLOBAL);
ABI_CONST(xa::mmuext_cmd::mark_super, MMUEXT_MARK_SUPER);
ABI_CONST(xa::mmuext_cmd::unmark_super, MMUEXT_UNMARK_SUPER);

ABI_TYPE(xa::mmuext_op, mmuext_op);
ABI_SAME_FIELD(xa::mmuext_op, mmuext_op, cmd);
ABI_PAD(xa::mmuext_op, pad0, mmuext_op, cmd, offsetof(mmuext_op, arg1));
ABI_SAME_FIELD(xa::mmuext_op, mmuext_op, arg1);
ABI_SAME_FIELD(xa::mmuext_op, mmuext_op, arg2);

ABI_AREA_END(platform)

ABI_AREA_BEGIN(elfnote)

ABI_CONST(xa::elfnote::info, XEN_ELFNOTE_INFO);
ABI_CONST(xa::elfnote::entry, XEN_ELFNOTE_ENTRY);
ABI_CONST(xa::elfnote::hypercall_page, XEN_ELFNOTE_HYPERCALL_PAGE);
ABI_CONST(xa::elfnote::virt_base, XEN_ELFNOTE_VIRT_BASE);
ABI_CONST(xa::elfnote::paddr_offset, XEN_ELFNOTE_PADDR_OFFSET);
ABI_CONST(xa::elfnote::xen_version, XEN_ELFNOTE_XEN_VERSION);
ABI_CONST(xa::elfnote::guest_os, XEN_ELFNOTE_GUEST_OS);
ABI_CONST(xa::elfnote::guest_version, XEN_ELFNOTE_GUEST_VERSION);
ABI_CONST(xa::elfnote::loader, XEN_ELFNOTE_LOADER);
ABI_CONST(xa::elfnote::pae_mode, XEN_ELFNOTE_PAE_MODE);
ABI_CONST(xa::elfnote::features, XEN_ELFNOTE_FEATURES);
ABI_CONST(xa::elfnote::bsd_symtab, XEN_ELFNOTE_BSD_SYMTAB);
ABI_CONST(xa::elfnote::hv_start_low, XEN_ELFNOTE_HV_START_LOW);
ABI_CONST(xa::elfnote::l1_mfn_valid, XEN_ELFNOTE_L1_MFN_VALID);
ABI_CONST(xa::elfnote::suspend_cancel, XEN_ELFNOTE_SUSPEND_CANCEL);
ABI_CONST(xa::elfnote::init_p2m, XEN_ELFNOTE_INIT_P2M);
ABI_CONST(xa::elfnote::mod_start_pfn, XEN_ELFNOTE_MOD_START_PFN);
ABI_CONST(xa::elfnote::supported_features, XEN_ELFNOTE_SUPPORTED_FEATURES);
ABI_CONST(xa::elfnote::phys32_entry, XEN_ELFNOTE_PHYS32_ENTRY);

ABI_AREA_END(elfnote)

ABI_AREA_BEGIN(cpuid)

ABI_CONST(xa::cpuid_first_leaf, XEN_CPUID_FIRST_LEAF);
ABI_CONST(xa::cpuid_signature_ebx, XEN_CPUID_SIGNATURE_EBX);
ABI_CONST(xa::cpuid_signature_ecx, XEN_CPUID_SIGNATURE_ECX);
ABI_CONST(xa::cpuid_signature_edx, XEN_CPUID_SIGNATURE_EDX);
ABI_CONST(xa::hvm_cpuid_vcpu_id_present, XEN_HVM_CPUID_VCPU_ID_PRESENT);

// cpuid.h numbers its leaves only in prose ("Leaf 2 (0x40000x01)").
ABI_NOT_IN_XEN_HEADERS(xa::cpuid_leaf_stride, "cpuid.h prose: leaves start at the first free 0x100 boundary");
ABI_NOT_IN_XEN_HEADERS(xa::cpuid_last_base, "library search bound (Linux searches the same range)");
ABI_NOT_IN_XEN_HEADERS(xa::cpuid_leaf_version, "cpuid.h prose: Leaf 2 (0x40000x01), version");
ABI_NOT_IN_XEN_HEADERS(xa::cpuid_leaf_hypercall, "cpuid.h prose: Leaf 3 (0x40000x02), hypercall pages and MSR");
ABI_NOT_IN_XEN_HEADERS(xa::cpuid_leaf_hvm, "cpuid.h prose: Leaf 5 (0x40000x04), HVM-specific");

ABI_AREA_END(cpuid)
