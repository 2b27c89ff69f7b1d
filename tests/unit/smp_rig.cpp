// The SMP test rig (smp_rig.hpp).
#include "smp_rig.hpp"

namespace smp_test {

namespace {

Rig* current_rig = nullptr;

uint64_t now_ns(void* ctx) noexcept { return static_cast<Rig*>(ctx)->hv.now(); }

uint32_t this_cpu(void* ctx) noexcept
{
    auto* rig = static_cast<Rig*>(ctx);
    const auto cpu = rig->smp->cpu_of(sim::current_vcpu());
    return cpu.has_value() ? *cpu : 0;
}

// The simulator's memory is host memory: a frame is the address >> 12.
xen::FrameNumber frame_of(void*, const void* p) noexcept
{
    return xen::FrameNumber{reinterpret_cast<uintptr_t>(p) / xen::page_size};
}

// Addresses only: the simulator never runs the AP's code or touches its stack.
xen::ApStack stack_of(void*, uint32_t cpu) noexcept
{
    return xen::ApStack{0x4000'0000 + uint64_t{cpu + 1} * 0x4000, 0x5000'0000 + cpu, 0x6000'0000 + cpu};
}

void relax(void* ctx) noexcept { static_cast<Rig*>(ctx)->relax(); }

xen::Result<void> prepare_hook(void* ctx, uint32_t cpu, VcpuId) noexcept
{
    auto* rig = static_cast<Rig*>(ctx);
    if (rig->prepare_hook_error != xen::Errc{})
        return xen::err(rig->prepare_hook_error);
    rig->prepared_by_hook.push_back(cpu);
    return xen::ok();
}

// What the stub calls: the kernel's entry. Here it only checks in.
void ap_entry(xen::ApHandshake& hs) noexcept { current_rig->smp->ap_online(hs.cpu); }

} // namespace

Rig::Rig(sim::Config cfg, uint32_t nr_cpus, xen::VcpuInfoPlacement placement)
    : hv(std::move(cfg)), scope(hv, VcpuId{0}), storage(std::make_unique<xen::EventStorage<ports, max_cpus>>()),
      events(std::make_unique<xen::EventChannels>(hv.shared_info(), *storage)),
      cpus(std::make_unique<xen::SmpCpu[]>(nr_cpus)), scratch(std::make_unique<xen::SmpScratch>()),
      traps(std::make_unique<xen::abi::trap_info[]>(4)), aps(nr_cpus)
{
    current_rig = this;
    events->mask_all();
    // A small virtual IDT: #DE, #BP (DPL 3), #PF, then the terminator.
    traps[0] = xen::abi::trap_info{0, 0, xen::abi::flat_kernel_cs, 0, 0x100000};
    traps[1] = xen::abi::trap_info{3, 3, xen::abi::flat_kernel_cs, 0, 0x100060};
    traps[2] = xen::abi::trap_info{14, 0, xen::abi::flat_kernel_cs, 0, 0x1001c0};
    traps[3] = xen::abi::trap_info{};
    smp = std::make_unique<xen::Smp>(config(placement), cpus.get(), nr_cpus, *scratch);
}

Rig& Rig::current() { return *current_rig; }

xen::SmpConfig Rig::config(xen::VcpuInfoPlacement placement)
{
    xen::SmpConfig c;
    c.guest = hv.config().guest == sim::GuestType::pv ? xen::SmpGuest::pv : xen::SmpGuest::pvh;
    c.shared = &hv.shared_info();
    c.events = events.get();
    c.pv = xen::PvBoot{xen::abi::pfn_to_cr3(0x1234), traps.get(), 0x100400, 0x100440, 0};
    c.hvm = xen::HvmBoot{0x80000011, 0x200000, 0x20, 0x500};
    c.entry_stub = 0x100800;
    c.ap_entry = &ap_entry;
    c.placement = placement;
    c.hooks.ctx = this;
    c.hooks.now_ns = &now_ns;
    c.hooks.this_cpu = &this_cpu;
    c.hooks.frame_of = &frame_of;
    c.hooks.stack_of = &stack_of;
    c.hooks.relax = &smp_test::relax;
    c.hooks.prepare = &prepare_hook;
    return c;
}

void Rig::relax()
{
    ++relaxes;
    hv.advance(step_ns);
    if (!simulate)
        return;
    for (uint32_t cpu = 1; cpu < smp->count(); ++cpu)
        step(cpu);
}

void Rig::step(uint32_t cpu)
{
    ApSim& ap = aps[cpu];
    const VcpuId vcpu = smp->vcpu_of(cpu);
    const sim::VcpuView view = hv.vcpu(vcpu);
    const bool running = view.initialised && !view.down && view.woken;
    if (!running || ap.silent)
        return;

    // Act as the AP's vCPU for this step.
    sim::set_current_vcpu(vcpu);
    xen::SmpCpu& c = smp->cpu(cpu);
    if (!ap.entered) {
        if (ap.entry_delay > 0) {
            --ap.entry_delay;
        } else {
            ap.entered = true;
            xen::ap_set_stage(c.handshake, xen::ApStage::entered); // the stub
            reinterpret_cast<xen::ApEntryFn>(c.handshake.entry)(c.handshake);
        }
    } else if (ap.parked) {
        // Xen runs it again: VCPUOP_up woke it inside its VCPUOP_down.
        ap.parked = false;
        ++ap.resumes;
        smp->resume(cpu);
    } else {
        // Its upcall: the call IPI (and anything else bound to it).
        if (auto* vi = smp->vcpu_info_of(cpu))
            (void)events->dispatch(vcpu, *vi);
        xen::CallMailbox& m = c.mailbox;
        if (m.posted != m.done) {
            ++ap.calls_run;
            (void)smp->service(cpu);
        } else if (__atomic_load_n(&m.park, __ATOMIC_ACQUIRE) != 0) {
            if (ap.park_wait == 0)
                ap.park_wait = ap.park_delay + 1;
            if (--ap.park_wait == 0) {
                __atomic_store_n(&m.park, 0u, __ATOMIC_RELEASE);
                ap.parked = smp->park_begin(cpu).has_value();
            }
        }
    }
    sim::set_current_vcpu(VcpuId{0});
}

xen::BringUpReport Rig::bring_up(xen::BringUpMode mode, xen::WaitBound bound)
{
    if (smp->count() == 0)
        (void)smp->discover();
    return smp->bring_up(mode, bound);
}

} // namespace smp_test
