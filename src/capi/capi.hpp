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

/// A batched call from C over the vCPUs `vs[0..n-1]`, `Batch` at a time, so
/// the C arrays need no conversion buffer beyond one batch:
/// `call(base, ids, k, errs)` runs items base..base+k-1 (their ids in
/// `ids`), writes each one's Errc and returns how many failed; each Errc
/// lands in errors[] as its C code, and the count in `*failed` (if not
/// NULL). The arrays are checked by the caller.
template <uint32_t Batch, class Call>
xenvcpu_errc run_many(const uint32_t* vs, uint32_t n, xenvcpu_errc* errors, uint32_t* failed, Call call) noexcept
{
    uint32_t bad = 0;
    for (uint32_t base = 0; base < n; base += Batch) {
        const uint32_t k = n - base < Batch ? n - base : Batch;
        VcpuId ids[Batch];
        Errc errs[Batch];
        for (uint32_t i = 0; i < k; ++i)
            ids[i] = VcpuId{vs[base + i]};
        bad += call(base, ids, k, errs);
        for (uint32_t i = 0; i < k; ++i)
            errors[base + i] = code(errs[i]);
    }
    if (failed != nullptr)
        *failed = bad;
    return XENVCPU_OK;
}

/// A C wait bound; NULL gives WaitBound's defaults.
inline WaitBound bound_of(const xenvcpu_wait_bound* b) noexcept
{
    return b != nullptr ? WaitBound{b->timeout_ns, b->max_polls} : WaitBound{};
}

} // namespace xen::capi
