// steal: every online vCPU busy at once for a fixed interval, measured with
// the library's runstate areas, steal clock and cross-vCPU SystemClock.
//
// 1. CPU 0 enables VMASST_TYPE_runstate_update_flag and registers a runstate
//    area for every vCPU: op 14 (physical address) when
//    XENFEAT_runstate_phys_area says so (Xen 4.18+), else op 5.
// 2. Each online CPU gets a job (run_on with a short wait: the job keeps
//    running after run_on gives up waiting, so all CPUs are busy at once)
//    and checks in; once every one has (or a bound scaled by the overcommit
//    has passed), CPU 0 publishes a common start and end, so no vCPU misses
//    the window because its call came late. Each spins over the window
//    reading SystemClock, checking every reading against its own previous
//    one and against the newest reading any vCPU published, and the raw TSC
//    the same way (the clock's one assumption); a vCPU that has not yet made
//    the reads the checks need goes on past the end until it has, up to a
//    hard end 8 windows after the start (a loaded host can starve the
//    emulated pCPU while Xen counts the vCPU running). It snapshots its own runstate at check-in
//    (before the window) and at its end, each with Xen's NOW() at that
//    moment (own_snapshot: the elapsed time and the live views are on
//    Xen's clock, like the totals).
//    The window is steal_ms, or longer under overcommit: long enough for
//    every vCPU on the busiest pCPU to get steal_run_ms of running time
//    (framework/overcommit.hpp: vCPUs per pCPU and the scheduler's slice).
// 3. CPU 0 reports per vCPU the deltas of running/runnable/blocked/offline
//    and the steal, and checks: vCPUs pinned to a shared pCPU (the harness
//    boots with dom0_vcpus_pin; VCPUOP_get_physid counts the pCPUs) have
//    steal > 0, vCPUs alone on their pCPU have steal <= 1 %; the deltas sum to the elapsed system time
//    within 200 us; the library's snapshot agrees with
//    VCPUOP_get_runstate_info: Xen's view lies within the live views at
//    Xen's NOW() just before and just after it, give or take their
//    distance + 50 us;
//    no reading went backwards.
//
// Knobs: steal_ms=N (the least window, default 1000), steal_run_ms=N (the
// running time each vCPU should get in it under overcommit, default 50).
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/runstate.hpp>
#include <xen/time/clock.hpp>

#include "domain.hpp"
#include "framework/overcommit.hpp"
#include "framework/test.hpp"
#include "framework/xen_now.hpp"
#include "memory.hpp"
#include "smp.hpp"

namespace mk {

namespace {

using xen::VcpuId;
namespace abi = xen::abi;

constexpr uint64_t ms = 1'000'000;
constexpr uint32_t max_steal_cpus = max_vcpus; // every vCPU the kernel runs
constexpr uint64_t sum_bound_ns = 200'000;
constexpr uint64_t agree_slop_ns = 50'000;
constexpr uint32_t idle_steal_ppm = 10'000; // 1 %
constexpr uint64_t hard_end_windows = 8;    // how long a vCPU short of reads may go on, from the start

// Each vCPU's runstate area and clock state are in its slot of the domain
// (Xen writes the runstate areas there); the clock is the domain's.
xen::Runstate runstate;

xen::VcpuSlot& slot(VcpuId v) noexcept { return *domain().find(v); }

/// What one CPU measured.
struct Job {
    uint32_t cpu;
    uint64_t start_ns; // the common window, published by CPU 0 ...
    uint64_t end_ns;
    uint64_t hard_end_ns; // ... and how far a vCPU short of min_reads may go on
    uint64_t min_reads;
    bool went_on; // still short of min_reads at the window's end
    // results
    bool ok;
    uint64_t t0, t1;                // clock at the two snapshots
    abi::vcpu_runstate_info s0, s1; // own area at both ends
    uint64_t reads;
    uint64_t backwards_own;
    uint64_t backwards_across;
    uint64_t tsc_warps; // raw TSC below one another vCPU read before
    uint64_t tsc_checks;
    uint64_t errors;
    uint32_t done; // set last, atomically
};

Job jobs[max_steal_cpus];
uint32_t checked_in;     // jobs that started and wait for the window (atomic access)
uint32_t window_set;     // 1 once CPU 0 wrote start_ns/end_ns of every job (atomic access)
uint64_t newest_reading; // the newest reading any vCPU published (atomic access)
uint64_t newest_tsc;     // the newest raw TSC any vCPU published (atomic access)

uint64_t now_on(uint32_t cpu) noexcept
{
    auto r = domain().clock().now(slot(VcpuId{cpu}).clock);
    return r.has_value() ? *r : 0;
}

// The own area and Xen's NOW() at one moment, on Xen's own clock
// (framework/xen_now.hpp); the live view of the area at that time is Xen's
// copy.
//
// Not the domain's clock: that extrapolates Xen's time with the TSC between
// Xen's updates, and under load was measured milliseconds (PVH dom0), up to
// tens of ms (loaded domUs) off NOW(). A time below state_entry_time would
// then add nothing to the live view, and a time above it too much: the
// runstate totals and the elapsed time would disagree by that error, which
// is the clock's, not the runstate area's.
bool own_snapshot(VcpuId self, abi::vcpu_runstate_info& out, uint64_t& at) noexcept
{
    return guest_tests::xen_now(runstate, self, at, &out);
}

void busy(void* arg) noexcept
{
    Job& j = *static_cast<Job*>(arg);
    const uint32_t cpu = j.cpu;
    const VcpuId self = VcpuId{cpu};
    // The first snapshot at check-in, before the window: the interval each
    // vCPU measures contains the whole common window, however late Xen
    // runs it once the window has begun (time it waits then is steal).
    const bool ok0 = own_snapshot(self, j.s0, j.t0);
    if (cpu != 0)
        __atomic_add_fetch(&checked_in, 1u, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&window_set, __ATOMIC_ACQUIRE) == 0) {
    }
    while (now_on(cpu) < j.start_ns) {
    }
    uint64_t prev = now_on(cpu);
    uint64_t now = prev;
    // The window, and past it while the checks lack reads (bounded).
    while (now < j.end_ns || (j.reads < j.min_reads && now < j.hard_end_ns)) {
        j.went_on = j.went_on || now >= j.end_ns;
        // The clock's one assumption, checked the same way on every 8th
        // read: a TSC read after seeing another vCPU's is not below it.
        if ((j.reads & 7) == 0) {
            const uint64_t seen_tsc = __atomic_load_n(&newest_tsc, __ATOMIC_ACQUIRE);
            const uint64_t tsc = xen::arch::rdtsc_ordered();
            j.tsc_warps += tsc < seen_tsc ? 1 : 0;
            ++j.tsc_checks;
            __atomic_store_n(&newest_tsc, tsc, __ATOMIC_RELEASE);
        }
        const uint64_t seen = __atomic_load_n(&newest_reading, __ATOMIC_ACQUIRE);
        auto r = domain().clock().read(slot(VcpuId{cpu}).clock);
        if (!r.has_value()) {
            ++j.errors;
            continue;
        }
        now = r->ns;
        ++j.reads;
        j.backwards_own += now < prev ? 1 : 0;
        j.backwards_across += now < seen ? 1 : 0;
        prev = now;
        __atomic_store_n(&newest_reading, now, __ATOMIC_RELEASE);
    }
    const bool ok1 = own_snapshot(self, j.s1, j.t1);
    j.ok = ok0 && ok1;
    __atomic_store_n(&j.done, 1u, __ATOMIC_RELEASE);
}

uint64_t diff(uint64_t a, uint64_t b) noexcept { return a > b ? a - b : b - a; }

constexpr const char* area = "steal";

// 1. The update flag and one runstate area per vCPU.
void register_areas(Tap& tap, const Context& context, uint32_t cpus) noexcept
{
    const auto flag = runstate.enable_update_flag();
    tap.result(flag.has_value() && *flag, area, "VMASST_TYPE_runstate_update_flag enabled (Xen 4.8+)");
    const bool want_phys = context.version.at_least(4, 18);
    uint32_t registered = 0, as_expected = 0;
    for (uint32_t c = 0; c < cpus; ++c) {
        const VcpuId v{c};
        auto kind = runstate.register_area(v, slot(v).runstate, xen_address_of(slot(v).runstate.area.get()),
                                           domain().features());
        if (!kind) {
            tap.comment("steal: vCPU ", c, ": runstate area not registered: ", xen::errc_name(kind.error()));
            continue;
        }
        ++registered;
        as_expected += (*kind == xen::AreaKind::physical_address) == want_phys ? 1 : 0;
    }
    tap.result(registered == cpus && as_expected == cpus, area,
               "runstate areas: ", xen::area_kind_name(slot(VcpuId{0}).runstate.kind), " (op ",
               slot(VcpuId{0}).runstate.kind == xen::AreaKind::physical_address ? 14 : 5, ") on ", registered, " of ",
               cpus, " vCPUs; Xen ", context.version.major, ".", context.version.minor, " should use ",
               want_phys ? "physical" : "virtual");
    tap.metric(area, "area_phys", slot(VcpuId{0}).runstate.kind == xen::AreaKind::physical_address ? 1 : 0);
}

// 2. Every online CPU busy over the same window.
void busy_everywhere(Tap& tap, uint32_t cpus, uint64_t interval, uint64_t min_reads,
                     const guest_tests::Overcommit& oc) noexcept
{
    __atomic_store_n(&checked_in, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&window_set, 0u, __ATOMIC_RELEASE);
    for (uint32_t c = 0; c < cpus; ++c) {
        jobs[c] = Job{};
        jobs[c].cpu = c;
        jobs[c].min_reads = min_reads;
    }
    uint32_t sent = 0;
    for (uint32_t c = 1; c < cpus; ++c) {
        if (!smp::is_online(VcpuId{c}))
            continue;
        // Wait 1 ms only: the job runs on, and run_on says timed_out.
        const auto r = smp::run_on(VcpuId{c}, &busy, &jobs[c], ms);
        if (!r && r.error() != xen::Errc::timed_out)
            tap.comment("steal: vCPU ", c, ": run_on: ", xen::errc_name(r.error()));
        else
            ++sent;
    }
    // Each AP checks in when Xen first runs it after its call: within a
    // round of the busiest pCPU (ratio x slice) on a fair scheduler. Wait
    // for all of them, bounded by 5 s + 4 such rounds.
    const uint64_t round = static_cast<uint64_t>(oc.ratio()) * (oc.slice_ns != 0 ? oc.slice_ns : 10 * ms);
    const uint64_t check_in_by = now_on(0) + 5'000 * ms + 4 * round;
    while (__atomic_load_n(&checked_in, __ATOMIC_ACQUIRE) < sent && now_on(0) < check_in_by) {
    }
    const uint32_t in = __atomic_load_n(&checked_in, __ATOMIC_ACQUIRE);
    tap.comment("steal: ", in, " of ", sent, " APs checked in before the window; window ", interval / ms, " ms for ",
                cpus, " vCPU(s), ", oc.ratio(), " per pCPU, slice ", oc.slice_ns / 1000, " us");
    const uint64_t start = now_on(0) + 10 * ms;
    for (uint32_t c = 0; c < cpus; ++c) {
        jobs[c].start_ns = start;
        jobs[c].end_ns = start + interval;
        jobs[c].hard_end_ns = start + hard_end_windows * interval;
    }
    __atomic_store_n(&window_set, 1u, __ATOMIC_RELEASE);
    busy(&jobs[0]);
    const uint64_t give_up = now_on(0) + hard_end_windows * interval + 10'000 * ms + 4 * round;
    for (uint32_t c = 1; c < cpus; ++c)
        while (smp::is_online(VcpuId{c}) && __atomic_load_n(&jobs[c].done, __ATOMIC_ACQUIRE) == 0 &&
               now_on(0) < give_up) {
        }
}

/// What the vCPUs measured, summed up.
struct Totals {
    uint32_t ran = 0, enough_reads = 0, sums_ok = 0, scheduled = 0, went_on = 0;
    uint64_t least_running_ns = ~uint64_t{0};
    uint64_t backwards = 0, reads_total = 0, tsc_warps = 0, tsc_checks = 0;
    uint64_t steal_ppm_of[max_steal_cpus] = {};
};

// 3. Report each vCPU that ran the interval, and sum up.
void report_vcpus(Tap& tap, uint32_t cpus, uint64_t min_reads, Totals& t) noexcept
{
    for (uint32_t c = 0; c < cpus; ++c) {
        const Job& j = jobs[c];
        if (__atomic_load_n(&j.done, __ATOMIC_ACQUIRE) == 0 || !j.ok)
            continue;
        ++t.ran;
        const uint64_t elapsed = j.t1 - j.t0;
        const auto l0 = xen::runstate_live(j.s0, j.t0);
        const auto l1 = xen::runstate_live(j.s1, j.t1);
        uint64_t d[4];
        for (int k = 0; k < 4; ++k)
            d[k] = l1.time[k] - l0.time[k];
        xen::StealClock steal;
        steal.start(j.s0);
        steal.update(j.s1);
        const xen::StealSample a{0, 0};
        const xen::StealSample b{steal.steal_ns(), elapsed};
        t.steal_ppm_of[c] = xen::steal_ppm(a, b);
        const uint64_t sum = d[0] + d[1] + d[2] + d[3];
        t.sums_ok += diff(sum, elapsed) <= sum_bound_ns ? 1 : 0;
        t.enough_reads += j.reads >= min_reads ? 1 : 0;
        // What Xen scheduled: running time inside the vCPU's own window.
        // A running total that went down (a live view that counted as
        // running time the vCPU did not get) is no running time.
        const bool ran_forward = l1.time[0] > l0.time[0];
        t.scheduled += ran_forward ? 1 : 0;
        const uint64_t running = ran_forward ? d[0] : 0;
        t.least_running_ns = running < t.least_running_ns ? running : t.least_running_ns;
        t.went_on += j.went_on ? 1 : 0;
        t.backwards += j.backwards_own + j.backwards_across;
        t.tsc_warps += j.tsc_warps;
        t.tsc_checks += j.tsc_checks;
        t.reads_total += j.reads;
        const int64_t v = VcpuId{c}.value;
        tap.comment("steal: vCPU ", v, ": running ", d[0] / 1000, " us, runnable ", d[1] / 1000, " us, blocked ",
                    d[2] / 1000, " us, offline ", d[3] / 1000, " us of ", elapsed / 1000, " us; steal ",
                    steal.steal_ns() / 1000, " us (", t.steal_ppm_of[c] / 10'000, ".", (t.steal_ppm_of[c] / 1000) % 10,
                    (t.steal_ppm_of[c] / 100) % 10, " %); ", j.reads, " clock reads, ", j.errors, " busy");
        tap.metric(area, "ns", steal.steal_ns(), "", v);
        tap.metric(area, "pct", t.steal_ppm_of[c] / 10'000, "", v);
        tap.metric(area, "running_ns", d[0], "", v);
        tap.metric(area, "runnable_ns", d[1], "", v);
        tap.metric(area, "blocked_ns", d[2], "", v);
        tap.metric(area, "offline_ns", d[3], "", v);
        tap.metric("clock", "reads", j.reads, "", v);
        tap.metric("clock", "backwards", j.backwards_own + j.backwards_across, "", v);
    }
}

// Which vCPUs share a pCPU. Xen answers VCPUOP_get_physid (pinned
// hardware domain only) with the APIC id of the pCPU that has the
// vCPU's *number* (x86_cpu_to_apicid[vcpu_id]), and BAD_APICID (~0) past
// the last pCPU: the valid answers count the pCPUs. dom0_vcpus_pin puts
// dom0's vCPU i on pCPU i mod that count (dom0_setup_vcpu cycles them).
void check_pcpu_sharing(Tap& tap, uint32_t cpus, const Totals& t) noexcept
{
    uint32_t pcpus = 0;
    bool pinned = true;
    for (uint32_t c = 0; c < cpus && pinned; ++c) {
        const auto p = xen::hc::get_physid(VcpuId{c});
        pinned = p.has_value();
        pcpus += pinned && p->apic_id != ~uint32_t{0} ? 1 : 0;
    }
    if (!pinned || pcpus == 0) {
        tap.skip(area, "VCPUOP_get_physid refused: not a pinned hardware domain, pCPU sharing unknown");
        return;
    }
    tap.comment("steal: ", pcpus, " pCPU(s) by VCPUOP_get_physid; vCPU i is pinned to pCPU i mod ", pcpus);
    uint32_t shared = 0, shared_with_steal = 0, alone = 0, alone_quiet = 0;
    for (uint32_t c = 0; c < cpus; ++c) {
        if (!smp::is_online(VcpuId{c}) || __atomic_load_n(&jobs[c].done, __ATOMIC_ACQUIRE) == 0)
            continue;
        const uint32_t home = VcpuId{c}.value % pcpus;
        bool shares = false;
        for (uint32_t o = 0; o < cpus; ++o)
            shares = shares || (o != c && smp::is_online(VcpuId{o}) && VcpuId{o}.value % pcpus == home);
        if (shares) {
            ++shared;
            shared_with_steal += t.steal_ppm_of[c] > 0 ? 1 : 0;
        } else {
            ++alone;
            alone_quiet += t.steal_ppm_of[c] <= idle_steal_ppm ? 1 : 0;
        }
    }
    tap.result(shared_with_steal == shared && alone_quiet == alone, area, shared_with_steal, " of ", shared,
               " vCPUs sharing a pCPU have steal > 0; ", alone_quiet, " of ", alone,
               " vCPUs alone on theirs have steal <= 1 %");
}

// Xen's NOW() on vCPU 0 (own_snapshot), 0 if it never settles.
uint64_t xen_now_on_vcpu0() noexcept
{
    abi::vcpu_runstate_info ignored{};
    uint64_t at = 0;
    return own_snapshot(VcpuId{0}, ignored, at) ? at : 0;
}

// The library's snapshot (area + live view) against Xen's own copy, both
// on Xen's clock: Xen's copy adds NOW() of the pCPU that runs the call, and
// so does the live view here, at NOW() taken from Xen just before and just
// after (xen_now_on_vcpu0). vCPU 0's pvclock record is not that clock: it
// extrapolates Xen's time with the TSC between Xen's updates, and in loaded
// domUs was measured tens of ms off NOW().
void check_snapshot_agrees(Tap& tap, uint32_t cpus) noexcept
{
    uint32_t agree = 0, stamped = 0;
    uint64_t worst = 0;
    for (uint32_t c = 0; c < cpus; ++c) {
        const VcpuId v = VcpuId{c};
        const uint64_t ta = xen_now_on_vcpu0();
        const auto mine = runstate.snapshot(v, slot(VcpuId{c}).runstate, VcpuId{0});
        const auto xen_view = xen::hc::vcpu_get_runstate_info(v);
        const uint64_t tb = xen_now_on_vcpu0();
        if (!mine || !xen_view || ta == 0 || tb < ta)
            continue;
        ++stamped;
        // Xen's view lies between the live views at ta and at tb, but for
        // a state the vCPU entered in between: up to tb - ta in it.
        const auto live_a = xen::runstate_live(*mine, ta);
        const auto live_b = xen::runstate_live(*mine, tb);
        uint64_t worst_here = 0;
        for (int k = 0; k < 4; ++k) {
            const uint64_t x = xen_view->time[k];
            const uint64_t lo = live_a.time[k], hi = live_b.time[k];
            const uint64_t dk = x < lo ? lo - x : x > hi ? x - hi : 0;
            worst_here = dk > worst_here ? dk : worst_here;
        }
        worst = worst_here > worst ? worst_here : worst;
        agree += worst_here <= (tb - ta) + agree_slop_ns ? 1 : 0;
    }
    tap.result(agree == cpus, area, "snapshot agrees with VCPUOP_get_runstate_info on ", agree, " of ", cpus,
               " vCPUs (", stamped, " stamped with Xen's NOW(); worst ", worst / 1000,
               " us outside the live views at the two stamps; bound: the stamps' distance + ", agree_slop_ns / 1000,
               " us)");
    tap.metric(area, "agree_worst_ns", worst);
}

} // namespace

void run_steal(Tap& tap, const Context& context) noexcept
{
    const bool pvh = context.boot.type == GuestType::pvh;
    const auto online = smp::ensure_online();
    if (!online)
        tap.comment("steal: APs not online (", xen::errc_name(online.error()), "): vCPU 0 only");
    const uint32_t cpus = smp::vcpu_count() < max_steal_cpus ? smp::vcpu_count() : max_steal_cpus;
    uint32_t active = 0;
    for (uint32_t c = 0; c < cpus; ++c)
        active += smp::is_online(VcpuId{c}) ? 1 : 0;
    if (!online && online.error() == xen::Errc::unsupported)
        tap.skip(area, "this kernel brings up no APs yet: vCPU 0 only");
    else
        tap.result(online.has_value() && active == cpus, area, active, " of ", cpus, " vCPUs online");

    register_areas(tap, context, cpus);
    // The window: steal_ms, or as long as every vCPU of the busiest pCPU
    // needs to get steal_run_ms of running time when all are busy.
    const auto& oc = guest_tests::overcommit(context, smp::vcpu_count());
    const uint64_t least = context.cmdline.get_uint("steal_ms", 1000) * ms;
    const uint64_t each = context.cmdline.get_uint("steal_run_ms", 50) * ms;
    const uint64_t scaled = oc.window_for(each);
    const uint64_t interval = scaled > least ? scaled : least;
    tap.metric(area, "window_ms", interval / ms);
    const uint64_t min_reads = pvh ? 100 : 10'000;
    busy_everywhere(tap, cpus, interval, min_reads, oc);

    static Totals t; // a large array: not on the stack
    t = Totals{};
    report_vcpus(tap, cpus, min_reads, t);
    tap.metric(area, "least_running_ns", t.ran != 0 ? t.least_running_ns : 0);
    tap.metric(area, "went_on", t.went_on);
    tap.result(t.ran == active && t.scheduled == t.ran && t.enough_reads == t.ran, area, t.ran, " of ", active,
               " vCPUs ran the ", interval / ms, " ms window (", t.scheduled, " with running time in it, least ",
               (t.ran != 0 ? t.least_running_ns : 0) / 1000, " us) with >= ", min_reads, " clock reads each (",
               t.went_on, " went on past its end for them, up to ", hard_end_windows, " windows in all)");
    check_pcpu_sharing(tap, cpus, t);
    tap.result(t.sums_ok == t.ran, area, "running + runnable + blocked + offline = elapsed within ",
               sum_bound_ns / 1000, " us on ", t.sums_ok, " of ", t.ran, " vCPUs");
    check_snapshot_agrees(tap, cpus);

    tap.metric("clock", "backwards", t.backwards);
    tap.metric("tsc", "warps", t.tsc_warps);
    tap.comment("steal: raw TSC: ", t.tsc_warps, " of ", t.tsc_checks,
                " reads were below a TSC another vCPU read before",
                t.tsc_warps == 0 ? " (one clock across vCPUs, as SystemClock assumes)"
                                 : " (the platform breaks SystemClock's one assumption)");
    tap.metric("clock", "floor_publications", domain().clock_floor().generation());
    tap.result(t.backwards == 0, area, "clock: ", t.backwards, " of ", t.reads_total,
               " readings went backwards on a vCPU or across vCPUs");

    for (uint32_t c = 0; c < cpus; ++c)
        (void)runstate.unregister_area(VcpuId{c}, slot(VcpuId{c}).runstate);
}

namespace guest_tests {

// Anywhere; the pCPU-sharing check skips itself unless dom0 is pinned.
extern const Test steal_test{
    .name = "steal",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_steal,
};

} // namespace guest_tests

} // namespace mk
