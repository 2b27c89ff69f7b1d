// The C API's clocks, runstate, steal and timers: each function forwards
// to the Domain's SystemClock, the wall clock, Runstate, the slot's
// StealClock or xen::TimerDriver (include/xenvcpu.h).
#include <new>

#include <xen/time/wallclock.hpp>

#include "capi.hpp"
#include "time/clock_read.hpp"

using namespace xen;
using namespace xen::capi;

namespace xen::capi {

void CTimer::expired(Timer&, VcpuId self, uint64_t now_ns, void* ctx) noexcept
{
    CTimer* t = static_cast<CTimer*>(ctx);
    t->fn(reinterpret_cast<xenvcpu_timer*>(t), self.value, now_ns, t->ctx);
}

namespace {

static_assert(sizeof(TimerDriver) == XENVCPU_TIMER_DRIVER_SIZE && alignof(TimerDriver) == XENVCPU_TIMER_DRIVER_ALIGN);
static_assert(sizeof(CTimer) == XENVCPU_TIMER_SIZE && alignof(CTimer) == XENVCPU_TIMER_ALIGN);
static_assert(offsetof(CTimer, timer) == 0, "the xenvcpu_timer's address is its Timer's");
static_assert(XENVCPU_AREA_NONE == static_cast<int>(AreaKind::none) &&
              XENVCPU_AREA_VIRTUAL == static_cast<int>(AreaKind::virtual_address) &&
              XENVCPU_AREA_PHYSICAL == static_cast<int>(AreaKind::physical_address));

VcpuId id(uint32_t v) noexcept { return VcpuId{v}; }

Result<abi::vcpu_runstate_info> snapshot(xenvcpu_domain* d, VcpuSlot& s, uint32_t v) noexcept
{
    return of(d).runstate.snapshot(id(v), s.runstate, dom(d).self());
}

/// A snapshot of `v` into its StealClock: as the new baseline, or added.
xenvcpu_errc feed_steal(xenvcpu_domain* d, uint32_t v, bool baseline, xenvcpu_steal_sample* sample) noexcept
{
    VcpuSlot* s = dom(d).find(id(v));
    if (s == nullptr)
        return XENVCPU_VCPU_OUT_OF_RANGE;
    const Result<abi::vcpu_runstate_info> info = snapshot(d, *s, v);
    if (!info.has_value())
        return code(info);
    if (baseline)
        s->steal.start(*info);
    else
        s->steal.update(*info);
    if (sample != nullptr) {
        const StealSample now = steal_sample(s->steal);
        *sample = xenvcpu_steal_sample{now.steal_ns, now.total_ns};
    }
    return XENVCPU_OK;
}

xenvcpu_wall_time wall(const WallTime& w) noexcept { return xenvcpu_wall_time{w.sec, w.nsec}; }

} // namespace
} // namespace xen::capi

extern "C" {

// --- clocks -------------------------------------------------------------------

xenvcpu_errc xenvcpu_clock_read(xenvcpu_domain* d, xenvcpu_clock_reading* out) noexcept
{
    VcpuSlot* s = dom(d).find(dom(d).self());
    if (s == nullptr)
        return XENVCPU_VCPU_OUT_OF_RANGE;
    const Result<ClockReading> r = detail::read_clock(dom(d).clock(), s->clock);
    if (r.has_value() && out != nullptr)
        *out = xenvcpu_clock_reading{r->ns, r->tsc_stable, r->guest_stopped};
    return code(r);
}

xenvcpu_errc xenvcpu_wallclock_base(xenvcpu_domain* d, xenvcpu_wall_time* out) noexcept
{
    const Result<WallTime> r = wallclock_base(dom(d).shared());
    if (r.has_value() && out != nullptr)
        *out = wall(*r);
    return code(r);
}

xenvcpu_errc xenvcpu_wallclock_now(xenvcpu_domain* d, xenvcpu_wall_time* out) noexcept
{
    const Result<WallTime> r = dom(d).wallclock_now();
    if (r.has_value() && out != nullptr)
        *out = wall(*r);
    return code(r);
}

// --- runstate and steal -------------------------------------------------------

xenvcpu_errc xenvcpu_runstate_enable_update_flag(xenvcpu_domain* d, bool* on) noexcept
{
    const Result<bool> r = of(d).runstate.enable_update_flag();
    if (r.has_value() && on != nullptr)
        *on = *r;
    return code(r);
}

xenvcpu_errc xenvcpu_runstate_register(xenvcpu_domain* d, uint32_t v, uint64_t pa, xenvcpu_area_kind* kind) noexcept
{
    VcpuSlot* s = dom(d).find(id(v));
    if (s == nullptr)
        return XENVCPU_VCPU_OUT_OF_RANGE;
    const Result<AreaKind> r = of(d).runstate.register_area(id(v), s->runstate, PhysAddr{pa}, dom(d).features());
    if (r.has_value() && kind != nullptr)
        *kind = static_cast<xenvcpu_area_kind>(*r);
    return code(r);
}

xenvcpu_errc xenvcpu_runstate_unregister(xenvcpu_domain* d, uint32_t v) noexcept
{
    VcpuSlot* s = dom(d).find(id(v));
    if (s == nullptr)
        return XENVCPU_VCPU_OUT_OF_RANGE;
    return code(of(d).runstate.unregister_area(id(v), s->runstate));
}

xenvcpu_errc xenvcpu_runstate_snapshot(xenvcpu_domain* d, uint32_t v, xenvcpu_runstate_info* out) noexcept
{
    VcpuSlot* s = dom(d).find(id(v));
    if (s == nullptr)
        return XENVCPU_VCPU_OUT_OF_RANGE;
    const Result<abi::vcpu_runstate_info> r = snapshot(d, *s, v);
    if (r.has_value() && out != nullptr)
        __builtin_memcpy(out, &*r, sizeof *out);
    return code(r);
}

xenvcpu_errc xenvcpu_steal_start(xenvcpu_domain* d, uint32_t v) noexcept { return feed_steal(d, v, true, nullptr); }

xenvcpu_errc xenvcpu_steal_update(xenvcpu_domain* d, uint32_t v, xenvcpu_steal_sample* sample) noexcept
{
    return feed_steal(d, v, false, sample);
}

uint32_t xenvcpu_steal_ppm(const xenvcpu_steal_sample* from, const xenvcpu_steal_sample* to) noexcept
{
    if (from == nullptr || to == nullptr)
        return 0;
    return steal_ppm(StealSample{from->steal_ns, from->total_ns}, StealSample{to->steal_ns, to->total_ns});
}

// --- timers -------------------------------------------------------------------

xenvcpu_errc xenvcpu_timer_driver_init(xenvcpu_timer_driver* td, xenvcpu_domain* d,
                                       const xenvcpu_timer_config* config) noexcept
{
    if (td == nullptr || d == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    TimerConfig c;
    if (config != nullptr && config->max_delta_ns != 0)
        c.max_delta_ns = config->max_delta_ns;
    if (config != nullptr && config->max_expiries_per_event != 0)
        c.max_expiries_per_event = config->max_expiries_per_event;
    return code((new (td->opaque) TimerDriver())->init(dom(d), c));
}

xenvcpu_errc xenvcpu_timer_driver_bind(xenvcpu_timer_driver* td, uint32_t v, uint32_t* port) noexcept
{
    const Result<Port> r = of(td).bind(id(v));
    if (r.has_value() && port != nullptr)
        *port = r->value;
    return code(r);
}
xenvcpu_errc xenvcpu_timer_driver_unbind(xenvcpu_timer_driver* td, uint32_t v) noexcept
{
    return code(of(td).unbind(id(v)));
}
void xenvcpu_timer_driver_handle_event(xenvcpu_timer_driver* td, uint32_t v) noexcept { of(td).handle_event(id(v)); }
xenvcpu_errc xenvcpu_timer_driver_start(xenvcpu_timer_driver* td, uint32_t v) noexcept
{
    return code(of(td).start(id(v)));
}
xenvcpu_errc xenvcpu_timer_driver_stop(xenvcpu_timer_driver* td, uint32_t v) noexcept
{
    return code(of(td).stop(id(v)));
}
xenvcpu_errc xenvcpu_timer_driver_arm(xenvcpu_timer_driver* td, uint32_t v, xenvcpu_timer* t, uint64_t deadline_ns,
                                      uint64_t slack_ns) noexcept
{
    if (t == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    return code(of(td).arm(id(v), of(t).timer, deadline_ns, slack_ns));
}
xenvcpu_errc xenvcpu_timer_driver_arm_after(xenvcpu_timer_driver* td, uint32_t v, xenvcpu_timer* t, uint64_t delay_ns,
                                            uint64_t slack_ns) noexcept
{
    if (t == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    return code(of(td).arm_after(id(v), of(t).timer, delay_ns, slack_ns));
}
xenvcpu_errc xenvcpu_timer_driver_cancel(xenvcpu_timer_driver* td, uint32_t v, xenvcpu_timer* t,
                                         bool* was_armed) noexcept
{
    if (t == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    const Result<bool> r = of(td).cancel(id(v), of(t).timer);
    if (r.has_value() && was_armed != nullptr)
        *was_armed = *r;
    return code(r);
}
xenvcpu_errc xenvcpu_timer_driver_adopt(xenvcpu_timer_driver* td, uint32_t v, uint32_t from, size_t* moved) noexcept
{
    const Result<size_t> r = of(td).adopt(id(v), id(from));
    if (r.has_value() && moved != nullptr)
        *moved = *r;
    return code(r);
}
xenvcpu_errc xenvcpu_timer_driver_idle(xenvcpu_timer_driver* td, uint32_t v) noexcept
{
    return code(of(td).idle(id(v)));
}
uint64_t xenvcpu_timer_driver_now(const xenvcpu_timer_driver* td) noexcept { return of(td).now(); }
size_t xenvcpu_timer_driver_armed(const xenvcpu_timer_driver* td, uint32_t v) noexcept
{
    const TimerCpu* c = of(td).cpu(id(v));
    return c != nullptr ? c->armed() : 0;
}

xenvcpu_errc xenvcpu_timer_init(xenvcpu_timer* t, xenvcpu_timer_fn fn, void* ctx) noexcept
{
    if (t == nullptr || fn == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    new (t->opaque) CTimer(fn, ctx);
    return XENVCPU_OK;
}
bool xenvcpu_timer_armed(const xenvcpu_timer* t) noexcept { return of(t).timer.armed(); }
uint64_t xenvcpu_timer_deadline(const xenvcpu_timer* t) noexcept { return of(t).timer.deadline(); }

} // extern "C"
