// Conformance: shared_info / vcpu_info / pvclock (xen.h, arch-x86/xen*.h),
// PV start_info (xen.h) and PVH hvm_start_info (arch-x86/hvm/start_info.h).
#include "xen_public.hpp"

#include "check.hpp"

ABI_AREA_BEGIN(shared_info)

ABI_CONST(xa::legacy_max_vcpus, XEN_LEGACY_MAX_VCPUS);

ABI_TYPE(xa::vcpu_time_info, vcpu_time_info);
ABI_SAME_FIELD(xa::vcpu_time_info, vcpu_time_info, version);
ABI_SAME_FIELD(xa::vcpu_time_info, vcpu_time_info, pad0);
ABI_SAME_FIELD(xa::vcpu_time_info, vcpu_time_info, tsc_timestamp);
ABI_SAME_FIELD(xa::vcpu_time_info, vcpu_time_info, system_time);
ABI_SAME_FIELD(xa::vcpu_time_info, vcpu_time_info, tsc_to_system_mul);
ABI_SAME_FIELD(xa::vcpu_time_info, vcpu_time_info, tsc_shift);
ABI_SAME_FIELD(xa::vcpu_time_info, vcpu_time_info, flags);
ABI_SAME_FIELD(xa::vcpu_time_info, vcpu_time_info, pad1);
ABI_CONST(xa::pvclock_tsc_stable, XEN_PVCLOCK_TSC_STABLE_BIT);
ABI_CONST(xa::pvclock_guest_stopped, XEN_PVCLOCK_GUEST_STOPPED);

ABI_TYPE(xa::arch_vcpu_info, arch_vcpu_info);
ABI_SAME_FIELD(xa::arch_vcpu_info, arch_vcpu_info, cr2);
ABI_SAME_FIELD(xa::arch_vcpu_info, arch_vcpu_info, pad);

ABI_TYPE(xa::vcpu_info, vcpu_info);
ABI_SAME_FIELD(xa::vcpu_info, vcpu_info, evtchn_upcall_pending);
ABI_SAME_FIELD(xa::vcpu_info, vcpu_info, evtchn_upcall_mask);
ABI_PAD(xa::vcpu_info, pad0, vcpu_info, evtchn_upcall_mask, offsetof(vcpu_info, evtchn_pending_sel));
ABI_SAME_FIELD(xa::vcpu_info, vcpu_info, evtchn_pending_sel);
ABI_SAME_FIELD(xa::vcpu_info, vcpu_info, arch);
ABI_SAME_FIELD(xa::vcpu_info, vcpu_info, time);

ABI_TYPE(xa::arch_shared_info, arch_shared_info);
ABI_SAME_FIELD(xa::arch_shared_info, arch_shared_info, max_pfn);
ABI_SAME_FIELD(xa::arch_shared_info, arch_shared_info, pfn_to_mfn_frame_list_list);
ABI_SAME_FIELD(xa::arch_shared_info, arch_shared_info, nmi_reason);
ABI_SAME_FIELD(xa::arch_shared_info, arch_shared_info, p2m_cr3);
ABI_SAME_FIELD(xa::arch_shared_info, arch_shared_info, p2m_vaddr);
ABI_SAME_FIELD(xa::arch_shared_info, arch_shared_info, p2m_generation);

// shared_info's bitmaps are sizeof(xen_ulong_t) * 8 words of xen_ulong_t.
ABI_CONST(xa::evtchn_words, sizeof(shared_info::evtchn_pending) / sizeof(xen_ulong_t));
ABI_CONST(xa::evtchn_2l_nr_ports, EVTCHN_2L_NR_CHANNELS);

ABI_TYPE(xa::shared_info, shared_info);
ABI_SAME_FIELD(xa::shared_info, shared_info, vcpu_info);
ABI_SAME_FIELD(xa::shared_info, shared_info, evtchn_pending);
ABI_SAME_FIELD(xa::shared_info, shared_info, evtchn_mask);
ABI_SAME_FIELD(xa::shared_info, shared_info, wc_version);
ABI_SAME_FIELD(xa::shared_info, shared_info, wc_sec);
ABI_SAME_FIELD(xa::shared_info, shared_info, wc_nsec);
ABI_SAME_FIELD(xa::shared_info, shared_info, wc_sec_hi);
ABI_SAME_FIELD(xa::shared_info, shared_info, arch);

ABI_AREA_END(shared_info)

ABI_AREA_BEGIN(start_info)

ABI_CONST(xa::max_guest_cmdline, MAX_GUEST_CMDLINE);
ABI_CONST(xa::sif_privileged, SIF_PRIVILEGED);
ABI_CONST(xa::sif_initdomain, SIF_INITDOMAIN);
ABI_CONST(xa::sif_multiboot_mod, SIF_MULTIBOOT_MOD);
ABI_CONST(xa::sif_mod_start_pfn, SIF_MOD_START_PFN);
ABI_CONST(xa::sif_virt_p2m_4tools, SIF_VIRT_P2M_4TOOLS);

ABI_TYPE(xa::start_info, start_info);
ABI_SAME_FIELD(xa::start_info, start_info, magic);
ABI_SAME_FIELD(xa::start_info, start_info, nr_pages);
ABI_SAME_FIELD(xa::start_info, start_info, shared_info);
ABI_SAME_FIELD(xa::start_info, start_info, flags);
ABI_PAD(xa::start_info, pad0, start_info, flags, offsetof(start_info, store_mfn));
ABI_SAME_FIELD(xa::start_info, start_info, store_mfn);
ABI_SAME_FIELD(xa::start_info, start_info, store_evtchn);
ABI_PAD(xa::start_info, pad1, start_info, store_evtchn, offsetof(start_info, console));
ABI_SAME_FIELD(xa::start_info, start_info, console);
ABI_FIELD(xa::start_info, start_info, console.domu.mfn, console.domU.mfn);
ABI_FIELD(xa::start_info, start_info, console.domu.evtchn, console.domU.evtchn);
ABI_PAD(xa::start_info, console.domu.pad, start_info, console.domU.evtchn, offsetof(start_info, pt_base));
ABI_SAME_FIELD(xa::start_info, start_info, console.dom0.info_off);
ABI_SAME_FIELD(xa::start_info, start_info, console.dom0.info_size);
ABI_SAME_FIELD(xa::start_info, start_info, pt_base);
ABI_SAME_FIELD(xa::start_info, start_info, nr_pt_frames);
ABI_SAME_FIELD(xa::start_info, start_info, mfn_list);
ABI_SAME_FIELD(xa::start_info, start_info, mod_start);
ABI_SAME_FIELD(xa::start_info, start_info, mod_len);
ABI_SAME_FIELD(xa::start_info, start_info, cmd_line);
ABI_SAME_FIELD(xa::start_info, start_info, first_p2m_pfn);
ABI_SAME_FIELD(xa::start_info, start_info, nr_p2m_frames);

ABI_CONST(xa::hvm_start_magic, XEN_HVM_START_MAGIC_VALUE);

ABI_TYPE(xa::hvm_start_info, hvm_start_info);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, magic);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, version);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, flags);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, nr_modules);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, modlist_paddr);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, cmdline_paddr);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, rsdp_paddr);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, memmap_paddr);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, memmap_entries);
ABI_SAME_FIELD(xa::hvm_start_info, hvm_start_info, reserved);

ABI_TYPE(xa::hvm_modlist_entry, hvm_modlist_entry);
ABI_SAME_FIELD(xa::hvm_modlist_entry, hvm_modlist_entry, paddr);
ABI_SAME_FIELD(xa::hvm_modlist_entry, hvm_modlist_entry, size);
ABI_SAME_FIELD(xa::hvm_modlist_entry, hvm_modlist_entry, cmdline_paddr);
ABI_SAME_FIELD(xa::hvm_modlist_entry, hvm_modlist_entry, reserved);

ABI_TYPE(xa::hvm_memmap_table_entry, hvm_memmap_table_entry);
ABI_SAME_FIELD(xa::hvm_memmap_table_entry, hvm_memmap_table_entry, addr);
ABI_SAME_FIELD(xa::hvm_memmap_table_entry, hvm_memmap_table_entry, size);
ABI_SAME_FIELD(xa::hvm_memmap_table_entry, hvm_memmap_table_entry, type);
ABI_SAME_FIELD(xa::hvm_memmap_table_entry, hvm_memmap_table_entry, reserved);

ABI_CONST(xa::hvm_memmap_type::ram, XEN_HVM_MEMMAP_TYPE_RAM);
ABI_CONST(xa::hvm_memmap_type::reserved, XEN_HVM_MEMMAP_TYPE_RESERVED);
ABI_CONST(xa::hvm_memmap_type::acpi, XEN_HVM_MEMMAP_TYPE_ACPI);
ABI_CONST(xa::hvm_memmap_type::nvs, XEN_HVM_MEMMAP_TYPE_NVS);
ABI_CONST(xa::hvm_memmap_type::unusable, XEN_HVM_MEMMAP_TYPE_UNUSABLE);
ABI_CONST(xa::hvm_memmap_type::disabled, XEN_HVM_MEMMAP_TYPE_DISABLED);
ABI_CONST(xa::hvm_memmap_type::pmem, XEN_HVM_MEMMAP_TYPE_PMEM);

ABI_AREA_END(start_info)
