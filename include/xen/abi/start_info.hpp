/// \file
/// Boot information Xen hands the guest: `start_info` for PV (public xen.h,
/// pointer in rsi at the PV entry) and `hvm_start_info` for PVH
/// (arch-x86/hvm/start_info.h, physical address in ebx at the 32-bit entry).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace xen::abi {

/// `MAX_GUEST_CMDLINE`.
inline constexpr uint32_t max_guest_cmdline = 1024;

/// `SIF_*` flags (start_info::flags and hvm_start_info::flags).
inline constexpr uint32_t sif_privileged = 1u << 0;
inline constexpr uint32_t sif_initdomain = 1u << 1;    ///< the initial domain (dom0)
inline constexpr uint32_t sif_multiboot_mod = 1u << 2; ///< mod_start/mod_len describe a multiboot module
inline constexpr uint32_t sif_mod_start_pfn = 1u << 3; ///< mod_start is a PFN, not a virtual address
inline constexpr uint32_t sif_virt_p2m_4tools =
    1u << 4; ///< the toolstack understands a virtually mapped p2m (arch_shared_info::p2m_cr3, p2m_vaddr)

/// `struct start_info` (PV), x86-64 layout.
struct start_info {
    char magic[32];        ///< "xen-<version>-<platform>"
    uint64_t nr_pages;     ///< pages allocated to the domain
    uint64_t shared_info;  ///< machine address of the shared_info page
    uint32_t flags;        ///< SIF_*
    uint32_t pad0;         ///< zero
    uint64_t store_mfn;    ///< xenstore ring frame
    uint32_t store_evtchn; ///< xenstore event channel
    uint32_t pad1;         ///< zero
    union {
        struct {
            uint64_t mfn;    ///< console ring frame (domU)
            uint32_t evtchn; ///< console event channel (domU)
            uint32_t pad;
        } domu;
        struct {
            uint32_t info_off; ///< offset of console_info (dom0)
            uint32_t info_size;
        } dom0;
    } console;             ///< the console ring: `domu` for a domU, `dom0` for dom0
    uint64_t pt_base;      ///< virtual address of the initial L4
    uint64_t nr_pt_frames; ///< frames of bootstrap page tables
    uint64_t mfn_list;     ///< virtual address of the pfn -> mfn list
    uint64_t mod_start;    ///< the initial module (ramdisk): virtual address, or PFN with SIF_MOD_START_PFN
    uint64_t mod_len;      ///< the module's size in bytes
    int8_t cmd_line[max_guest_cmdline]; ///< the kernel command line, NUL-terminated
    uint64_t first_p2m_pfn;             ///< first PFN of the frames holding the initial p2m
    uint64_t nr_p2m_frames;             ///< number of those frames
};
static_assert(offsetof(start_info, nr_pages) == 32);
static_assert(offsetof(start_info, shared_info) == 40);
static_assert(offsetof(start_info, flags) == 48);
static_assert(offsetof(start_info, store_mfn) == 56);
static_assert(offsetof(start_info, store_evtchn) == 64);
static_assert(offsetof(start_info, console) == 72);
static_assert(offsetof(start_info, pt_base) == 88);
static_assert(offsetof(start_info, nr_pt_frames) == 96);
static_assert(offsetof(start_info, mfn_list) == 104);
static_assert(offsetof(start_info, mod_start) == 112);
static_assert(offsetof(start_info, mod_len) == 120);
static_assert(offsetof(start_info, cmd_line) == 128);
static_assert(offsetof(start_info, first_p2m_pfn) == 1152);
static_assert(sizeof(start_info) == 1168);

/// `XEN_HVM_START_MAGIC_VALUE` in hvm_start_info::magic.
inline constexpr uint32_t hvm_start_magic = 0x336ec578;

/// `struct hvm_start_info` (PVH).
struct hvm_start_info {
    uint32_t magic;          ///< hvm_start_magic
    uint32_t version;        ///< 0 or 1; memmap fields exist from 1
    uint32_t flags;          ///< SIF_*
    uint32_t nr_modules;     ///< entries at modlist_paddr
    uint64_t modlist_paddr;  ///< physical address of an array of hvm_modlist_entry
    uint64_t cmdline_paddr;  ///< physical address of a NUL-terminated string
    uint64_t rsdp_paddr;     ///< physical address of the ACPI RSDP (0: none given)
    uint64_t memmap_paddr;   ///< version >= 1
    uint32_t memmap_entries; ///< entries at memmap_paddr (version >= 1)
    uint32_t reserved;       ///< zero
};
static_assert(sizeof(hvm_start_info) == 56);
static_assert(offsetof(hvm_start_info, modlist_paddr) == 16);
static_assert(offsetof(hvm_start_info, cmdline_paddr) == 24);
static_assert(offsetof(hvm_start_info, rsdp_paddr) == 32);
static_assert(offsetof(hvm_start_info, memmap_paddr) == 40);
static_assert(offsetof(hvm_start_info, memmap_entries) == 48);

/// `struct hvm_modlist_entry`.
struct hvm_modlist_entry {
    uint64_t paddr;         ///< physical address of the module
    uint64_t size;          ///< its size in bytes
    uint64_t cmdline_paddr; ///< the module's command line: physical address of a NUL-terminated string (0: none)
    uint64_t reserved;      ///< zero
};
static_assert(sizeof(hvm_modlist_entry) == 32);

/// `struct hvm_memmap_table_entry` and `XEN_HVM_MEMMAP_TYPE_*`.
struct hvm_memmap_table_entry {
    uint64_t addr;     ///< physical start address
    uint64_t size;     ///< bytes
    uint32_t type;     ///< hvm_memmap_type
    uint32_t reserved; ///< zero
};
static_assert(sizeof(hvm_memmap_table_entry) == 24);

/// `XEN_HVM_MEMMAP_TYPE_*`: what a memory map range is (E820 types).
enum class hvm_memmap_type : uint32_t {
    ram = 1,
    reserved = 2,
    acpi = 3,
    nvs = 4,
    unusable = 5,
    disabled = 6,
    pmem = 7,
};

static_assert(std::is_standard_layout_v<start_info> && std::is_trivially_copyable_v<start_info>);
static_assert(std::is_standard_layout_v<hvm_start_info>);

} // namespace xen::abi
