// SMP in the minikernel (smp.hpp): per-CPU blocks, the library's xen::Smp
// over static per-CPU storage, the AP's entry and idle loop, and run_on.
#include "smp.hpp"

#include <new>
#include <xen/arch/x86.hpp>
#include <xen/event/upcall.hpp>
#include <xen/hypercall/platform_op.hpp>
#include <xen/hypercall/sched_op.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>
#include <xen/time/pvclock.hpp>

#include "console.hpp"
#include "descriptors.hpp"
#include "events.hpp"
#include "kernel.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "smp_internal.hpp"
#include "traps.hpp"

namespace mk::smp {

// entry_ap.S reads the handshake by these offsets.
static_assert(xen::ap_handshake_stage_offset == 0 && xen::ap_handshake_entry_offset == 24);
static_assert(static_cast<uint32_t>(xen::ApStage::entered) == 1);

namespace {

constexpr size_t stack_size = 16384;
constexpr size_t ist_size = 4096;

PerCpu blocks[max_cpus];
// The APs' stacks (CPU 0 runs on the boot stack) and every CPU's IST stack
// (PVH: NMI and #DF).
alignas(16) char stacks[max_cpus][stack_size];
alignas(16) char ist_stacks[max_cpus][ist_size];

// The library's per-CPU storage and the initialise argument.
xen::SmpCpu smp_cpus[max_cpus];
xen::SmpScratch scratch;
alignas(xen::Smp) unsigned char smp_space[sizeof(xen::Smp)];
xen::Smp* controller_ = nullptr;

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

// --- the library's hooks ------------------------------------------------------

uint64_t hook_now(void*) noexcept
{
    return xen::pvclock_read(this_vcpu_info().time)
        .transform([](xen::PvclockTime t) { return t.system_time_ns; })
        .value_or(0);
}

uint32_t hook_this_cpu(void*) noexcept { return this_cpu(); }

xen::FrameNumber hook_frame_of(void*, const void* p) noexcept { return xen_frame_of(p); }

xen::ApStack hook_stack_of(void*, uint32_t cpu) noexcept
{
    const auto top = reinterpret_cast<uint64_t>(stacks[cpu] + stack_size);
    const auto block = reinterpret_cast<uint64_t>(&blocks[cpu]);
    return xen::ApStack{top, block, block};
}

// The controller waits: give the pCPU away. With more vCPUs than pCPUs the
// AP we wait for may share ours (dom0_vcpus_pin), and it runs only if we
// let it.
void hook_relax(void*) noexcept
{
    // A CPU waiting for another serves its own calls meanwhile (CPU 0 runs
    // calls only here: it has no idle loop while the scenarios run).
    if (ready && controller_->pending(this_cpu()))
        (void)controller_->service(this_cpu());
    (void)xen::hc::sched_yield();
}

xen::Result<void> hook_prepare(void*, uint32_t cpu, xen::VcpuId vcpu) noexcept
{
    PerCpu& pc = blocks[cpu];
    pc.self = &pc;
    pc.cpu = cpu;
    pc.vcpu = vcpu.value;
    pc.vcpu_info = controller_->vcpu_info_of(cpu);
    // PV vCPUs start with a 100 Hz periodic timer (pv/domain.c); a tickless
    // kernel stops it on every vCPU (XEN-FACTS F12). PVH vCPUs have none,
    // and there every hypercall is a VM exit: skip it.
    if (guest_type() == GuestType::pv)
        (void)xen::hc::stop_periodic_timer(vcpu);
    return xen::ok();
}

// --- the AP -------------------------------------------------------------------

// Sleep until an event, upcalls off before and after: xen::safe_halt (PV
// SCHEDOP_block, PVH sti;hlt) cannot sleep through one that came after
// the last look.
void idle_block() noexcept { (void)xen::safe_halt(guest_kind(), this_vcpu_info()); }

[[noreturn]] void idle_loop(uint32_t cpu) noexcept
{
    for (;;) {
        // Calls run with upcalls on, in thread context.
        events::enable();
        while (controller_->service(cpu) != xen::Smp::Served::nothing) {
        }
        events::disable();
        // Anything posted after the last look wakes us: check with upcalls off.
        if (!controller_->pending(cpu))
            idle_block();
    }
}

// Called by entry_ap.S with this AP's handshake.
[[noreturn]] void ap_main(xen::ApHandshake& hs) noexcept
{
    PerCpu& pc = *reinterpret_cast<PerCpu*>(hs.arg);
    if (guest_type() == GuestType::pvh) {
        // Nothing may fault before this: Xen gave us no IDT.
        load_cpu_tables(pc, ist_stacks[pc.cpu] + ist_size);
        xen::arch::wrmsr(xen::arch::Msr::gs_base, reinterpret_cast<uint64_t>(&pc));
    }
    // PV: Xen loaded the GS base, the trap table and the callbacks from the
    // context; events stay masked in our vcpu_info until the idle loop.
    controller_->ap_online(pc.cpu);
    idle_loop(pc.cpu);
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

xen::Smp& make_controller() noexcept
{
    xen::SmpConfig c;
    c.guest = guest_type() == GuestType::pv ? xen::SmpGuest::pv : xen::SmpGuest::pvh;
    c.shared = events::shared_info();
    c.events = &events::channels();
    c.pv = pv_boot;
    if (guest_type() == GuestType::pvh)
        c.hvm = read_hvm_boot();
    c.entry_stub = reinterpret_cast<uint64_t>(ap_entry_stub);
    c.ap_entry = &ap_main;
    c.hooks.now_ns = &hook_now;
    c.hooks.this_cpu = &hook_this_cpu;
    c.hooks.frame_of = &hook_frame_of;
    c.hooks.stack_of = &hook_stack_of;
    c.hooks.relax = &hook_relax;
    c.hooks.prepare = &hook_prepare;
    return *new (smp_space) xen::Smp(c, smp_cpus, max_cpus, scratch);
}

} // namespace

// --- per-CPU --------------------------------------------------------------------

PerCpu& percpu(uint32_t cpu) noexcept { return blocks[cpu]; }

bool percpu_ready() noexcept { return ready; }

char* ist_top(uint32_t cpu) noexcept { return ist_stacks[cpu] + ist_size; }

void init_boot_cpu(xen::abi::vcpu_info* vcpu_info) noexcept
{
    PerCpu& pc = blocks[0];
    pc.self = &pc;
    pc.cpu = 0;
    pc.vcpu = 0;
    pc.vcpu_info = vcpu_info;
    set_gs_base(pc);
    ready = true;
}

void set_pv_boot(uint64_t cr3, const xen::abi::trap_info* traps) noexcept
{
    pv_boot = xen::PvBoot{cr3, traps, reinterpret_cast<uint64_t>(pv_event_callback),
                          reinterpret_cast<uint64_t>(pv_failsafe_callback), 0};
}

xen::Smp* controller() noexcept { return controller_; }

uint64_t controller_now() noexcept { return hook_now(nullptr); }

xen::Area<xen::abi::vcpu_info>& vcpu_info_storage(uint32_t vcpu) noexcept { return smp_cpus[vcpu].vcpu_info; }

void adopt_vcpu_info(uint32_t vcpu) noexcept { smp_cpus[vcpu].info_registered = true; }

const BringUp& bring_up_record() noexcept { return first_bring_up; }

// --- smp.hpp --------------------------------------------------------------------

uint32_t this_cpu() noexcept
{
    if (!ready)
        return 0;
    uint32_t cpu;
    asm volatile("movl %%gs:8, %0" : "=r"(cpu));
    return cpu;
}

xen::VcpuId this_vcpu() noexcept
{
    if (!ready)
        return xen::VcpuId{0};
    uint32_t vcpu;
    asm volatile("movl %%gs:12, %0" : "=r"(vcpu));
    return xen::VcpuId{vcpu};
}

xen::abi::vcpu_info& this_vcpu_info() noexcept
{
    if (!ready)
        return events::shared_info()->vcpu_info[0];
    return *this_percpu().vcpu_info;
}

uint32_t cpu_count() noexcept { return controller_ != nullptr ? controller_->count() : 1; }

xen::VcpuId vcpu_of(uint32_t cpu) noexcept
{
    return controller_ != nullptr ? controller_->vcpu_of(cpu) : xen::VcpuId{cpu};
}

xen::abi::vcpu_info& vcpu_info_of(uint32_t cpu) noexcept
{
    if (cpu == 0 || controller_ == nullptr)
        return *blocks[0].vcpu_info;
    if (xen::abi::vcpu_info* vi = controller_->vcpu_info_of(cpu))
        return *vi;
    // A vCPU >= 32 whose vcpu_info could not be registered has none that
    // Xen writes: a zeroed stand-in (version 0, never updated).
    return no_vcpu_info;
}

bool is_online(uint32_t cpu) noexcept
{
    if (cpu == 0)
        return true;
    return controller_ != nullptr && controller_->state(cpu) == xen::CpuState::online;
}

uint32_t online_count() noexcept { return controller_ != nullptr ? controller_->online_count() : 1; }

xen::Result<uint32_t> ensure_online(Mode mode) noexcept
{
    if (this_cpu() != 0)
        return xen::err(xen::Errc::not_current_vcpu);
    if (controller_ != nullptr)
        return controller_->online_count();
    if (guest_type() == GuestType::pv && pv_boot.cr3 == 0)
        return xen::err(xen::Errc::invalid_argument);
    controller_ = &make_controller();
    auto count = controller_->discover();
    if (!count.has_value()) {
        first_bring_up.discover_error = count.error();
        return xen::err(count.error());
    }
    first_bring_up.mode = mode;
    first_bring_up.report = controller_->bring_up(
        mode == Mode::serial ? xen::BringUpMode::serial : xen::BringUpMode::parallel);
    first_bring_up.done = true;
    return controller_->online_count();
}

xen::Result<void> run_on(uint32_t cpu, CallFn fn, void* arg, uint64_t timeout_ns) noexcept
{
    if (cpu >= cpu_count())
        return xen::err(xen::Errc::vcpu_out_of_range);
    if (cpu == this_cpu()) {
        fn(arg);
        return xen::ok();
    }
    // Every poll makes a hypercall (sched_yield: well over 100 ns), so the
    // poll count ends the wait even if the clock stood still.
    return controller_->call(cpu, fn, arg, xen::WaitBound{timeout_ns, timeout_ns / 100 + 1000});
}

} // namespace mk::smp
