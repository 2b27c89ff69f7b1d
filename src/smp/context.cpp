// The first register state of an AP (xen/smp/context.hpp).
#include <xen/smp/context.hpp>

namespace xen {

namespace {

constexpr bool canonical(uint64_t va) noexcept
{
    const auto top = static_cast<int64_t>(va) >> 47;
    return top == 0 || top == -1;
}

Result<void> check_launch(const ApLaunch& launch) noexcept
{
    if (launch.rip == 0 || !canonical(launch.rip) || !canonical(launch.stack_top))
        return err(Errc::invalid_argument);
    if (launch.stack_top == 0 || launch.stack_top % 16 != 0 || launch.handshake == 0)
        return err(Errc::invalid_argument);
    return ok();
}

constexpr uint8_t nmi_vector = 2;
// trap_info.flags bit 2 (public arch-x86/xen.h, TI_SET_IF): deliver with
// events masked, as an interrupt gate clears IF.
constexpr uint8_t trap_info_mask_events = 4;

constexpr uint64_t cr0_pe = uint64_t{1} << 0;
constexpr uint64_t cr0_pg = uint64_t{1} << 31;
constexpr uint64_t cr4_pae = uint64_t{1} << 5;
constexpr uint64_t efer_lme = uint64_t{1} << 8;

} // namespace

Result<void> make_pv_context(const PvBoot& boot, const ApLaunch& launch, abi::vcpu_guest_context& out) noexcept
{
    XEN_TRY(check_launch(launch));
    if (boot.cr3 == 0 || !canonical(boot.event_callback) || !canonical(boot.failsafe_callback) ||
        !canonical(boot.syscall_callback) || !canonical(boot.nmi_callback))
        return err(Errc::invalid_argument);

    out = abi::vcpu_guest_context{};
    // In kernel mode from the first instruction (so no user L4 is needed:
    // ctrlreg[1] may stay 0). Not VGCF_online: see the header.
    out.flags = abi::vgcf_in_kernel | abi::vgcf_failsafe_disables_events;

    auto& r = out.user_regs;
    r.rip = launch.rip;
    r.rsp = launch.stack_top;
    r.rdi = launch.handshake;
    r.cs = abi::flat_kernel_cs;
    r.ss = abi::flat_kernel_ss;
    r.ds = r.es = abi::flat_kernel_ds;
    r.rflags = ap_initial_rflags;

    // The virtual IDT: set_trap_table takes a list, the context an array
    // indexed by vector (Xen copies trap_ctxt[] whole).
    if (boot.trap_table != nullptr) {
        uint32_t n = 0;
        for (const abi::trap_info* t = boot.trap_table; t->address != 0; ++t) {
            if (++n > 256)
                return err(Errc::invalid_argument);
            out.trap_ctxt[t->vector] = *t;
        }
    }

    // The NMI callback: what CALLBACKOP_register(CALLBACKTYPE_nmi) would set
    // on the AP itself (Xen's register_guest_nmi_callback: trap_ctxt[2],
    // the flat kernel CS, events masked on entry), but in place before the
    // AP's first instruction, when an NMI left pending for it is delivered.
    if (boot.nmi_callback != 0)
        out.trap_ctxt[nmi_vector] = abi::trap_info{nmi_vector, trap_info_mask_events, abi::flat_kernel_cs, 0,
                                                   boot.nmi_callback};

    // No GDT of our own (gdt_ents 0): Xen's reserved entries hold the flat
    // ring-3 selectors, as for the boot vCPU. The stack Xen switches to when
    // an event arrives in user mode (the PV "TSS"); this kernel never leaves
    // kernel mode, but the AP's own stack is the only right answer.
    out.kernel_ss = abi::flat_kernel_ss;
    out.kernel_sp = launch.stack_top;
    out.ctrlreg[3] = boot.cr3;
    out.event_callback_eip = boot.event_callback;
    out.failsafe_callback_eip = boot.failsafe_callback;
    out.syscall_callback_eip = boot.syscall_callback;
    out.gs_base_kernel = launch.gs_base;
    return ok();
}

Result<void> make_hvm_context(const HvmBoot& boot, const ApLaunch& launch, abi::vcpu_hvm_context& out) noexcept
{
    XEN_TRY(check_launch(launch));
    // What arch_set_info_hvm_guest demands of 64-bit mode.
    if ((boot.cr0 & (cr0_pg | cr0_pe)) != (cr0_pg | cr0_pe) || (boot.cr4 & cr4_pae) == 0 ||
        (boot.efer & efer_lme) == 0 || boot.cr3 == 0)
        return err(Errc::invalid_argument);

    out = abi::vcpu_hvm_context{};
    out.mode = static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_64b);
    auto& r = out.cpu_regs.x86_64;
    r.rip = launch.rip;
    r.rsp = launch.stack_top;
    r.rdi = launch.handshake;
    r.rflags = ap_initial_rflags;
    r.cr0 = boot.cr0;
    r.cr3 = boot.cr3;
    r.cr4 = boot.cr4;
    r.efer = boot.efer;
    return ok();
}

} // namespace xen
