// SMP in the minikernel (smp.hpp): per-CPU blocks, the library's xen::Smp
// over the domain's slots, the AP's entry and idle loop, and run_on.
#include "smp.hpp"

#include <xen/arch/x86.hpp>
#include <xen/event/upcall.hpp>
#include <xen/hypercall/platform_op.hpp>
#include <xen/hypercall/sched_op.hpp>
#include <xen/smp.hpp>

#include "console.hpp"
#include "descriptors.hpp"
#include "events.hpp"
#include "kernel.hpp"
#include "lifecycle.hpp"
#include "percpu.hpp"
#include "smp_internal.hpp"
#include "timers.hpp"
#include "traps.hpp"

namespace mk::smp {

// entry_ap.S reads the handshake by these offsets.
static_assert(xen::ap_handshake_stage_offset == 0 && xen::ap_handshake_entry_offset == 24);
static_assert(static_cast<uint32_t>(xen::ApStage::entered) == 1);

namespace {

constexpr size_t stack_size = 16384;
constexpr size_t ist_size = 4096;

PerCpu blocks[max_vcpus];
// The APs' stacks (vCPU 0 runs on the boot stack) and every vCPU's IST
// stack (PVH: NMI and #DF).
alignas(16) char stacks[max_vcpus][stack_size];
alignas(16) char ist_stacks[max_vcpus][ist_size];

// The library's controller and the initialise argument (a PV context is
// 5 KiB: too big for a stack). Constant-initialised, like the domain.
constinit xen::Smp controller_;
xen::SmpScratch scratch;
bool controller_ready = false;

bool ready = false;

xen::PvBoot pv_boot{};
xen::abi::vcpu_info no_vcpu_info{};
BringUp first_bring_up{};

void set_gs_base(PerCpu& pc) noexcept
{
    if (guest_type() == GuestType::pvh) {
        xen::arch::wrmsr(xen::arch::Msr::gs_base, reinterpret_cast<uint64_t>(&pc));
        return;
    }
    // A PV kernel cannot write the MSR: HYPERVISOR_set_segment_base does.
    const auto r = xen::hc::set_segment_base(xen::abi::segbase::gs_kernel, reinterpret_cast<uint64_t>(&pc));
    if (!r) {
        console::print("Bail out! set_segment_base(GS_KERNEL) failed: ", xen::errc_name(r.error()), "\n");
        machine_crash();
    }
}

// --- the AP -------------------------------------------------------------------

// Sleep until an event, upcalls off before and after: xen::safe_halt (PV
// SCHEDOP_block, PVH sti;hlt) cannot sleep through one that came after
// the last look.
void idle_block() noexcept { (void)xen::safe_halt(guest_type(), this_vcpu_info()); }

[[noreturn]] void idle_loop(xen::VcpuId v) noexcept
{
    for (;;) {
        // Calls run with upcalls on, in thread context.
        events::enable();
        while (controller_.service(v) != xen::Smp::Served::nothing) {
        }
        events::disable();
        // Anything posted after the last look wakes us: check with upcalls off.
        if (!controller_.pending(v))
            idle_block();
    }
}

// Called by entry_ap.S with this AP's handshake.
[[noreturn]] void ap_main(xen::ApHandshake& hs) noexcept
{
    PerCpu& pc = *reinterpret_cast<PerCpu*>(hs.arg);
    const xen::VcpuId v{pc.vcpu};
    if (guest_type() == GuestType::pvh) {
        // Nothing may fault before this: Xen gave us no IDT.
        load_cpu_tables(pc, ist_stacks[v.value] + ist_size);
        xen::arch::wrmsr(xen::arch::Msr::gs_base, reinterpret_cast<uint64_t>(&pc));
    }
    // PV: Xen loaded the GS base, the trap table and the callbacks from the
    // context; events stay masked in our vcpu_info until the idle loop.
    // Restarted after a restore (docs/lifecycle.md): its timers are still
    // queued and their VIRQ bound again by the library; program them.
    if (lifecycle::suspending() && timers::cpu_state(v).bound())
        (void)timers::take_over(v);
    controller_.ap_online(v);
    idle_loop(v);
}

xen::HvmBoot read_hvm_boot() noexcept
{
    xen::HvmBoot b{};
    asm volatile("mov %%cr0, %0" : "=r"(b.cr0));
    asm volatile("mov %%cr3, %0" : "=r"(b.cr3));
    asm volatile("mov %%cr4, %0" : "=r"(b.cr4));
    b.efer = xen::arch::rdmsr(xen::arch::Msr::efer);
    return b;
}

xen::Result<void> make_controller() noexcept
{
    xen::SmpConfig c;
    c.pv = pv_boot;
    if (guest_type() == GuestType::pvh)
        c.hvm = read_hvm_boot();
    c.entry_stub = reinterpret_cast<uint64_t>(ap_entry_stub);
    c.ap_entry = &ap_main;
    XEN_TRY(controller_.init(domain(), c, scratch));
    controller_ready = true;
    return xen::ok();
}

} // namespace

// --- per-CPU and the domain's hooks ---------------------------------------------

PerCpu& percpu(xen::VcpuId v) noexcept { return blocks[v.value]; }

bool percpu_ready() noexcept { return ready; }

char* ist_top(xen::VcpuId v) noexcept { return ist_stacks[v.value] + ist_size; }

void init_boot_cpu(xen::abi::vcpu_info* vcpu_info) noexcept
{
    PerCpu& pc = blocks[0];
    pc.self = &pc;
    pc.vcpu = xen::boot_vcpu.value;
    pc.vcpu_info = vcpu_info;
    set_gs_base(pc);
    ready = true;
}

void set_pv_boot(uint64_t cr3, const xen::abi::trap_info* traps) noexcept
{
    pv_boot = xen::PvBoot{cr3, traps, reinterpret_cast<uint64_t>(pv_event_callback),
                          reinterpret_cast<uint64_t>(pv_failsafe_callback), 0};
}

xen::ApStack ap_stack(xen::VcpuId v) noexcept
{
    const auto top = reinterpret_cast<uint64_t>(stacks[v.value] + stack_size);
    const auto block = reinterpret_cast<uint64_t>(&blocks[v.value]);
    return xen::ApStack{top, block, block};
}

xen::Result<void> prepare_percpu(xen::VcpuId v) noexcept
{
    if (v.value >= max_vcpus)
        return xen::err(xen::Errc::vcpu_out_of_range);
    PerCpu& pc = blocks[v.value];
    pc.self = &pc;
    pc.vcpu = v.value;
    pc.vcpu_info = &vcpu_info_of(v);
    // PV vCPUs start with a 100 Hz periodic timer (pv/domain.c); a tickless
    // kernel stops it on every vCPU (docs/vcpuop.md, "Semantics worth knowing"). PVH vCPUs have none,
    // and there every hypercall is a VM exit: skip it.
    if (guest_type() == GuestType::pv)
        (void)domain().stop_periodic_timer(v);
    return xen::ok();
}

void serve_while_waiting() noexcept
{
    if (controller_ready && controller_.pending(this_vcpu()))
        (void)controller_.service(this_vcpu());
}

xen::Smp* controller() noexcept { return controller_ready ? &controller_ : nullptr; }

const BringUp& bring_up_record() noexcept { return first_bring_up; }

// --- smp.hpp --------------------------------------------------------------------

xen::VcpuId this_vcpu() noexcept
{
    if (!ready)
        return xen::boot_vcpu;
    uint32_t vcpu;
    asm volatile("movl %%gs:8, %0" : "=r"(vcpu));
    return xen::VcpuId{vcpu};
}

xen::abi::vcpu_info& this_vcpu_info() noexcept
{
    if (!ready)
        return *blocks[0].vcpu_info;
    return *this_percpu().vcpu_info;
}

uint32_t vcpu_count() noexcept { return controller_ready ? controller_.count() : 1; }

xen::abi::vcpu_info& vcpu_info_of(xen::VcpuId v) noexcept
{
    if (xen::abi::vcpu_info* vi = domain().vcpu_info(v))
        return *vi;
    // A vCPU >= 32 whose vcpu_info could not be registered has none that
    // Xen writes: a zeroed stand-in (version 0, never updated).
    return no_vcpu_info;
}

bool is_online(xen::VcpuId v) noexcept
{
    if (v == xen::boot_vcpu)
        return true;
    return controller_ready && controller_.state(v) == xen::CpuState::online;
}

uint32_t online_count() noexcept { return controller_ready ? controller_.online_count() : 1; }

xen::Result<uint32_t> ensure_online(Mode mode) noexcept
{
    if (this_vcpu() != xen::boot_vcpu)
        return xen::err(xen::Errc::not_current_vcpu);
    if (controller_ready)
        return controller_.online_count();
    if (guest_type() == GuestType::pv && pv_boot.cr3 == 0)
        return xen::err(xen::Errc::invalid_argument);
    if (auto count = domain().discover(); !count.has_value()) {
        first_bring_up.discover_error = count.error();
        return xen::err(count.error());
    }
    XEN_TRY(make_controller());
    first_bring_up.mode = mode;
    first_bring_up.report = controller_.bring_up(mode == Mode::serial ? xen::BringUpMode::serial
                                                                      : xen::BringUpMode::parallel);
    first_bring_up.done = true;
    return controller_.online_count();
}

xen::Result<void> run_on(xen::VcpuId v, CallFn fn, void* arg, uint64_t timeout_ns) noexcept
{
    if (v.value >= vcpu_count())
        return xen::err(xen::Errc::vcpu_out_of_range);
    if (v == this_vcpu()) {
        fn(arg);
        return xen::ok();
    }
    // Every poll makes a hypercall (sched_yield: well over 100 ns), so the
    // poll count ends the wait even if the clock stood still.
    return controller_.call(v, fn, arg, xen::WaitBound{timeout_ns, timeout_ns / 100 + 1000});
}

} // namespace mk::smp
