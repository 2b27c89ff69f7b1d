// The SMP test rig (smp_rig.hpp).
#include "smp_rig.hpp"

namespace smp_test {

namespace {

Rig* current_rig = nullptr;

uint64_t now_ns(void* ctx) noexcept
{
    Rig& rig = *static_cast<Rig*>(ctx);
    if (rig.read_ns != 0)
        rig.hv.advance(rig.read_ns);
    return rig.hv.now();
}

VcpuId current_vcpu(void*) noexcept { return sim::current_vcpu(); }

// The simulator's memory is host memory: a frame is the address >> 12.
xen::FrameNumber frame_of(void*, const void* p) noexcept
{
    return xen::FrameNumber{reinterpret_cast<uintptr_t>(p) / xen::page_size};
}

// Addresses only: the simulator never runs the AP's code or touches its stack.
xen::ApStack ap_stack(void*, VcpuId v) noexcept
{
    return xen::ApStack{0x4000'0000 + uint64_t{v.value + 1} * 0x4000, 0x5000'0000 + v.value, 0x6000'0000 + v.value};
}

void relax(void* ctx) noexcept { static_cast<Rig*>(ctx)->relax(); }

void log(void* ctx, const char* text, size_t len) noexcept { static_cast<Rig*>(ctx)->logged.emplace_back(text, len); }

xen::Result<void> prepare_hook(void* ctx, VcpuId v) noexcept
{
    auto* rig = static_cast<Rig*>(ctx);
    if (rig->prepare_hook_error != xen::Errc{})
        return xen::err(rig->prepare_hook_error);
    rig->prepared_by_hook.push_back(v.value);
    return xen::ok();
}

// What the stub calls: the kernel's entry. Here it only checks in.
void ap_entry(xen::ApHandshake& hs) noexcept
{
    if (current_rig->on_entry)
        current_rig->on_entry(VcpuId{hs.vcpu});
    current_rig->smp->ap_online(VcpuId{hs.vcpu});
}

void before_park(void* ctx, VcpuId v) noexcept
{
    if (auto& f = static_cast<Rig*>(ctx)->on_park)
        f(v);
}

void after_resume(void* ctx, VcpuId v) noexcept
{
    if (auto& f = static_cast<Rig*>(ctx)->on_resume)
        f(v);
}

} // namespace

Rig::Rig(sim::Config cfg, uint32_t nr_slots, xen::VcpuInfoPlacement placement_)
    : hv(std::move(cfg)), scope(hv, VcpuId{0}), slots(std::make_unique<xen::VcpuSlot[]>(nr_slots)),
      port_slots(std::make_unique<xen::EventSlot[]>(ports)), domain(std::make_unique<xen::Domain>()),
      scratch(std::make_unique<xen::SmpScratch>()), traps(std::make_unique<xen::abi::trap_info[]>(4)),
      smp(std::make_unique<xen::Smp>()), aps(nr_slots), placement(placement_)
{
    current_rig = this;
    xen::DomainConfig dc;
    dc.kind = hv.config().guest == sim::GuestType::pv ? xen::GuestKind::pv : xen::GuestKind::pvh;
    dc.shared = &hv.shared_info();
    dc.hooks.ctx = this;
    dc.hooks.current = &current_vcpu;
    dc.hooks.now_ns = &now_ns;
    dc.hooks.frame_of = &frame_of;
    dc.hooks.ap_stack = &ap_stack;
    dc.hooks.relax = &smp_test::relax;
    dc.hooks.ap_prepare = &prepare_hook;
    dc.hooks.log = &smp_test::log;
    dc.hooks.before_park = &before_park;
    dc.hooks.after_resume = &after_resume;
    const auto r = domain->init(dc, slots.get(), nr_slots, port_slots.get(), ports);
    (void)r.value(); // a complete configuration: cannot fail
    events().mask_all();
    // A small virtual IDT: #DE, #BP (DPL 3), #PF, then the terminator.
    traps[0] = xen::abi::trap_info{0, 0, xen::abi::flat_kernel_cs, 0, 0x100000};
    traps[1] = xen::abi::trap_info{3, 3, xen::abi::flat_kernel_cs, 0, 0x100060};
    traps[2] = xen::abi::trap_info{14, 0, xen::abi::flat_kernel_cs, 0, 0x1001c0};
    traps[3] = xen::abi::trap_info{};
}

Rig& Rig::current() { return *current_rig; }

xen::SmpConfig Rig::config()
{
    xen::SmpConfig c;
    c.pv = xen::PvBoot{xen::abi::pfn_to_cr3(0x1234), traps.get(), 0x100400, 0x100440, 0, 0x100480};
    c.hvm = xen::HvmBoot{0x80000011, 0x200000, 0x20, 0x500};
    c.entry_stub = 0x100800;
    c.ap_entry = &ap_entry;
    c.placement = placement;
    return c;
}

xen::Result<uint32_t> Rig::discover(uint32_t limit)
{
    XEN_TRY_ASSIGN(const uint32_t n, domain->discover(limit));
    XEN_TRY(smp->init(*domain, config(), *scratch));
    return n;
}

void Rig::relax()
{
    ++relaxes;
    hv.advance(step_ns);
    if (!simulate)
        return;
    for (uint32_t id = 1; id < smp->count(); ++id)
        step(VcpuId{id});
}

void Rig::step(VcpuId vcpu)
{
    ApSim& ap = aps[vcpu.value];
    const sim::VcpuView view = hv.vcpu(vcpu);
    const bool running = view.initialised && !view.down && view.woken;
    if (!running || ap.silent)
        return;

    // Act as the AP's vCPU for this step.
    sim::set_current_vcpu(vcpu);
    xen::SmpCpu& c = smp->part(vcpu);
    if (!ap.entered) {
        if (ap.entry_delay > 0) {
            --ap.entry_delay;
        } else {
            ap.entered = true;
            xen::ap_set_stage(c.handshake, xen::ApStage::entered); // the stub
            reinterpret_cast<xen::ApEntryFn>(c.handshake.entry)(c.handshake);
        }
    } else if (ap.parked && xen::ap_stage(c.handshake) == xen::ApStage::idle) {
        // Initialised afresh after a restore (Smp::restart): its entry
        // runs again, as at boot.
        ap.parked = false;
        xen::ap_set_stage(c.handshake, xen::ApStage::entered);
        reinterpret_cast<xen::ApEntryFn>(c.handshake.entry)(c.handshake);
    } else if (ap.parked) {
        // Xen runs it again: VCPUOP_up woke it inside its VCPUOP_down.
        ap.parked = false;
        ++ap.resumes;
        smp->resume(vcpu);
    } else {
        // Its upcall: the call IPI (and anything else bound to it).
        if (auto* vi = domain->vcpu_info(vcpu))
            (void)events().dispatch(vcpu, *vi);
        xen::CallMailbox& m = c.mailbox;
        if (m.posted != m.done) {
            ++ap.calls_run;
            (void)smp->service(vcpu);
        } else if (__atomic_load_n(&m.park, __ATOMIC_ACQUIRE) != 0) {
            if (ap.park_wait == 0)
                ap.park_wait = ap.park_delay + 1;
            if (--ap.park_wait == 0) {
                __atomic_store_n(&m.park, 0u, __ATOMIC_RELEASE);
                ap.parked = smp->park_begin(vcpu).has_value();
            }
        }
    }
    sim::set_current_vcpu(VcpuId{0});
}

xen::BringUpReport Rig::bring_up(xen::BringUpMode mode, xen::WaitBound bound)
{
    if (smp->count() == 0)
        (void)discover();
    return smp->bring_up(mode, bound);
}

} // namespace smp_test
