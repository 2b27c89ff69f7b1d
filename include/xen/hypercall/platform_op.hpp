/// \file
/// Typed wrappers for the other hypercalls a guest kernel needs around its
/// vCPUs: vm_assist, callback_op, hvm_op params, console_io, memory_op
/// add_to_physmap (PVH shared_info), and the PV memory, trap-table and
/// segment-base calls used during bring-up.
#pragma once

#include <cstdint>
#include <xen/abi/guest_context.hpp>
#include <xen/abi/platform.hpp>
#include <xen/hypercall/result_from_xen.hpp>
#include <xen/hypercall/transport.hpp>
#include <xen/support/types.hpp>

namespace xen::hc {

/// vm_assist(enable, type). -EINVAL if this Xen does not know `type`
/// (e.g. runstate_update_flag before Xen 4.8).
inline Result<void> vm_assist(abi::vmasst_cmd cmd, abi::vmasst_type type) noexcept
{
    return result_of(
        transport::hypercall2<abi::hypercall::vm_assist>(static_cast<uint32_t>(cmd), static_cast<uint32_t>(type)));
}

/// callback_op(CALLBACKOP_register): PV event, failsafe, syscall, NMI entry points.
inline Result<void> register_callback(abi::callback_type type, uint64_t address, uint16_t flags = 0) noexcept
{
    abi::callback_register arg{static_cast<uint16_t>(type), flags, 0, address};
    return result_of(transport::hypercall2<abi::hypercall::callback_op>(
        static_cast<uint32_t>(abi::callbackop::register_), transport::arg(&arg)));
}

/// HVMOP_set_param on this domain.
inline Result<void> hvm_set_param(abi::hvm_param index, uint64_t value) noexcept
{
    abi::xen_hvm_param arg{abi::domid_self, 0, static_cast<uint32_t>(index), value};
    return result_of(transport::hypercall2<abi::hypercall::hvm_op>(static_cast<uint64_t>(abi::hvmop::set_param),
                                                                   transport::arg(&arg)));
}

/// HVMOP_get_param on this domain.
inline Result<uint64_t> hvm_get_param(abi::hvm_param index) noexcept
{
    abi::xen_hvm_param arg{abi::domid_self, 0, static_cast<uint32_t>(index), 0};
    XEN_TRY(result_of(transport::hypercall2<abi::hypercall::hvm_op>(static_cast<uint64_t>(abi::hvmop::get_param),
                                                                    transport::arg(&arg))));
    return arg.value;
}

/// HVMOP_set_evtchn_upcall_vector: per-vCPU upcall vector (Xen 4.6+), the
/// way to get event upcalls on a vCPU of an HVM/PVH guest through its own LAPIC vector.
inline Result<void> hvm_set_evtchn_upcall_vector(VcpuId vcpu, uint8_t vector) noexcept
{
    abi::xen_hvm_evtchn_upcall_vector arg{vcpu.value, vector, {0, 0, 0}};
    return result_of(transport::hypercall2<abi::hypercall::hvm_op>(
        static_cast<uint64_t>(abi::hvmop::set_evtchn_upcall_vector), transport::arg(&arg)));
}

/// memory_op(XENMEM_add_to_physmap): make page `idx` of `space` appear at
/// guest frame `gpfn`. Only for translated guests (HVM/PVH); a PV guest maps
/// machine frames with update_va_mapping instead. PVH uses it to map
/// shared_info (space shared_info, idx 0). Fails with Xen's errno, e.g.
/// -EINVAL for an unknown space or index.
inline Result<void> add_to_physmap(abi::xenmapspace space, uint64_t idx, uint64_t gpfn) noexcept
{
    abi::xen_add_to_physmap arg{abi::domid_self, 0, static_cast<uint32_t>(space), idx, gpfn};
    return result_of(transport::hypercall2<abi::hypercall::memory_op>(
        static_cast<uint32_t>(abi::xenmem::add_to_physmap), transport::arg(&arg)));
}

/// console_io(CONSOLEIO_write): Xen's own console (dom0, or a debug Xen).
inline Result<void> console_write(const char* text, uint32_t len) noexcept
{
    return result_of(transport::hypercall3<abi::hypercall::console_io>(static_cast<uint32_t>(abi::consoleio::write),
                                                                       len, transport::arg(text)));
}

/// set_trap_table: install a PV virtual IDT (terminated by an entry with address 0).
inline Result<void> set_trap_table(const abi::trap_info* table) noexcept
{
    return result_of(transport::hypercall1<abi::hypercall::set_trap_table>(transport::arg(table)));
}

/// update_va_mapping: write one PTE of the current address space (PV).
inline Result<void> update_va_mapping(uint64_t va, uint64_t pte, uint64_t flags) noexcept
{
    return result_of(transport::hypercall3<abi::hypercall::update_va_mapping>(va, pte, flags));
}

/// mmu_update: a batch of checked PTE writes (PV). `done` may be null.
inline Result<void> mmu_update(const abi::mmu_update* reqs, uint32_t count, uint32_t* done) noexcept
{
    return result_of(transport::hypercall4<abi::hypercall::mmu_update>(transport::arg(reqs), count,
                                                                       transport::arg(done), abi::domid_self));
}

/// set_segment_base(which, base) (hypercall 25, x86-64 PV only): set a
/// segment base a PV kernel cannot write as an MSR itself, e.g. the
/// kernel GS base that points at per-CPU data. Acts on the calling vCPU.
/// fs, gs_user, gs_kernel take a 64-bit address; gs_user_sel loads the
/// user %gs from selector base[15:0] (a faulting selector is not reported:
/// Xen loads the NUL selector and answers 0). Errors: invalid_argument for
/// a `which` Xen does not define (not attempted); -EINVAL for a
/// non-canonical address (Xen releases that still let the MSR write
/// fault answered -EFAULT); -ENOSYS for an HVM/PVH guest (not in its
/// hypercall table: write MSR_FS_BASE / MSR_GS_BASE / MSR_KERNEL_GS_BASE
/// instead, arch::wrmsr) and for 32-bit PV.
inline Result<void> set_segment_base(abi::segbase which, uint64_t base) noexcept
{
    if (static_cast<uint32_t>(which) > static_cast<uint32_t>(abi::segbase::gs_user_sel))
        return err(Errc::invalid_argument);
    return result_of(transport::hypercall2<abi::hypercall::set_segment_base>(static_cast<uint32_t>(which), base));
}

/// mmuext_op: pin tables, switch base pointers, flush TLBs (PV).
inline Result<void> mmuext_op(const abi::mmuext_op* ops, uint32_t count, uint32_t* done) noexcept
{
    return result_of(transport::hypercall4<abi::hypercall::mmuext_op>(transport::arg(ops), count, transport::arg(done),
                                                                      abi::domid_self));
}

} // namespace xen::hc
