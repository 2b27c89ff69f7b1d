/// \file
/// ELF note types Xen's loader reads from a kernel image (public elfnote.h).
/// Notes live in a PT_NOTE segment with name "Xen".
#pragma once

#include <cstdint>

namespace xen::abi {

/// `XEN_ELFNOTE_*`.
enum class elfnote : uint32_t {
    info = 0,
    entry = 1,          ///< PV entry point (virtual address)
    hypercall_page = 2, ///< PV: where Xen writes the hypercall page
    virt_base = 3,
    paddr_offset = 4,
    xen_version = 5, ///< "xen-3.0"
    guest_os = 6,
    guest_version = 7,
    loader = 8, ///< "generic"
    pae_mode = 9,
    features = 10,
    bsd_symtab = 11,
    hv_start_low = 12,
    l1_mfn_valid = 13,
    suspend_cancel = 14,
    init_p2m = 15,
    mod_start_pfn = 16,
    supported_features = 17,
    phys32_entry = 18, ///< PVH entry point (32-bit physical address)
};

} // namespace xen::abi
