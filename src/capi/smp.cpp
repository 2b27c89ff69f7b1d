// The C API's SMP part: bring-up, hotplug, IPIs and calls, each function
// forwarding to xen::Smp (include/xenvcpu.h).
#include <new>

#include "capi.hpp"

using namespace xen;
using namespace xen::capi;

namespace xen::capi {
namespace {

static_assert(sizeof(Smp) == XENVCPU_SMP_SIZE && alignof(Smp) == XENVCPU_SMP_ALIGN);
static_assert(sizeof(SmpScratch) == XENVCPU_SMP_SCRATCH_SIZE && alignof(SmpScratch) == XENVCPU_SMP_SCRATCH_ALIGN);

// The handshake is shared with the AP's entry code in both spellings.
static_assert(sizeof(xenvcpu_ap_handshake) == sizeof(ApHandshake));
static_assert(alignof(xenvcpu_ap_handshake) == alignof(ApHandshake));
static_assert(offsetof(xenvcpu_ap_handshake, stage) == offsetof(ApHandshake, stage));
static_assert(offsetof(xenvcpu_ap_handshake, generation) == offsetof(ApHandshake, generation));
static_assert(offsetof(xenvcpu_ap_handshake, vcpu) == offsetof(ApHandshake, vcpu));
static_assert(offsetof(xenvcpu_ap_handshake, stack_top) == offsetof(ApHandshake, stack_top));
static_assert(offsetof(xenvcpu_ap_handshake, entry) == offsetof(ApHandshake, entry));
static_assert(offsetof(xenvcpu_ap_handshake, arg) == offsetof(ApHandshake, arg));
static_assert(offsetof(xenvcpu_ap_handshake, start_ns) == offsetof(ApHandshake, start_ns));
static_assert(offsetof(xenvcpu_ap_handshake, online_ns) == offsetof(ApHandshake, online_ns));
static_assert(XENVCPU_AP_STAGE_IDLE == static_cast<int>(ApStage::idle) &&
              XENVCPU_AP_STAGE_ENTERED == static_cast<int>(ApStage::entered) &&
              XENVCPU_AP_STAGE_ONLINE == static_cast<int>(ApStage::online) &&
              XENVCPU_AP_STAGE_PARKED == static_cast<int>(ApStage::parked));
static_assert(XENVCPU_CPU_ABSENT == static_cast<int>(CpuState::absent) &&
              XENVCPU_CPU_DOWN == static_cast<int>(CpuState::down) &&
              XENVCPU_CPU_PREPARED == static_cast<int>(CpuState::prepared) &&
              XENVCPU_CPU_STARTING == static_cast<int>(CpuState::starting) &&
              XENVCPU_CPU_ONLINE == static_cast<int>(CpuState::online) &&
              XENVCPU_CPU_PARKING == static_cast<int>(CpuState::parking) &&
              XENVCPU_CPU_PARKED == static_cast<int>(CpuState::parked) &&
              XENVCPU_CPU_RESUMING == static_cast<int>(CpuState::resuming));
static_assert(XENVCPU_SERVED_NOTHING == static_cast<int>(Smp::Served::nothing) &&
              XENVCPU_SERVED_CALL == static_cast<int>(Smp::Served::call) &&
              XENVCPU_SERVED_PARKED == static_cast<int>(Smp::Served::parked));
static_assert(WaitBound{}.timeout_ns == XENVCPU_WAIT_TIMEOUT_NS && WaitBound{}.max_polls == XENVCPU_WAIT_MAX_POLLS);

// The AP entry and call functions are passed through as they are: the C
// entry takes xenvcpu_ap_handshake*, ApEntryFn ApHandshake& (a pointer in
// the ABI, to the same layout, checked above); the entry stub calls it
// from assembly anyway. A call function is void(void*) on both sides.
ApEntryFn entry_of(xenvcpu_ap_entry_fn f) noexcept
{
    return reinterpret_cast<ApEntryFn>(reinterpret_cast<void (*)()>(f));
}
CallFn call_of(xenvcpu_call_fn f) noexcept { return reinterpret_cast<CallFn>(reinterpret_cast<void (*)()>(f)); }

VcpuId id(uint32_t v) noexcept { return VcpuId{v}; }

} // namespace
} // namespace xen::capi

extern "C" {

xenvcpu_errc xenvcpu_smp_init(xenvcpu_smp* smp, xenvcpu_domain* d, const xenvcpu_smp_config* config,
                              xenvcpu_smp_scratch* scratch) noexcept
{
    if (smp == nullptr || d == nullptr || config == nullptr || scratch == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    SmpConfig c;
    c.pv = PvBoot{config->pv.cr3, static_cast<const abi::trap_info*>(config->pv.trap_table), config->pv.event_callback,
                  config->pv.failsafe_callback, config->pv.syscall_callback};
    c.hvm = HvmBoot{config->hvm.cr0, config->hvm.cr3, config->hvm.cr4, config->hvm.efer};
    c.entry_stub = config->entry_stub;
    c.ap_entry = entry_of(config->ap_entry);
    c.placement = config->placement == XENVCPU_VCPU_INFO_BEYOND_LEGACY ? VcpuInfoPlacement::beyond_legacy
                                                                       : VcpuInfoPlacement::every_ap;
    Smp* s = new (smp->opaque) Smp();
    return code(s->init(dom(d), c, *new (scratch->opaque) SmpScratch()));
}

xenvcpu_cpu_state xenvcpu_smp_state(const xenvcpu_smp* smp, uint32_t v) noexcept
{
    return static_cast<xenvcpu_cpu_state>(of(smp).state(id(v)));
}
uint32_t xenvcpu_smp_count(const xenvcpu_smp* smp) noexcept { return of(smp).count(); }
uint32_t xenvcpu_smp_online_count(const xenvcpu_smp* smp) noexcept { return of(smp).online_count(); }
uint32_t xenvcpu_smp_self(const xenvcpu_smp* smp) noexcept { return of(smp).self().value; }
xenvcpu_ap_handshake* xenvcpu_smp_handshake(xenvcpu_smp* smp, uint32_t v) noexcept
{
    if (v >= of(smp).count())
        return nullptr;
    return reinterpret_cast<xenvcpu_ap_handshake*>(&of(smp).part(id(v)).handshake);
}
xenvcpu_errc xenvcpu_smp_last_error(const xenvcpu_smp* smp, uint32_t v) noexcept
{
    if (v >= of(smp).count())
        return XENVCPU_OK;
    return code(of(smp).part(id(v)).last_error);
}

xenvcpu_errc xenvcpu_smp_prepare(xenvcpu_smp* smp, uint32_t v) noexcept { return code(of(smp).prepare(id(v))); }
xenvcpu_errc xenvcpu_smp_start(xenvcpu_smp* smp, uint32_t v) noexcept { return code(of(smp).start(id(v))); }
xenvcpu_errc xenvcpu_smp_await_online(xenvcpu_smp* smp, uint32_t v, const xenvcpu_wait_bound* bound) noexcept
{
    return code(of(smp).await_online(id(v), bound_of(bound)));
}
void xenvcpu_smp_bring_up(xenvcpu_smp* smp, xenvcpu_bring_up_mode mode, const xenvcpu_wait_bound* bound,
                          xenvcpu_bring_up_report* report) noexcept
{
    const BringUpReport r = of(smp).bring_up(
        mode == XENVCPU_BRING_UP_PARALLEL ? BringUpMode::parallel : BringUpMode::serial, bound_of(bound));
    if (report != nullptr)
        *report = xenvcpu_bring_up_report{r.online,           r.failed,         r.total_ns,
                                          r.prepare_phase_ns, r.start_phase_ns, code(r.first_error)};
}

void xenvcpu_smp_ap_online(xenvcpu_smp* smp, uint32_t self) noexcept { of(smp).ap_online(id(self)); }
xenvcpu_served xenvcpu_smp_service(xenvcpu_smp* smp, uint32_t self) noexcept
{
    return static_cast<xenvcpu_served>(of(smp).service(id(self)));
}
bool xenvcpu_smp_pending(const xenvcpu_smp* smp, uint32_t self) noexcept { return of(smp).pending(id(self)); }
xenvcpu_errc xenvcpu_smp_park_self(xenvcpu_smp* smp, uint32_t self) noexcept
{
    return code(of(smp).park_self(id(self)));
}
xenvcpu_errc xenvcpu_smp_park_begin(xenvcpu_smp* smp, uint32_t self) noexcept
{
    return code(of(smp).park_begin(id(self)));
}
void xenvcpu_smp_resume(xenvcpu_smp* smp, uint32_t self) noexcept { of(smp).resume(id(self)); }

xenvcpu_errc xenvcpu_smp_offline(xenvcpu_smp* smp, uint32_t v, const xenvcpu_wait_bound* bound) noexcept
{
    return code(of(smp).offline(id(v), bound_of(bound)));
}
xenvcpu_errc xenvcpu_smp_offline_remote(xenvcpu_smp* smp, uint32_t v, const xenvcpu_wait_bound* bound) noexcept
{
    return code(of(smp).offline_remote(id(v), bound_of(bound)));
}
xenvcpu_errc xenvcpu_smp_online(xenvcpu_smp* smp, uint32_t v, const xenvcpu_wait_bound* bound) noexcept
{
    return code(of(smp).online(id(v), bound_of(bound)));
}

xenvcpu_errc xenvcpu_smp_send_ipi(xenvcpu_smp* smp, uint32_t v) noexcept { return code(of(smp).send_ipi(id(v))); }
xenvcpu_errc xenvcpu_smp_post(xenvcpu_smp* smp, uint32_t v, xenvcpu_call_fn fn, void* arg,
                              const xenvcpu_wait_bound* bound, xenvcpu_call_ticket* ticket) noexcept
{
    const Result<CallTicket> r = of(smp).post(id(v), call_of(fn), arg, bound_of(bound));
    if (r.has_value() && ticket != nullptr)
        *ticket = xenvcpu_call_ticket{r->vcpu.value, r->seq};
    return code(r);
}
xenvcpu_errc xenvcpu_smp_wait_call(xenvcpu_smp* smp, xenvcpu_call_ticket ticket,
                                   const xenvcpu_wait_bound* bound) noexcept
{
    return code(of(smp).wait_call(CallTicket{id(ticket.vcpu), ticket.seq}, bound_of(bound)));
}
xenvcpu_errc xenvcpu_smp_call(xenvcpu_smp* smp, uint32_t v, xenvcpu_call_fn fn, void* arg,
                              const xenvcpu_wait_bound* bound) noexcept
{
    return code(of(smp).call(id(v), call_of(fn), arg, bound_of(bound)));
}

} // extern "C"
