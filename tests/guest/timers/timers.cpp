// timers: the library's tickless timer driver (xen/time/timer_driver.hpp)
// on every online vCPU at once, on real Xen.
//
// On each vCPU, in thread context there (posted to the APs, run in place on
// vCPU 0, all at the same time):
//   1. the driver takes the vCPU's timer: VIRQ_TIMER bound through the
//      kernel's EventChannels, Xen's periodic timer stopped;
//   2. T timers at random deadlines over a window, armed in random order,
//      plus a periodic software timer that re-arms itself from its callback
//      and a watchdog that ends the phase even if a timer were lost; the CPU
//      idles (SCHEDOP_block on PV, sti;hlt on PVH) until all have run. Each
//      callback reads the clock again: a run before its deadline is "early",
//      a second run of one arming is "double", a timer that never ran is
//      "lost";
//   3. an idle second with no timer but the one that ends it: the VIRQ_TIMER
//      events that arrive before Xen's NOW() reaches its deadline are idle
//      wake-ups (the driver: 0); those after it are the end's own (the
//      domain's clock may read a little behind NOW(): idle_second).
// Every clock read is the domain's clock (mk::now_ns), the one the driver
// runs its timers by.
// Then on vCPU 0 the comparison with Xen's 10 ms periodic timer (PV's
// default; PVH has none by default, so it is set explicitly), once while
// the vCPU idles and once while it runs.
//
// Knobs: timers=T (per vCPU; default 1000 on PV, 100 on PVH, where every
// rdtsc and hypercall traps to Xen under TCG), timer_window_ms=W (default
// 1000 PV, 2000 PVH), timer_slack_us=S (default 0), timer_vcpus=N (only the
// first N vCPUs; default all).
#include <new>
#include <xen/arch/x86.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "domain.hpp"
#include "events.hpp"
#include "framework/test.hpp"
#include "framework/xen_now.hpp"
#include "kernel.hpp"
#include "smp.hpp"
#include "smp_internal.hpp"
#include "timers.hpp"

namespace mk {

namespace {

constexpr const char* area = "timers";
constexpr uint32_t pool_size = 8192; // timers across all vCPUs
constexpr uint64_t ms = 1'000'000;
constexpr uint64_t periodic_ns = 10 * ms; // the software periodic timer

struct CpuRun;

/// The lateness histogram's upper bounds, in µs (a last bucket takes the
/// rest): `timers.lateness_bucket` lines, tests/guest/README.md.
constexpr uint64_t lateness_bounds_us[] = {1,   2,    5,    10,   20,    50,    100,   200,
                                           500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
constexpr uint32_t lateness_buckets = sizeof(lateness_bounds_us) / sizeof(lateness_bounds_us[0]) + 1;

/// The bucket of a lateness of `late_ns`: the first bound >= it, else the last.
uint32_t lateness_bucket(uint64_t late_ns) noexcept
{
    for (uint32_t b = 0; b + 1 < lateness_buckets; ++b)
        if (late_ns <= lateness_bounds_us[b] * 1000)
            return b;
    return lateness_buckets - 1;
}

/// One random timer of the timer phase.
struct Slot {
    xen::Timer timer{&Slot::fire, this};
    CpuRun* run = nullptr;
    uint64_t deadline = 0;
    uint32_t fires = 0;

    static void fire(xen::Timer&, xen::VcpuId self, uint64_t handler_now, void* ctx) noexcept;
};

/// What one vCPU measured.
struct CpuRun {
    xen::VcpuId vcpu{0};
    bool ran = false;
    xen::Errc error{};
    uint32_t armed = 0;
    uint32_t fired = 0;
    uint32_t early = 0;
    uint32_t doubled = 0;
    uint32_t lost = 0;
    uint64_t ticks = 0; // periodic software timer runs
    uint64_t ticks_wanted = 0;
    xen::TimerStats stats;     // the driver's counters over the timer phase
    uint64_t idle_wakeups = 0; // VIRQ_TIMER events in the idle second before Xen's NOW() reached its end
    uint64_t end_events = 0;   // events at or after it: the end's own (more than 1: re-armed after an early one)
    uint64_t idle_ns = 0;
    uint64_t arming_ns = 0;  // arming the T timers took this long
    uint64_t t0 = 0;         // the phase's start by the domain's clock
    uint64_t worst_late = 0; // the latest run: how late, and when it was due
    uint64_t worst_due = 0;
    uint64_t runnable_ns = 0;                  // steal over the timer phase: runnable, waiting for a pCPU
    uint32_t late_hist[lateness_buckets] = {}; // first runs by lateness (early ones as 0)
};

/// Xen's runnable time of `v` (VCPUOP_get_runstate_info), 0 if refused.
uint64_t runnable_ns(xen::VcpuId v) noexcept
{
    auto r = xen::hc::vcpu_get_runstate_info(v);
    return r ? r->time[static_cast<int>(xen::abi::runstate::runnable)] : 0;
}

struct Params {
    uint32_t timers;
    uint64_t window_ns;
    uint64_t slack_ns;
    GuestType guest;
    bool have_now; // every vCPU's runstate area registered: Xen's NOW() readable (idle_second)
};

alignas(Slot) unsigned char pool_space[sizeof(Slot) * pool_size];
CpuRun runs[max_vcpus];

// Registered for the run, so that idle_second can read Xen's NOW().
xen::Runstate runstate;

// Per-vCPU helper timers: the periodic one, the watchdog, the idle end.
struct Helpers {
    xen::Timer periodic{&Helpers::tick, this};
    xen::Timer watchdog{&Helpers::bark, this};
    xen::Timer end{&Helpers::ring, this};
    CpuRun* run = nullptr;
    xen::TimerDriver* driver = nullptr;
    volatile bool watchdog_fired = false;
    volatile bool end_fired = false;

    static void tick(xen::Timer& t, xen::VcpuId self, uint64_t, void* ctx) noexcept
    {
        auto* h = static_cast<Helpers*>(ctx);
        if (++h->run->ticks < h->run->ticks_wanted)
            (void)h->driver->arm(self, t, t.deadline() + periodic_ns);
    }
    static void bark(xen::Timer&, xen::VcpuId, uint64_t, void* ctx) noexcept
    {
        static_cast<Helpers*>(ctx)->watchdog_fired = true;
    }
    static void ring(xen::Timer&, xen::VcpuId, uint64_t, void* ctx) noexcept
    {
        static_cast<Helpers*>(ctx)->end_fired = true;
    }
};
alignas(Helpers) unsigned char helpers_space[sizeof(Helpers) * max_vcpus];

Helpers& helpers(xen::VcpuId v) noexcept { return reinterpret_cast<Helpers*>(helpers_space)[v.value]; }

void Slot::fire(xen::Timer&, xen::VcpuId, uint64_t handler_now, void* ctx) noexcept
{
    auto* s = static_cast<Slot*>(ctx);
    CpuRun& run = *s->run;
    if (++s->fires > 1) {
        ++run.doubled;
        return;
    }
    ++run.fired;
    ++run.late_hist[lateness_bucket(handler_now > s->deadline ? handler_now - s->deadline : 0)];
    // Early by the handler's clock, or by a fresh reading of our own.
    const uint64_t again = timers::now();
    if (handler_now < s->deadline || again < s->deadline)
        ++run.early;
    else if (handler_now - s->deadline > run.worst_late) {
        run.worst_late = handler_now - s->deadline;
        run.worst_due = s->deadline - run.t0;
    }
}

/// xorshift64*: deterministic per vCPU, good enough for deadlines.
uint64_t next_random(uint64_t& state) noexcept
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
}

/// Step 2 on the calling vCPU: the random timers, the periodic one and the
/// watchdog, idling until they ran; then what was lost, and the clean-up.
void timer_phase(CpuRun& run, Slot* slots, const Params& p, xen::TimerDriver& d, xen::VcpuId v, Helpers& h) noexcept
{
    uint64_t seed = 0x9e3779b97f4a7c15ull * (run.vcpu.value + 1) ^ xen::arch::rdtsc();
    events::disable();
    timers::cpu_state(v).stats().clear();
    const uint64_t t0 = timers::now();
    const uint64_t runnable0 = runnable_ns(v);
    run.t0 = t0;
    // The window starts a little later: arming takes time (each arm that
    // makes a new first deadline is a hypercall). Upcalls are held off for
    // each arm only, as a kernel would, so timers due meanwhile run on time.
    const uint64_t lead = p.guest == GuestType::pvh ? 100 * ms : 10 * ms;
    const uint64_t end = t0 + lead + p.window_ns;
    const uint64_t grace = p.window_ns + 1000 * ms;
    (void)d.arm(v, h.periodic, t0 + lead + periodic_ns);
    (void)d.arm(v, h.watchdog, end + grace);
    events::enable();
    for (uint32_t i = 0; i < p.timers; ++i) {
        Slot& s = *new (&slots[i]) Slot;
        s.run = &run;
        s.deadline = t0 + lead + next_random(seed) % p.window_ns;
        events::disable();
        auto r = d.arm(v, s.timer, s.deadline, p.slack_ns);
        events::enable();
        if (!r) {
            run.error = r.error();
            break;
        }
        ++run.armed;
    }
    run.arming_ns = timers::now() - t0;

    while (!(run.fired == run.armed && run.ticks >= run.ticks_wanted) && !h.watchdog_fired)
        timers::idle_once(v);

    run.runnable_ns = runnable_ns(v) - runnable0;
    events::disable();
    run.stats = timers::cpu_state(v).stats(); // before the clean-up below adds to it
    for (uint32_t i = 0; i < run.armed; ++i) {
        if (slots[i].fires == 0)
            ++run.lost;
        (void)d.cancel(v, slots[i].timer);
    }
    (void)d.cancel(v, h.periodic);
    (void)d.cancel(v, h.watchdog);
    events::enable();
}

/// Step 3 on the calling vCPU: one idle second, nothing armed but its end.
///
/// Xen fires the end when its NOW() reaches the deadline, and the domain's
/// clock may still read a little before it then (it extrapolates Xen's time
/// between Xen's updates, and was measured milliseconds behind NOW() under
/// load). The driver never runs a timer early: it counts an early event and
/// re-arms, and Xen fires again (docs/timers.md, "Early and coalesced
/// events"). Those events are the end's own, not idle wake-ups. So each wake
/// is judged by Xen's NOW() read right after it: a wake whose events came
/// while NOW() was still before the end's deadline is an idle wake-up; one
/// at or after it belongs to the end. (NOW() is read after the handler ran,
/// so a wake delayed past the deadline on its way counts as the end's: the
/// error leans towards leniency only for a wake within that delay of the
/// end.) Without a runstate area (`have_now` false) every event but the
/// last is an idle wake-up, as by the domain's clock.
void idle_second(CpuRun& run, xen::TimerDriver& d, xen::VcpuId v, Helpers& h, bool have_now) noexcept
{
    const xen::TimerStats& stats = timers::cpu_state(v).stats();
    events::disable();
    const uint64_t w0 = stats.wakeups;
    const uint64_t i0 = timers::now();
    const uint64_t due = i0 + 1000 * ms;
    const uint64_t xen_due = domain().to_xen_time(due);
    (void)d.arm(v, h.end, due);
    events::enable();
    uint64_t seen = w0;
    for (bool ended = false; !ended;) {
        timers::idle_once(v);
        // Both at one moment: no event may come between them.
        events::disable();
        const uint64_t events_now = stats.wakeups;
        ended = h.end_fired;
        events::enable();
        if (events_now == seen)
            continue;
        uint64_t xen_now = 0;
        if (have_now && guest_tests::xen_now(runstate, v, xen_now) && xen_now >= xen_due)
            run.end_events += events_now - seen;
        else if (!ended)
            run.idle_wakeups += events_now - seen;
        else
            run.idle_wakeups += events_now - seen - 1; // the last is the end's
        seen = events_now;
    }
    run.idle_ns = timers::now() - i0;
}

/// Steps 2 and 3 on the calling vCPU.
void run_cpu(CpuRun& run, Slot* slots, const Params& p) noexcept
{
    xen::TimerDriver& d = timers::driver();
    const xen::VcpuId v = run.vcpu;
    Helpers& h = *new (&helpers(v)) Helpers;
    h.run = &run;
    h.driver = &d;
    run.ticks_wanted = p.window_ns / periodic_ns;
    timer_phase(run, slots, p, d, v, h);
    idle_second(run, d, v, h, p.have_now);
    run.ran = true;
}

/// Xen's periodic timer at 10 ms for one second on the calling vCPU 0, the
/// vCPU idling (blocked) or running (spinning on its clock): VIRQ_TIMER
/// events per second. The driver's handler takes them (they find nothing due).
/// Running, it also gives in `*periods_run` the 10 ms periods per second in
/// which the vCPU executed at all (distinct values of now / 10 ms it read): Xen's
/// periods that pass while the vCPU does not run (descheduled by Xen, or its
/// emulated pCPU starved by a loaded host) collapse into at most one event,
/// so those periods are what the ticks are to be counted against. A timer
/// that is off gives no events either way.
uint64_t periodic_events_per_s(bool idle, uint64_t* periods_run = nullptr) noexcept
{
    xen::TimerDriver& d = timers::driver();
    const xen::VcpuId v{0};
    Helpers& h = helpers(v);
    h.end_fired = false;
    if (!xen::hc::set_periodic_timer(v, 10 * ms))
        return 0;
    events::disable();
    const uint64_t w0 = timers::cpu_state(v).stats().wakeups;
    const uint64_t t0 = timers::now();
    (void)d.arm(v, h.end, t0 + 1000 * ms);
    events::enable();
    uint64_t periods = 0;
    uint64_t last_period = ~uint64_t{0};
    while (!h.end_fired) {
        if (idle) {
            timers::idle_once(v);
        } else {
            xen::arch::cpu_relax();
            const uint64_t period = timers::now() / (10 * ms);
            periods += period != last_period ? 1 : 0;
            last_period = period;
        }
    }
    const uint64_t elapsed = timers::now() - t0;
    (void)xen::hc::stop_periodic_timer(v);
    const uint64_t seen = timers::cpu_state(v).stats().wakeups - w0;
    const uint64_t beyond_end = seen > 0 ? seen - 1 : 0;
    if (periods_run != nullptr)
        *periods_run = elapsed == 0 ? 0 : periods * 1'000'000'000 / elapsed;
    return elapsed == 0 ? 0 : beyond_end * 1'000'000'000 / elapsed;
}

struct Job {
    CpuRun* run;
    Slot* slots;
    const Params* params;
};
Job jobs[max_vcpus];

void job_on_vcpu(void* arg) noexcept
{
    auto& job = *static_cast<Job*>(arg);
    if (auto r = timers::take_over(job.run->vcpu); !r) {
        job.run->error = r.error();
        return;
    }
    run_cpu(*job.run, job.slots, *job.params);
}

void give_back_here(void*) noexcept { (void)timers::give_back(smp::this_vcpu()); }

/// "0.937": a ratio in thousandths, as a decimal.
void print_ratio_metric(const char* name, uint64_t num, uint64_t den) noexcept
{
    const uint64_t milli = den == 0 ? 0 : (num * 1000 + den / 2) / den;
    console::print("# metric timers.", name, "=", milli / 1000, ".", (milli % 1000) / 100, (milli % 100) / 10,
                   milli % 10, "\n");
}

/// The knobs, fitted to the pool.
Params params_for(Tap& tap, const Context& context, uint32_t active) noexcept
{
    const bool pvh = context.boot.type == GuestType::pvh;
    Params p{};
    p.guest = context.boot.type;
    p.timers = static_cast<uint32_t>(context.cmdline.get_uint("timers", pvh ? 100 : 1000));
    if (p.timers * active > pool_size) {
        tap.comment("timers: ", p.timers, " per vCPU do not fit the pool of ", pool_size, "; using ",
                    pool_size / active);
        p.timers = pool_size / active;
    }
    p.window_ns = context.cmdline.get_uint("timer_window_ms", pvh ? 2000 : 1000) * ms;
    p.slack_ns = context.cmdline.get_uint("timer_slack_us", 0) * 1000;
    tap.comment("timers: ", p.timers, " timers per vCPU on ", active, " vCPU(s) at once over ", p.window_ns / ms,
                " ms, slack ", p.slack_ns / 1000, " us, + a 10 ms periodic software timer");
    return p;
}

// run_everywhere's calls to the APs (vCPU 0 only; static rather than on its
// 16 KiB stack, now that there are max_vcpus of them).
xen::CallTicket tickets[max_vcpus];
bool posted[max_vcpus];

/// Every online vCPU at once: post the job to each AP, run vCPU 0's here,
/// then wait for the APs. (The driver exists since boot: domain_init.)
void run_everywhere(uint32_t vcpus, xen::Smp* ctl, const Params& p) noexcept
{
    Slot* pool = reinterpret_cast<Slot*>(pool_space);
    uint32_t next_slot = 0;
    for (uint32_t id = 0; id < vcpus; ++id) {
        const xen::VcpuId v{id};
        tickets[id] = xen::CallTicket{};
        posted[id] = false;
        runs[id] = CpuRun{};
        runs[id].vcpu = v;
        jobs[id] = Job{&runs[id], pool + next_slot, &p};
        if (!smp::is_online(v))
            continue;
        next_slot += p.timers;
        if (id == 0 || ctl == nullptr)
            continue;
        auto t = ctl->post(v, &job_on_vcpu, &jobs[id]);
        if (t) {
            tickets[id] = *t;
            posted[id] = true;
        } else {
            runs[id].error = t.error();
        }
    }
    job_on_vcpu(&jobs[0]);
    const xen::WaitBound bound{p.window_ns * 3 + 20'000 * ms, ~uint64_t{0}};
    for (uint32_t id = 1; id < vcpus; ++id)
        if (posted[id])
            if (auto r = ctl->wait_call(tickets[id], bound); !r)
                runs[id].error = r.error();
}

/// What every vCPU measured, summed up.
struct Sum {
    uint64_t armed = 0, fired = 0, early = 0, doubled = 0, lost = 0, failed_cpus = 0, idle_wakeups = 0, end_events = 0;
    uint64_t ticks = 0, ticks_wanted = 0, idle_ns = 0;
    xen::TimerStats all;
};

/// Sum up; per-vCPU figures as metrics.
void sum_up(Tap& tap, uint32_t vcpus, Sum& s) noexcept
{
    for (uint32_t id = 0; id < vcpus; ++id) {
        const xen::VcpuId v{id};
        const CpuRun& r = runs[id];
        if (!smp::is_online(v) && !r.ran)
            continue;
        if (!r.ran) {
            ++s.failed_cpus;
            tap.comment("timers: vCPU ", id, " did not run: ", xen::errc_name(r.error));
            continue;
        }
        s.armed += r.armed;
        s.fired += r.fired;
        s.early += r.early;
        s.doubled += r.doubled;
        s.lost += r.lost;
        s.ticks += r.ticks;
        s.ticks_wanted += r.ticks_wanted;
        s.idle_wakeups += r.idle_wakeups;
        s.end_events += r.end_events;
        s.idle_ns += r.idle_ns;
        s.all.merge(r.stats);
        tap.metric(area, "fired", r.fired, "", id);
        tap.metric(area, "wakeups", r.stats.wakeups, "", id);
        tap.metric(area, "hypercalls", r.stats.hypercalls, "", id);
        tap.metric(area, "lateness_p50_us", r.stats.lateness.quantile_permille(500) / 1000, "", id);
        tap.metric(area, "lateness_p99_us", r.stats.lateness.quantile_permille(990) / 1000, "", id);
        tap.metric(area, "idle_wakeups", r.idle_wakeups, "", id);
        tap.metric(area, "idle_end_events", r.end_events, "", id);
        tap.metric(area, "arming_us", r.arming_ns / 1000, "", id);
        tap.metric(area, "worst_late_us", r.worst_late / 1000, "", id);
        tap.metric(area, "worst_due_ms", r.worst_due / ms, "", id);
        tap.metric(area, "steal_ms", r.runnable_ns / ms, "", id);
        for (uint32_t b = 0; b < lateness_buckets; ++b) {
            if (r.late_hist[b] == 0)
                continue;
            if (b + 1 < lateness_buckets)
                tap.metric(area, "lateness_bucket", r.late_hist[b], "", id, MetricTag{"le_us", lateness_bounds_us[b]});
            else
                tap.metric(area, "lateness_bucket", r.late_hist[b], "", id, MetricTag{"le_us", "inf"});
        }
    }
}

/// The whole run's figures.
void report_sum(Tap& tap, const Sum& s, uint32_t active, uint64_t periodic_idle, uint64_t periodic_busy) noexcept
{
    const xen::TimerStats& all = s.all;
    tap.metric(area, "vcpus", active - s.failed_cpus);
    tap.metric(area, "armed", s.armed);
    tap.metric(area, "fired", s.fired);
    tap.metric(area, "early", s.early);
    tap.metric(area, "lost", s.lost);
    tap.metric(area, "double", s.doubled);
    tap.metric(area, "periodic_ticks", s.ticks);
    tap.metric(area, "expiries", all.expiries);
    tap.metric(area, "wakeups", all.wakeups);
    tap.metric(area, "early_events", all.early_events);
    tap.metric(area, "hypercalls", all.hypercalls);
    tap.metric(area, "capped", all.capped);
    tap.metric(area, "etime", all.etime);
    tap.metric(area, "lateness_p50_us", all.lateness.quantile_permille(500) / 1000);
    tap.metric(area, "lateness_p99_us", all.lateness.quantile_permille(990) / 1000);
    tap.metric(area, "lateness_max_us", all.lateness.max() / 1000);
    print_ratio_metric("hypercalls_per_expiry", all.hypercalls, all.expiries);
    const uint64_t idle_per_s = s.idle_ns == 0 ? 0 : s.idle_wakeups * 1'000'000'000 / s.idle_ns;
    tap.metric(area, "idle_wakeups", idle_per_s, "_per_s");
    tap.metric(area, "idle_end_events", s.end_events);
    tap.metric(area, "idle_wakeups_periodic", periodic_idle, "_per_s");
    tap.metric(area, "busy_events_periodic", periodic_busy, "_per_s");
}

} // namespace

void run_timers(Tap& tap, const Context& context) noexcept
{
    if (auto online = smp::ensure_online(); !online)
        tap.comment("timers: APs not online (", xen::errc_name(online.error()), "): vCPU 0 only");
    xen::Smp* ctl = smp::controller();
    uint32_t vcpus = smp::vcpu_count() < max_vcpus ? smp::vcpu_count() : max_vcpus;
    const uint64_t want_vcpus = context.cmdline.get_uint("timer_vcpus", vcpus);
    vcpus = want_vcpus >= 1 && want_vcpus < vcpus ? static_cast<uint32_t>(want_vcpus) : vcpus;
    uint32_t active = 0;
    for (uint32_t id = 0; id < vcpus; ++id)
        active += smp::is_online(xen::VcpuId{id}) ? 1 : 0;

    Params p = params_for(tap, context, active);
    p.have_now = guest_tests::register_areas(runstate, vcpus);
    if (!p.have_now)
        tap.comment("timers: runstate areas not registered: the idle seconds judged by the domain's clock");
    run_everywhere(vcpus, ctl, p);
    guest_tests::unregister_areas(runstate, vcpus);

    // vCPU 0: Xen's periodic timer for comparison, idle and busy.
    const uint64_t periodic_idle = periodic_events_per_s(true);
    uint64_t periods_run = 0;
    const uint64_t periodic_busy = periodic_events_per_s(false, &periods_run);

    // Leave VIRQ_TIMER to later tests.
    for (uint32_t id = 0; id < vcpus; ++id) {
        const xen::VcpuId v{id};
        if (smp::is_online(v))
            (void)smp::run_on(v, &give_back_here, nullptr);
    }

    Sum s;
    sum_up(tap, vcpus, s);
    report_sum(tap, s, active, periodic_idle, periodic_busy);

    const uint64_t failed_cpus = s.failed_cpus;
    const bool ran = failed_cpus == 0 && s.armed > 0;
    tap.result(ran && s.fired == s.armed && s.ticks == s.ticks_wanted, area, "every timer ran: ", s.fired, " of ",
               s.armed, " on ", active - failed_cpus, " vCPU(s), periodic ", s.ticks, " of ", s.ticks_wanted);
    tap.result(ran && s.early == 0, area, "no timer ran before its deadline (", s.early, " early)");
    tap.result(ran && s.lost == 0, area, "no timer lost (", s.lost, " lost)");
    tap.result(ran && s.doubled == 0, area, "no timer ran twice (", s.doubled, " double)");
    tap.result(ran && s.all.expiries > 0 && s.all.hypercalls <= s.all.expiries, area, "hypercalls per expiry <= 1.0 (",
               s.all.hypercalls, " for ", s.all.expiries, ")");
    tap.result(ran && s.idle_wakeups == 0, area, "idle with the driver: ", s.idle_wakeups,
               " wake-ups in the idle seconds of ", active - failed_cpus, " vCPU(s) (0 wanted; ", s.end_events,
               " events from their ends", p.have_now ? ", by Xen's NOW()" : "", ")");
    // Xen stops a vCPU's periodic timer while it is descheduled
    // (sched/core.c), so the ticks reach a vCPU that runs: one per 10 ms
    // period in which it runs, ~100 per second on a quiet machine. Periods
    // in which it did not run at all (its share of the pCPU, from Xen or
    // from a loaded host running the emulated pCPU) give at most one event
    // between them, so the ticks are counted against the periods it ran in
    // (periodic_events_per_s); the bar is a quarter of those.
    tap.metric(area, "busy_periods_run", periods_run, "_per_s");
    tap.result(periodic_busy * 4 >= periods_run && periods_run > 0, area,
               "Xen's 10 ms periodic timer left on: ", periodic_busy, " events/s while the vCPU runs, in ", periods_run,
               " of the 100 periods a second it ran in (a quarter wanted); ", periodic_idle, "/s while it idles");
}

namespace guest_tests {

// Anywhere, on every online vCPU.
extern const Test timers_test{
    .name = "timers",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_timers,
};

// The same as a domU, when named (scripts/boot --domu).
extern const Test domu_timers_test{
    .name = "domu-timers",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::domu,
    .min_vcpus = 1,
    .run = run_timers,
};

} // namespace guest_tests

} // namespace mk
