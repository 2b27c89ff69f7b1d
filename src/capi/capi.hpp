// The C API's C++ side (include/xenvcpu.h): what the opaque C storage
// holds, and the conversions between the C types and the object model.
// Every function of the C API forwards to one call of the object model;
// nothing here decides anything the C++ API does not.
#pragma once

#include <xenvcpu.h>

#include <xen/domain.hpp>
#include <xen/runstate/area.hpp>
#include <xen/smp.hpp>
#include <xen/time/timer.hpp>
#include <xen/time/timer_driver.hpp>

namespace xen::capi {

/// What an xenvcpu_domain holds: the Domain, the C hooks its KernelHooks
/// trampolines call (the Domain's hooks ctx points here), and the domain's
/// runstate registration state (the C++ API leaves that object to the
/// kernel; a C kernel gets it with its domain).
struct CDomain {
    Domain domain;
    xenvcpu_hooks hooks{};
    Runstate runstate;
};

/// What an xenvcpu_timer holds: the Timer and the C callback it runs.
struct CTimer {
    CTimer(xenvcpu_timer_fn f, void* c) noexcept : timer(&CTimer::expired, this), fn(f), ctx(c) {}
    static void expired(Timer&, VcpuId self, uint64_t now_ns, void* ctx) noexcept;

    Timer timer;
    xenvcpu_timer_fn fn;
    void* ctx;
};

inline CDomain& of(xenvcpu_domain* d) noexcept { return *reinterpret_cast<CDomain*>(d->opaque); }
inline const CDomain& of(const xenvcpu_domain* d) noexcept { return *reinterpret_cast<const CDomain*>(d->opaque); }
inline Domain& dom(xenvcpu_domain* d) noexcept { return of(d).domain; }
inline const Domain& dom(const xenvcpu_domain* d) noexcept { return of(d).domain; }
inline Smp& of(xenvcpu_smp* s) noexcept { return *reinterpret_cast<Smp*>(s->opaque); }
inline const Smp& of(const xenvcpu_smp* s) noexcept { return *reinterpret_cast<const Smp*>(s->opaque); }
inline TimerDriver& of(xenvcpu_timer_driver* t) noexcept { return *reinterpret_cast<TimerDriver*>(t->opaque); }
inline const TimerDriver& of(const xenvcpu_timer_driver* t) noexcept
{
    return *reinterpret_cast<const TimerDriver*>(t->opaque);
}
inline CTimer& of(xenvcpu_timer* t) noexcept { return *reinterpret_cast<CTimer*>(t->opaque); }
inline const CTimer& of(const xenvcpu_timer* t) noexcept { return *reinterpret_cast<const CTimer*>(t->opaque); }

/// An Errc as the C enum (the values are the same: errc.cpp checks each).
constexpr xenvcpu_errc code(Errc e) noexcept { return static_cast<xenvcpu_errc>(static_cast<int32_t>(e)); }
template <class T>
constexpr xenvcpu_errc code(const Result<T>& r) noexcept
{
    return r.has_value() ? XENVCPU_OK : code(r.error());
}

/// A C wait bound; NULL gives WaitBound's defaults.
inline WaitBound bound_of(const xenvcpu_wait_bound* b) noexcept
{
    return b != nullptr ? WaitBound{b->timeout_ns, b->max_polls} : WaitBound{};
}

} // namespace xen::capi
