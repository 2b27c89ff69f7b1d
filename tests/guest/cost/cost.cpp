// cost: what the library's hot calls cost in the guest, in TSC cycles, on
// every online vCPU, one vCPU at a time (run_on), upcalls held off.
//
// The four calls, as a kernel makes them:
//   clock read   SystemClock::read of the vCPU's own ClockCpu (the domain's
//                clock; the floor shared by all vCPUs included);
//   steal read   Runstate::snapshot of the vCPU's own registered runstate
//                area, StealClock::update, steal_ns (into a local StealClock,
//                so the vCPU's own is not touched);
//   timer arm    TimerDriver::arm of a timer due 60 s from now, behind an
//                earlier timer already armed, so no arm reprograms Xen's
//                single-shot timer (the common case: a hypercall only when
//                the first deadline moves, which this does not measure);
//   timer cancel TimerDriver::cancel of one of those timers (never the first).
//
// Method: a batch of 32 calls between two ordered TSC reads (lfence;rdtsc);
// the fastest of 6 batches counts (the least disturbed by Xen and the
// emulator; 2 batches where Xen emulates rdtsc). The same batch with an empty body (a compiler barrier) gives the
// loop's own cost, which is subtracted; per call = (batch - empty) / 32,
// rounded down. Under QEMU's TCG these are cycles of an emulated TSC, with
// every rdtsc of a PVH guest trapping to Xen: they show what a boot on
// hardware would measure only in kind, not in size (docs/timers.md).
//
// Metrics (vcpu=N): cost.clock_read_cycles, cost.steal_read_cycles,
// cost.timer_arm_cycles, cost.timer_cancel_cycles, cost.loop_cycles (the
// empty batch's cost per iteration, already subtracted), and cost.tsc_khz
// once: the TSC frequency Xen reports in vCPU 0's pvclock record.
#include <new>
#include <xen/arch/x86.hpp>
#include <xen/hypercall/page.hpp>
#include <xen/runstate.hpp>
#include <xen/time/clock.hpp>

#include "domain.hpp"
#include "events.hpp"
#include "framework/test.hpp"
#include "kernel.hpp"
#include "memory.hpp"
#include "smp.hpp"
#include "timers.hpp"

namespace mk {

namespace {

using xen::VcpuId;

constexpr const char* area = "cost";
constexpr uint32_t batch = 32; // calls between two TSC reads
// The fastest of `batches` counts; 2 where Xen emulates rdtsc, whose
// figures are the trap's anyway (a PVH guest under TCG: each trap takes tens
// of microseconds, and 6 batches took seconds on a loaded host).
uint32_t batches = 6;
constexpr uint64_t far_ns = 60'000'000'000ull;

xen::Runstate runstate;

xen::VcpuSlot& slot(VcpuId v) noexcept { return *domain().find(v); }

/// What one vCPU measured: per-call cycles, loop overhead subtracted.
struct Cost {
    uint64_t loop, clock, steal, arm, cancel;
    uint32_t errors;
    xen::Errc first_error;
    bool ran;
};

Cost costs[max_vcpus];

void no_op(xen::Timer&, VcpuId, uint64_t, void*) noexcept {}

// One sentinel (the earliest deadline) and a batch of measured timers,
// reused vCPU after vCPU: each vCPU cancels all of them before it returns.
alignas(xen::Timer) unsigned char timer_space[sizeof(xen::Timer) * (batch + 1)];
xen::Timer* timer_pool = nullptr;

/// The fastest of `batches` batches of `batch` calls of op(i), in cycles.
template <class Op>
uint64_t fastest(Op&& op) noexcept
{
    uint64_t best = ~uint64_t{0};
    for (uint32_t b = 0; b < batches; ++b) {
        const uint64_t t0 = xen::arch::rdtsc_ordered();
        for (uint32_t i = 0; i < batch; ++i)
            op(i);
        const uint64_t t1 = xen::arch::rdtsc_ordered();
        best = t1 - t0 < best ? t1 - t0 : best;
    }
    return best;
}

uint64_t per_call(uint64_t total, uint64_t loop) noexcept { return total > loop ? (total - loop) / batch : 0; }

void measure(void* arg) noexcept
{
    Cost& c = *static_cast<Cost*>(arg);
    const VcpuId v = smp::this_vcpu();
    xen::VcpuSlot& s = slot(v);
    auto fail = [&c](xen::Errc e) noexcept {
        if (c.errors++ == 0)
            c.first_error = e;
    };
    if (auto r = timers::take_over(v); !r)
        fail(r.error());
    xen::TimerDriver& d = timers::driver();

    events::disable();
    const uint64_t loop = fastest([](uint32_t) noexcept { asm volatile("" ::: "memory"); });

    uint64_t sink = 0;
    const uint64_t clock = fastest([&](uint32_t) noexcept {
        const auto r = domain().clock().read(s.clock);
        if (r.has_value())
            sink += r->ns;
        else
            fail(r.error());
    });

    xen::StealClock steal;
    if (auto first = runstate.snapshot(v, s.runstate, v); first.has_value())
        steal.start(*first);
    const uint64_t steal_cycles = fastest([&](uint32_t) noexcept {
        const auto r = runstate.snapshot(v, s.runstate, v);
        if (r.has_value()) {
            steal.update(*r);
            sink += steal.steal_ns();
        } else {
            fail(r.error());
        }
    });

    // Arm and cancel alternate, batch by batch; each keeps its fastest.
    const uint64_t base = timers::now() + far_ns;
    if (auto r = d.arm(v, timer_pool[batch], base); !r)
        fail(r.error());
    uint64_t arm = ~uint64_t{0}, cancel = ~uint64_t{0};
    for (uint32_t b = 0; b < batches; ++b) {
        const uint64_t t0 = xen::arch::rdtsc_ordered();
        for (uint32_t i = 0; i < batch; ++i)
            if (auto r = d.arm(v, timer_pool[i], base + 1000 * (i + 1)); !r)
                fail(r.error());
        const uint64_t t1 = xen::arch::rdtsc_ordered();
        for (uint32_t i = 0; i < batch; ++i)
            if (auto r = d.cancel(v, timer_pool[i]); !r || !*r)
                fail(r ? xen::Errc::invalid_argument : r.error());
        const uint64_t t2 = xen::arch::rdtsc_ordered();
        arm = t1 - t0 < arm ? t1 - t0 : arm;
        cancel = t2 - t1 < cancel ? t2 - t1 : cancel;
    }
    (void)d.cancel(v, timer_pool[batch]);
    events::enable();
    (void)timers::give_back(v);

    asm volatile("" : : "r"(sink));
    c.loop = loop / batch;
    c.clock = per_call(clock, loop);
    c.steal = per_call(steal_cycles, loop);
    c.arm = per_call(arm, loop);
    c.cancel = per_call(cancel, loop);
    __atomic_store_n(&c.ran, true, __ATOMIC_RELEASE);
}

/// Whether Xen emulates rdtsc for this domain: CPUID leaf base + 3,
/// subleaf 0, eax bit 0 (Xen's time leaf, public arch-x86/cpuid.h). A PV
/// guest without CPUID faulting sees the machine's leaves, not Xen's:
/// "unknown".
const char* tsc_kind() noexcept
{
    const auto base = xen::find_xen_cpuid_base([](uint32_t leaf) noexcept {
        const auto r = xen::arch::cpuid(leaf);
        return xen::CpuidRegs{r.eax, r.ebx, r.ecx, r.edx};
    });
    if (!base)
        return "unknown";
    return (xen::arch::cpuid(*base + 3, 0).eax & 1) != 0 ? "emulated" : "native";
}

void run_cost(Tap& tap, const Context&) noexcept
{
    const auto online = smp::ensure_online();
    if (!online)
        tap.comment("cost: not every AP came online: ", xen::errc_name(online.error()), "; measuring those that did");
    const uint32_t cpus = smp::vcpu_count();
    const uint64_t began = now_ns(); // after bring-up, which earlier tests do when run by default

    if (timer_pool == nullptr) {
        auto* t = reinterpret_cast<xen::Timer*>(timer_space);
        for (uint32_t i = 0; i <= batch; ++i)
            new (&t[i]) xen::Timer(&no_op, nullptr);
        timer_pool = t;
    }

    const char* const kind = tsc_kind();
    batches = kind[0] == 'e' ? 2 : 6; // "emulated"

    uint32_t registered = 0;
    for (uint32_t c = 0; c < cpus; ++c) {
        const VcpuId v{c};
        if (!smp::is_online(v))
            continue;
        auto kind = runstate.register_area(v, slot(v).runstate, xen_address_of(slot(v).runstate.area.get()),
                                           domain().features());
        registered += kind.has_value() ? 1 : 0;
    }

    uint32_t measured = 0, clean = 0;
    for (uint32_t c = 0; c < cpus; ++c) {
        const VcpuId v{c};
        if (!smp::is_online(v))
            continue;
        costs[c] = Cost{};
        const auto r = smp::run_on(v, &measure, &costs[c]);
        if (!r || !__atomic_load_n(&costs[c].ran, __ATOMIC_ACQUIRE)) {
            tap.comment("cost: vCPU ", c, ": run_on: ", r ? "did not finish" : xen::errc_name(r.error()));
            continue;
        }
        ++measured;
        clean += costs[c].errors == 0 ? 1 : 0;
    }

    for (uint32_t c = 0; c < cpus; ++c)
        if (smp::is_online(VcpuId{c}))
            (void)runstate.unregister_area(VcpuId{c}, slot(VcpuId{c}).runstate);

    tap.comment("cost: took ", (now_ns() - began) / 1000, " us of guest time (after bring-up)");
    tap.comment("cost: cycles per call, the fastest of ", batches, " batches of ", batch,
                " between lfence;rdtsc pairs, an empty batch subtracted; under TCG the TSC is emulated"
                " and these are not hardware figures");
    const auto* rec = domain().shared().vcpu_info[0].time.tsc_to_system_mul != 0 ? &domain().shared().vcpu_info[0].time
                                                                                 : nullptr;
    if (rec != nullptr) {
        // tsc_to_system_mul is ns per cycle as a 32.32 fraction, scaled by 2^shift.
        const int8_t shift = rec->tsc_shift;
        uint64_t mul = rec->tsc_to_system_mul;
        uint64_t khz = (uint64_t{1} << 32) * 1'000'000 / mul;
        khz = shift >= 0 ? khz >> shift : khz << -shift;
        tap.metric(area, "tsc_khz", khz);
    }
    const MetricTag tsc{"tsc", kind};
    tap.comment("cost: rdtsc ", tsc.token,
                " (Xen's CPUID time leaf; emulated: every rdtsc traps to Xen, which"
                " returns a TSC made from its system time, so a batch may even read as 0)");
    for (uint32_t c = 0; c < cpus; ++c) {
        const Cost& k = costs[c];
        if (!k.ran)
            continue;
        tap.metric(area, "clock_read_cycles", k.clock, "", c, tsc);
        tap.metric(area, "steal_read_cycles", k.steal, "", c, tsc);
        tap.metric(area, "timer_arm_cycles", k.arm, "", c, tsc);
        tap.metric(area, "timer_cancel_cycles", k.cancel, "", c, tsc);
        tap.metric(area, "loop_cycles", k.loop, "", c, tsc);
        if (k.errors != 0)
            tap.comment("cost: vCPU ", c, ": ", k.errors, " calls failed, the first: ", xen::errc_name(k.first_error));
        tap.comment("cost: vCPU ", c, ": clock read ", k.clock, ", steal read ", k.steal, ", timer arm ", k.arm,
                    ", timer cancel ", k.cancel, " cycles");
    }
    tap.result(registered == measured && measured == smp::online_count() && clean == measured, area, "measured on ",
               measured, " of ", cpus, " vCPUs, ", clean, " without a failed call, runstate areas on ", registered);
}

} // namespace

namespace guest_tests {

// Anywhere, with one vCPU or more; well under a second of guest time on TCG.
extern const Test cost_test{
    .name = "cost",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_cost,
};

} // namespace guest_tests

} // namespace mk
