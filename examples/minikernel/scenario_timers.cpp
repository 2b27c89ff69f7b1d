// timers: the library's tickless timer driver (xen/time/timer_driver.hpp)
// on every online vCPU, on real Xen.
//
// On each CPU, in thread context there (smp::run_on):
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
//      events that arrive meanwhile are idle wake-ups (the driver: 0).
// On CPU 0 also the comparison with Xen's 10 ms periodic timer (PV's
// default; PVH has none by default, so it is set explicitly), once while
// the vCPU idles and once while it runs.
//
// Knobs: timers=T (per vCPU; default 1000 on PV, 100 on PVH, where every
// rdtsc and hypercall traps to Xen under TCG), timer_window_ms=W (default
// 1000 PV, 2000 PVH), timer_slack_us=S (default 0).
//
// The clock is pvclock_read of the vCPU's own vcpu_time_info: Xen runs the
// single-shot timer by the NOW() of the pCPU the vCPU is on, which that
// record tracks; a cross-vCPU monotonic clock may run ahead of it.
#include <new>
#include <xen/arch/x86.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/time/pvclock.hpp>
#include <xen/time/timer_driver.hpp>

#include "events.hpp"
#include "scenarios.hpp"
#include "smp.hpp"

namespace mk {

namespace {

// --- the driver, as a kernel would own it ------------------------------------

/// CPUs the driver has storage for (the first ones; a bigger domain runs the
/// scenario on these).
constexpr uint32_t max_timer_cpus = 64;

// Driver storage: per CPU, for the first max_timer_cpus CPUs.
xen::TimerStorage<max_timer_cpus> storage;
alignas(xen::TimerDriver) unsigned char driver_space[sizeof(xen::TimerDriver)];
xen::TimerDriver* driver_ = nullptr;
bool bound_[max_timer_cpus];
uint64_t last_ns_[max_timer_cpus];

/// Xen system time by `vcpu`'s own pvclock record (see the top).
uint64_t now(xen::VcpuId vcpu) noexcept
{
    const uint32_t cpu = vcpu.value; // CPU numbers and vcpu_ids agree here (smp.hpp)
    auto t = xen::pvclock_read(smp::vcpu_info_of(cpu).time);
    // A read fails only if Xen left the record mid-update 1024 times: keep
    // the last value rather than report time 0.
    if (t && cpu < max_timer_cpus)
        last_ns_[cpu] = t->system_time_ns;
    return t ? t->system_time_ns : (cpu < max_timer_cpus ? last_ns_[cpu] : 0);
}

uint64_t clock_hook(void*, xen::VcpuId self) noexcept { return now(self); }

xen::VcpuId current_hook() noexcept { return smp::this_vcpu(); }

/// The driver, constructed on first use (no global constructors here).
xen::TimerDriver& driver(GuestType guest) noexcept
{
    if (driver_ == nullptr) {
        xen::TimerConfig c;
        c.clock = &clock_hook;
        c.current = &current_hook;
        c.idle = guest == GuestType::pvh ? xen::IdleMethod::sti_hlt : xen::IdleMethod::sched_block;
        driver_ = new (driver_space) xen::TimerDriver(c, storage);
    }
    return *driver_;
}

/// On CPU `cpu`: bind its VIRQ_TIMER to the driver and start it there.
xen::Result<void> take_over(uint32_t cpu, GuestType guest) noexcept
{
    xen::TimerDriver& d = driver(guest);
    const xen::VcpuId v = smp::vcpu_of(cpu);
    events::disable();
    xen::Result<void> r = xen::ok();
    if (!bound_[cpu]) {
        auto port = d.bind(events::channels(), v, smp::vcpu_info_of(cpu));
        r = port ? xen::ok() : xen::Result<void>(xen::err(port.error()));
        bound_[cpu] = port.has_value();
    }
    if (r)
        r = d.start(v);
    events::enable();
    return r;
}

/// On CPU `cpu`: stop the driver there and close its VIRQ_TIMER port, so
/// that later scenarios can bind it.
xen::Result<void> give_back(uint32_t cpu) noexcept
{
    if (driver_ == nullptr || !bound_[cpu])
        return xen::ok();
    const xen::VcpuId v = smp::vcpu_of(cpu);
    events::disable();
    auto r = driver_->stop(v);
    if (r)
        r = driver_->unbind(v);
    if (r)
        bound_[cpu] = false;
    events::enable();
    return r;
}

/// One round of an idle loop on the calling CPU.
void idle_once(xen::VcpuId v) noexcept
{
    // idle() wants upcalls held off (so no event slips in between its check
    // and the sleep); it returns with them on or off, and enable() delivers
    // whatever is pending either way.
    events::disable();
    (void)driver_->idle(v);
    events::enable();
}

// --- the scenario --------------------------------------------------------------

constexpr uint32_t pool_size = 8192;   // timers across all CPUs
constexpr uint64_t ms = 1'000'000;
constexpr uint64_t periodic_ns = 10 * ms; // the software periodic timer

struct CpuRun;

/// One random timer of the timer phase.
struct Slot {
    xen::Timer timer{&Slot::fire, this};
    CpuRun* run = nullptr;
    uint64_t deadline = 0;
    uint32_t fires = 0;

    static void fire(xen::Timer&, xen::VcpuId self, uint64_t handler_now, void* ctx) noexcept;
};

/// What one CPU measured.
struct CpuRun {
    uint32_t cpu = 0;
    bool ran = false;
    xen::Errc error{};
    uint32_t armed = 0;
    uint32_t fired = 0;
    uint32_t early = 0;
    uint32_t doubled = 0;
    uint32_t lost = 0;
    uint64_t ticks = 0;       // periodic software timer runs
    uint64_t ticks_wanted = 0;
    bool watchdog_fired = false;
    xen::TimerStats stats;    // the driver's counters over the timer phase
    uint64_t idle_wakeups = 0; // VIRQ_TIMER events in the idle second, beyond the one ending it
    uint64_t idle_ns = 0;
};

struct Params {
    uint32_t timers;
    uint64_t window_ns;
    uint64_t slack_ns;
    GuestType guest;
};

alignas(Slot) unsigned char pool_space[sizeof(Slot) * pool_size];
Slot* pool = nullptr;
CpuRun runs[max_timer_cpus];

// Per-CPU helper timers: the periodic one, the watchdog, the idle end.
struct Helpers {
    xen::Timer periodic{&Helpers::tick, this};
    xen::Timer watchdog{&Helpers::bark, this};
    xen::Timer end{&Helpers::ring, this};
    CpuRun* run = nullptr;
    volatile bool watchdog_fired = false;
    volatile bool end_fired = false;

    static void tick(xen::Timer& t, xen::VcpuId self, uint64_t, void* ctx) noexcept
    {
        auto* h = static_cast<Helpers*>(ctx);
        if (++h->run->ticks < h->run->ticks_wanted)
            (void)driver_->arm(self, t, t.deadline() + periodic_ns);
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
alignas(Helpers) unsigned char helpers_space[sizeof(Helpers) * max_timer_cpus];

Helpers& helpers(uint32_t cpu) noexcept { return reinterpret_cast<Helpers*>(helpers_space)[cpu]; }

void Slot::fire(xen::Timer&, xen::VcpuId self, uint64_t handler_now, void* ctx) noexcept
{
    auto* s = static_cast<Slot*>(ctx);
    CpuRun& run = *s->run;
    if (++s->fires > 1) {
        ++run.doubled;
        return;
    }
    ++run.fired;
    // Early by the handler's clock, or by a fresh reading of our own.
    const uint64_t again = now(self);
    if (handler_now < s->deadline || again < s->deadline)
        ++run.early;
}

/// xorshift64*: deterministic per CPU, good enough for deadlines.
uint64_t next_random(uint64_t& state) noexcept
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
}

/// Steps 2 and 3 on the calling CPU.
void run_cpu(CpuRun& run, Slot* slots, const Params& p) noexcept
{
    xen::TimerDriver& d = *driver_;
    const xen::VcpuId v = smp::vcpu_of(run.cpu);
    Helpers& h = *new (&helpers(run.cpu)) Helpers;
    h.run = &run;
    run.ticks_wanted = p.window_ns / periodic_ns;

    // --- 2. the timer phase --------------------------------------------------
    uint64_t seed = 0x9e3779b97f4a7c15ull * (run.cpu + 1) ^ xen::arch::rdtsc();
    events::disable();
    d.cpu(v)->stats().clear();
    const uint64_t t0 = now(v);
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

    while (!(run.fired == run.armed && run.ticks >= run.ticks_wanted) && !h.watchdog_fired)
        idle_once(v);

    events::disable();
    run.stats = d.cpu(v)->stats(); // before the clean-up below adds to it
    run.watchdog_fired = h.watchdog_fired;
    for (uint32_t i = 0; i < run.armed; ++i) {
        if (slots[i].fires == 0)
            ++run.lost;
        (void)d.cancel(v, slots[i].timer);
    }
    (void)d.cancel(v, h.periodic);
    (void)d.cancel(v, h.watchdog);
    events::enable();

    // --- 3. one idle second, nothing armed but its end ------------------------
    events::disable();
    const uint64_t w0 = d.cpu(v)->stats().wakeups;
    const uint64_t i0 = now(v);
    (void)d.arm(v, h.end, i0 + 1000 * ms);
    events::enable();
    while (!h.end_fired)
        idle_once(v);
    run.idle_ns = now(v) - i0;
    const uint64_t events_seen = d.cpu(v)->stats().wakeups - w0;
    run.idle_wakeups = events_seen > 0 ? events_seen - 1 : 0;
    run.ran = true;
}

/// Xen's periodic timer at 10 ms for one second on CPU `cpu`, the vCPU
/// idling (blocked) or running (spinning on its clock): VIRQ_TIMER events
/// per second. The driver's handler takes them (they find nothing due).
uint64_t periodic_events_per_s(uint32_t cpu, bool idle) noexcept
{
    xen::TimerDriver& d = *driver_;
    const xen::VcpuId v = smp::vcpu_of(cpu);
    Helpers& h = helpers(cpu);
    h.end_fired = false;
    if (!xen::hc::set_periodic_timer(v, 10 * ms))
        return 0;
    events::disable();
    const uint64_t w0 = d.cpu(v)->stats().wakeups;
    const uint64_t t0 = now(v);
    (void)d.arm(v, h.end, t0 + 1000 * ms);
    events::enable();
    while (!h.end_fired) {
        if (idle)
            idle_once(v);
        else
            xen::arch::cpu_relax();
    }
    const uint64_t elapsed = now(v) - t0;
    (void)xen::hc::stop_periodic_timer(v);
    const uint64_t seen = d.cpu(v)->stats().wakeups - w0;
    const uint64_t beyond_end = seen > 0 ? seen - 1 : 0;
    return elapsed == 0 ? 0 : beyond_end * 1'000'000'000 / elapsed;
}

struct Job {
    CpuRun* run;
    Slot* slots;
    const Params* params;
};

void job_on_cpu(void* arg) noexcept
{
    auto& job = *static_cast<Job*>(arg);
    if (auto r = take_over(job.run->cpu, job.params->guest); !r) {
        job.run->error = r.error();
        return;
    }
    run_cpu(*job.run, job.slots, *job.params);
}

/// "0.937": a ratio in thousandths, as a decimal.
void print_ratio_metric(const char* name, uint64_t num, uint64_t den) noexcept
{
    const uint64_t milli = den == 0 ? 0 : (num * 1000 + den / 2) / den;
    console::print("# metric timers.", name, "=", milli / 1000, ".", (milli % 1000) / 100, (milli % 100) / 10,
                   milli % 10, "\n");
}

} // namespace

void run_timers(Tap& tap, const Context& context) noexcept
{
    const char* area = "timers";
    const bool pvh = context.boot.type == GuestType::pvh;
    if (auto online = smp::ensure_online(); !online)
        tap.comment("timers: APs not online (", xen::errc_name(online.error()), "): vCPU 0 only");
    const uint32_t cpus = smp::cpu_count() < max_timer_cpus ? smp::cpu_count() : max_timer_cpus;
    uint32_t active = 0;
    for (uint32_t c = 0; c < cpus; ++c)
        active += smp::is_online(c) ? 1 : 0;

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
    tap.comment("timers: ", p.timers, " timers per vCPU on ", active, " vCPU(s) over ", p.window_ns / ms,
                " ms, slack ", p.slack_ns / 1000, " us, + a 10 ms periodic software timer");

    pool = reinterpret_cast<Slot*>(pool_space);
    uint32_t next_slot = 0;
    for (uint32_t c = 0; c < cpus; ++c) {
        runs[c] = CpuRun{};
        runs[c].cpu = c;
        if (!smp::is_online(c))
            continue;
        Job job{&runs[c], pool + next_slot, &p};
        next_slot += p.timers;
        if (auto r = smp::run_on(c, &job_on_cpu, &job, p.window_ns * 3 + 10'000 * ms); !r)
            runs[c].error = r.error();
    }

    // CPU 0: Xen's periodic timer for comparison, idle and busy.
    const uint64_t periodic_idle = periodic_events_per_s(0, true);
    const uint64_t periodic_busy = periodic_events_per_s(0, false);

    // Sum up, per vCPU figures as metrics.
    uint64_t armed = 0, fired = 0, early = 0, doubled = 0, lost = 0, failed_cpus = 0, idle_wakeups = 0;
    uint64_t ticks = 0, ticks_wanted = 0, idle_ns = 0;
    xen::TimerStats all;
    for (uint32_t c = 0; c < cpus; ++c) {
        const CpuRun& r = runs[c];
        if (!smp::is_online(c) && !r.ran)
            continue;
        if (!r.ran) {
            ++failed_cpus;
            tap.comment("timers: vCPU ", c, " did not run: ", xen::errc_name(r.error));
            continue;
        }
        armed += r.armed;
        fired += r.fired;
        early += r.early;
        doubled += r.doubled;
        lost += r.lost;
        ticks += r.ticks;
        ticks_wanted += r.ticks_wanted;
        idle_wakeups += r.idle_wakeups;
        idle_ns += r.idle_ns;
        all.merge(r.stats);
        tap.metric(area, "fired", r.fired, "", c);
        tap.metric(area, "wakeups", r.stats.wakeups, "", c);
        tap.metric(area, "hypercalls", r.stats.hypercalls, "", c);
        tap.metric(area, "lateness_p99_us", r.stats.lateness.quantile_permille(990) / 1000, "", c);
        tap.metric(area, "idle_wakeups", r.idle_wakeups, "", c);
    }
    tap.metric(area, "armed", armed);
    tap.metric(area, "fired", fired);
    tap.metric(area, "early", early);
    tap.metric(area, "lost", lost);
    tap.metric(area, "double", doubled);
    tap.metric(area, "periodic_ticks", ticks);
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
    const uint64_t idle_per_s = idle_ns == 0 ? 0 : idle_wakeups * 1'000'000'000 / idle_ns;
    tap.metric(area, "idle_wakeups", idle_per_s, "_per_s");
    tap.metric(area, "idle_wakeups_periodic", periodic_idle, "_per_s");
    tap.metric(area, "busy_events_periodic", periodic_busy, "_per_s");

    // Leave VIRQ_TIMER to later scenarios.
    for (uint32_t c = 0; c < cpus; ++c) {
        if (!smp::is_online(c))
            continue;
        uint32_t which = c;
        (void)smp::run_on(
            c, [](void* arg) noexcept { (void)give_back(*static_cast<uint32_t*>(arg)); }, &which);
    }

    const bool ran = failed_cpus == 0 && armed > 0;
    tap.result(ran && fired == armed && ticks == ticks_wanted, area, "every timer ran: ", fired, " of ", armed,
               " on ", active - failed_cpus, " vCPU(s), periodic ", ticks, " of ", ticks_wanted);
    tap.result(ran && early == 0, area, "no timer ran before its deadline (", early, " early)");
    tap.result(ran && lost == 0, area, "no timer lost (", lost, " lost)");
    tap.result(ran && doubled == 0, area, "no timer ran twice (", doubled, " double)");
    tap.result(ran && all.expiries > 0 && all.hypercalls <= all.expiries, area, "hypercalls per expiry <= 1.0 (",
               all.hypercalls, " for ", all.expiries, ")");
    tap.result(ran && idle_wakeups == 0, area, "idle with the driver: ", idle_wakeups,
               " wake-ups over the idle seconds (0 wanted)");
    // Xen stops a vCPU's periodic timer while it is descheduled
    // (sched/core.c), so the ticks reach a vCPU that runs: ~100 per second.
    tap.result(periodic_busy >= 50, area, "Xen's 10 ms periodic timer left on: ", periodic_busy,
               " events/s while the vCPU runs, ", periodic_idle, "/s while it idles");
}

} // namespace mk
