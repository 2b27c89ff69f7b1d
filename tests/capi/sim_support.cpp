// The simulated Xen for the C API's host test (capi_test.c), driven
// through a few C-callable helpers: the simulator is C++, the test is C.
// One simulated domain at a time; the calling thread acts as its vCPUs.
#include <memory>
#include <xen/hypercall/sched_op.hpp>

#include <sim/hypervisor.hpp>
#include <xen/abi/guest_context.hpp>
#include <xen/abi/hvm_context.hpp>
#include <xen/event/bitmap.hpp>
#include <xen/hypercall/event_channel_op.hpp>

#include "sim_support.h"

using namespace xen;

namespace {

std::unique_ptr<sim::Hypervisor> hv;
std::unique_ptr<sim::Scope> scope;
abi::vcpu_guest_context pv_ctx{};
abi::vcpu_hvm_context hvm_ctx{};

} // namespace

extern "C" {

void* xvt_sim_start(int pvh, uint32_t vcpus, int xen_4_20)
{
    scope.reset();
    hv.reset();
    sim::Config c;
    c.guest = pvh != 0 ? sim::GuestType::pvh : sim::GuestType::pv;
    c.vcpus = vcpus;
    c.version = xen_4_20 != 0 ? sim::xen_4_20 : sim::xen_4_17_7;
    hv = std::make_unique<sim::Hypervisor>(c);
    scope = std::make_unique<sim::Scope>(*hv, VcpuId{0});
    return &hv->shared_info();
}

void xvt_sim_stop(void)
{
    scope.reset();
    hv.reset();
}

uint32_t xvt_current(void) { return sim::current_vcpu().value; }
void xvt_set_current(uint32_t v) { sim::set_current_vcpu(VcpuId{v}); }
uint64_t xvt_now(void) { return hv->now(); }
void xvt_advance(uint64_t ns) { hv->advance(ns); }
void xvt_preempt(uint32_t v, uint64_t ns) { hv->preempt(VcpuId{v}, ns); }

void xvt_plan_suspend(int cancel, int64_t jump_ns, uint32_t toolstack_ports)
{
    hv->plan_suspend(sim::SuspendPlan{cancel != 0, jump_ns, 0, 0, toolstack_ports});
}
long xvt_suspend_call(uint64_t start_info_mfn) { return xen::hc::sched_suspend(start_info_mfn).value_or(-1); }
void* xvt_shared_info(void) { return &hv->shared_info(); }
uint32_t xvt_restores(void) { return hv->restores(); }
uint64_t xvt_callback_irq(void) { return hv->hvm_param(xen::abi::hvm_param::callback_irq).value_or(0); }
uint64_t xvt_periodic_ns(uint32_t v) { return hv->vcpu(VcpuId{v}).periodic_period_ns; }
bool xvt_runstate_area(uint32_t v) { return hv->runstate_area_va(VcpuId{v}) != nullptr; }
bool xvt_time_area(uint32_t v) { return hv->time_area_va(VcpuId{v}) != nullptr; }
bool xvt_vcpu_info_registered(uint32_t v) { return hv->vcpu(VcpuId{v}).vcpu_info_registered; }

bool xvt_running(uint32_t v)
{
    const sim::VcpuView view = hv->vcpu(VcpuId{v});
    return view.initialised && !view.down && view.woken;
}

uint32_t xvt_nmis(uint32_t v) { return hv->vcpu(VcpuId{v}).nmis; }
uint64_t xvt_vcpuop_calls(int op) { return hv->calls(static_cast<abi::vcpuop>(op)); }

uint32_t xvt_bind_virq_raw(uint32_t virq, uint32_t v)
{
    auto r = hc::evtchn_bind_virq(static_cast<abi::virq>(virq), VcpuId{v});
    return r.has_value() ? r.value().value : 0;
}
bool xvt_port_pending(uint32_t port) { return event::test(hv->shared_info().evtchn_pending, port); }
void xvt_clear_port(uint32_t port) { (void)event::test_and_clear(hv->shared_info().evtchn_pending, port); }

const void* xvt_pv_context(void)
{
    pv_ctx = abi::vcpu_guest_context{};
    pv_ctx.flags = abi::vgcf_in_kernel;
    pv_ctx.event_callback_eip = 0xffff800000001000;
    pv_ctx.failsafe_callback_eip = 0xffff800000002000;
    return &pv_ctx;
}

const void* xvt_hvm_context(void)
{
    hvm_ctx = abi::vcpu_hvm_context{};
    hvm_ctx.mode = static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_64b);
    hvm_ctx.cpu_regs.x86_64.cr0 = (1ull << 31) | 1;            // PG | PE
    hvm_ctx.cpu_regs.x86_64.cr4 = 1ull << 5;                   // PAE
    hvm_ctx.cpu_regs.x86_64.efer = (1ull << 8) | (1ull << 10); // LME | LMA
    hvm_ctx.cpu_regs.x86_64.rip = 0x100000;
    return &hvm_ctx;
}

} // extern "C"
