/// \file
/// The smaller interfaces bring-up and the example kernel need: vm_assist,
/// callback_op, hvm_op params, memory_op add_to_physmap, console_io,
/// mmu_update / update_va_mapping / mmuext_op, set_segment_base (public
/// xen.h, callback.h, memory.h, hvm/hvm_op.h, hvm/params.h,
/// arch-x86/xen-x86_64.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xen::abi {

// --- vm_assist(unsigned int cmd, unsigned int type) -------------------------

/// `VMASST_CMD_*`.
enum class vmasst_cmd : uint32_t {
    enable = 0,
    disable = 1,
};

/// `VMASST_TYPE_*`.
enum class vmasst_type : uint32_t {
    four_gb_segments = 0,
    four_gb_segments_notify = 1,
    writable_pagetables = 2,
    pae_extended_cr3 = 3,
    architectural_iopl = 4,
    runstate_update_flag = 5, ///< Xen 4.8+: XEN_RUNSTATE_UPDATE protocol in runstate areas
    m2p_strict = 32,
};

// --- callback_op(int cmd, void* arg) ----------------------------------------

/// `CALLBACKOP_*`.
enum class callbackop : int32_t {
    register_ = 0,
    unregister = 1,
};

/// `CALLBACKTYPE_*`.
enum class callback_type : uint16_t {
    event = 0,
    failsafe = 1,
    syscall = 2,
    nmi = 4,
    sysenter = 5,
    syscall32 = 7,
};

/// `CALLBACKF_mask_events`: mask events on entry to the callback.
inline constexpr uint16_t callbackf_mask_events = 1u << 0;

/// `struct callback_register` (x86-64: xen_callback_t is the address).
struct callback_register {
    uint16_t type;    ///< callback_type
    uint16_t flags;   ///< CALLBACKF_*
    uint32_t pad0;    ///< zero
    uint64_t address; ///< the entry point
};
static_assert(sizeof(callback_register) == 16);
static_assert(offsetof(callback_register, address) == 8);

// --- hvm_op(unsigned long op, void* arg) ------------------------------------

/// `HVMOP_*` this library uses.
enum class hvmop : uint64_t {
    set_param = 0,
    get_param = 1,
    set_evtchn_upcall_vector = 23,
};

/// `HVM_PARAM_*` this library uses.
enum class hvm_param : uint32_t {
    callback_irq = 0, ///< how event upcalls reach an HVM/PVH guest
    store_pfn = 1,
    store_evtchn = 2,
    console_pfn = 17,
    console_evtchn = 18,
};

/// Value of HVM_PARAM_CALLBACK_IRQ: `type << 56 | data`.
/// `HVM_PARAM_CALLBACK_TYPE_VECTOR` (2): data is an IDT vector.
inline constexpr uint64_t hvm_callback_type_vector = 2;
/// HVM_PARAM_CALLBACK_IRQ's value for delivery through IDT vector `vector`.
constexpr uint64_t hvm_callback_via_vector(uint8_t vector) noexcept
{
    return (hvm_callback_type_vector << 56) | vector;
}

/// `struct xen_hvm_param`.
struct xen_hvm_param {
    uint16_t domid; ///< DOMID_SELF
    uint16_t pad;   ///< zero
    uint32_t index; ///< hvm_param
    uint64_t value; ///< IN for set, OUT for get
};
static_assert(sizeof(xen_hvm_param) == 16);
static_assert(offsetof(xen_hvm_param, index) == 4);
static_assert(offsetof(xen_hvm_param, value) == 8);

/// `struct xen_hvm_evtchn_upcall_vector` (HVMOP 23, Xen 4.6+): per-vCPU vector.
struct xen_hvm_evtchn_upcall_vector {
    uint32_t vcpu;  ///< the vCPU (Xen's vcpu_id)
    uint8_t vector; ///< the IDT vector Xen raises on it for events
    uint8_t pad[3]; ///< zero
};
static_assert(sizeof(xen_hvm_evtchn_upcall_vector) == 8);

// --- memory_op(unsigned int cmd, void* arg) (public memory.h) --------------

/// `XENMEM_*` commands this library uses.
enum class xenmem : uint32_t {
    add_to_physmap = 7, ///< arg: xen_add_to_physmap (translated guests: HVM/PVH)
};

/// `XENMAPSPACE_*`: what XENMEM_add_to_physmap maps.
enum class xenmapspace : uint32_t {
    shared_info = 0, ///< the domain's shared_info page (idx 0)
    grant_table = 1,
    gmfn = 2,
    gmfn_range = 3,
};

/// `struct xen_add_to_physmap` (x86-64, 24 bytes): make page `idx` of `space`
/// appear at guest frame `gpfn`. Whatever RAM sat at `gpfn` is freed by Xen.
struct xen_add_to_physmap {
    uint16_t domid; ///< DOMID_SELF
    uint16_t size;  ///< pages, gmfn_range only
    uint32_t space; ///< xenmapspace
    uint64_t idx;   ///< index in `space` (0 for shared_info)
    uint64_t gpfn;  ///< guest frame where the page appears
};
static_assert(sizeof(xen_add_to_physmap) == 24);
static_assert(offsetof(xen_add_to_physmap, size) == 2);
static_assert(offsetof(xen_add_to_physmap, space) == 4);
static_assert(offsetof(xen_add_to_physmap, idx) == 8);
static_assert(offsetof(xen_add_to_physmap, gpfn) == 16);

// --- console_io(int cmd, int count, char* buffer) ---------------------------

/// `CONSOLEIO_*` (dom0, or a domU with the Xen console enabled).
enum class consoleio : int32_t {
    write = 0,
    read = 1,
};

// --- set_segment_base(unsigned int which, unsigned long base) (x86-64 PV) ---

/// `SEGBASE_*` (arch-x86/xen-x86_64.h): which segment base a 64-bit PV
/// kernel, which may not write the MSRs itself, asks Xen to set.
enum class segbase : uint32_t {
    fs = 0,          ///< the FS base (MSR_FS_BASE)
    gs_user = 1,     ///< the user GS base, live in MSR_SHADOW_GS_BASE while the kernel runs
    gs_kernel = 2,   ///< the kernel GS base (MSR_GS_BASE while the kernel runs)
    gs_user_sel = 3, ///< load the user %gs from selector base[15:0] (GDT/LDT)
};

// --- memory management (PV) -------------------------------------------------

/// `struct mmu_update`: `ptr` is the machine address of a PTE, low 2 bits the command.
struct mmu_update {
    uint64_t ptr; ///< machine address of the PTE, command in bits 1:0 (MMU_NORMAL_PT_UPDATE ...)
    uint64_t val; ///< the new PTE
};
static_assert(sizeof(mmu_update) == 16);

/// `MMU_NORMAL_PT_UPDATE`.
inline constexpr uint64_t mmu_normal_pt_update = 0;

/// `UVMF_*` flags of update_va_mapping.
inline constexpr uint64_t uvmf_none = 0;
inline constexpr uint64_t uvmf_tlb_flush = 1; ///< flush the whole TLB
inline constexpr uint64_t uvmf_invlpg = 2;    ///< flush this address's TLB entry only
inline constexpr uint64_t uvmf_local = 0;     ///< flush on this vCPU only
inline constexpr uint64_t uvmf_all = 1u << 2; ///< flush on every vCPU of the domain

/// `MMUEXT_*`.
enum class mmuext_cmd : uint32_t {
    pin_l1_table = 0,
    pin_l2_table = 1,
    pin_l3_table = 2,
    pin_l4_table = 3,
    unpin_table = 4,
    new_baseptr = 5,
    tlb_flush_local = 6,
    invlpg_local = 7,
    tlb_flush_multi = 8,
    invlpg_multi = 9,
    tlb_flush_all = 10,
    invlpg_all = 11,
    flush_cache = 12,
    set_ldt = 13,
    new_user_baseptr = 15,
    clear_page = 16,
    copy_page = 17,
    flush_cache_global = 18,
    mark_super = 19,
    unmark_super = 20,
};

/// `struct mmuext_op` (24 bytes).
struct mmuext_op {
    uint32_t cmd;  ///< mmuext_cmd
    uint32_t pad0; ///< zero
    uint64_t arg1; ///< mfn or linear_addr
    uint64_t arg2; ///< nr_ents, vcpumask handle or src_mfn
};
static_assert(sizeof(mmuext_op) == 24);
static_assert(offsetof(mmuext_op, arg1) == 8);
static_assert(offsetof(mmuext_op, arg2) == 16);

} // namespace xen::abi
