/// \file
/// xen_version(int cmd, void* arg) (public version.h) and feature bits
/// (public features.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xen::abi {

/// `XENVER_*`.
enum class xenver : int32_t {
    version = 0,      ///< returns (major << 16) | minor
    extraversion = 1, ///< arg: char[16], e.g. ".7+13-g2445b30a44"
    compile_info = 2,
    capabilities = 3,
    changeset = 4,
    platform_parameters = 5,
    get_features = 6, ///< arg: xen_feature_info
    pagesize = 7,
    guest_handle = 8,
    commandline = 9,
    build_id = 10,
};

/// `xen_extraversion_t` length.
inline constexpr uint32_t xen_extraversion_len = 16;

/// `struct xen_feature_info`.
struct xen_feature_info {
    uint32_t submap_idx; ///< IN: which 32-bit submap
    uint32_t submap;     ///< OUT
};
static_assert(sizeof(xen_feature_info) == 8);

/// `XENFEAT_*` bits (submap 0).
enum class xenfeat : uint32_t {
    writable_page_tables = 0,
    writable_descriptor_tables = 1,
    auto_translated_physmap = 2,
    supervisor_mode_kernel = 3,
    pae_pgdir_above_4gb = 4,
    mmu_pt_update_preserve_ad = 5,
    highmem_assist = 6,
    gnttab_map_avail_bits = 7,
    hvm_callback_vector = 8,
    hvm_safe_pvclock = 9,
    hvm_pirqs = 10,
    dom0 = 11,
    grant_map_identity = 12,
    memory_op_vnode_supported = 13,
    arm_smccc_supported = 14,
    linux_rsdp_unrestricted = 15,
    not_direct_mapped = 16,
    direct_mapped = 17,
    runstate_phys_area = 18,  ///< Xen 4.18+: VCPUOP_register_runstate_phys_area
    vcpu_time_phys_area = 19, ///< Xen 4.18+: VCPUOP_register_vcpu_time_phys_area
};

/// `XENFEAT_NR_SUBMAPS`.
inline constexpr uint32_t xenfeat_nr_submaps = 1;

/// Major and minor from XENVER_version's return value.
constexpr uint32_t xen_version_major(uint32_t v) noexcept { return v >> 16; }
/// The minor number from XENVER_version's return value.
constexpr uint32_t xen_version_minor(uint32_t v) noexcept { return v & 0xffff; }

} // namespace xen::abi
