// The soaks: long runs that keep the timer driver, hotplug, cross-vCPU calls
// and the clock busy for as long as they are asked to (scripts/soak runs
// them; docs/soak.md). None runs by default.
//
// The timer *chains* behind three of them: every online vCPU has K timers
// (`soak_timers=K`, default 4) that re-arm themselves from their own
// callback, on the vCPU they ran on, at a random delay of up to
// `soak_spread_us` (default 2000). Each callback checks that it was armed
// (a second run of one arming is *doubled*), that neither the driver's
// reading nor the clock read in it is below the deadline (*early*), that it
// ran on the vCPU it was armed on (*wrong vCPU*), and how late it is. At the
// end the chains stop re-arming; one still armed 2 s after its deadline is
// *lost*.
//
// Taking vCPU k down, as a kernel does (docs/timers.md, "Hotplug"): k marks
// itself going down, stops its driver (its timers stay queued) and takes
// what was due already (those callbacks see the mark and do not re-arm: a
// callback cannot arm on k once it is stopped). A cross-vCPU call is posted
// to k and left in flight, then the SMP controller takes k offline; once
// it is down vCPU 0 adopt()s k's timers (they run and re-arm there) and
// re-arms the chains that k's callbacks left. Back up, k starts its driver,
// vCPU 0 cancels the chains that belong to k and k arms them again, and the
// call posted before the offline must have run exactly once.
//
// soak-hotplug   `soak_cycles=N` (default 100) cycles: AP k = 1 + c mod
//                (vCPUs - 1) down and back, chains on every vCPU, a call
//                in flight each time.
// soak-timers    chains on every vCPU for `soak_seconds=S` (default 10).
// domu-soak      (domU) chains on every vCPU while following `xl vcpu-set`
//                (xenstore cpu/N/availability) the same way, until
//                control/shutdown.
// soak-clock     `soak_reads=N` (default 10^6) clock reads spread over the
//                online vCPUs, all at once; each read is checked against
//                the vCPU's previous one and against the newest one any
//                vCPU published; `soak_clock_s=S` bounds the time (0: none).
//
// Each prints `# metric <area>.progress=...` lines every `soak_every`
// cycles (default N/20) or `soak_progress_s` seconds (default 30), so a
// long run shows life and a hang is placed.
#include <new>
#include <xen/arch/x86.hpp>
#include <xen/smp.hpp>
#include <xen/xenstore.hpp>

#include "cmdline.hpp"
#include "domain.hpp"
#include "domu.hpp"
#include "events.hpp"
#include "framework/test.hpp"
#include "kernel.hpp"
#include "smp.hpp"
#include "smp_internal.hpp"
#include "timers.hpp"

namespace mk {

namespace {

using xen::VcpuId;

constexpr uint64_t us = 1'000;
constexpr uint64_t ms = 1'000'000;
constexpr uint64_t sec = 1'000'000'000;
constexpr uint32_t max_chains_per_vcpu = 8;
constexpr uint32_t nobody = ~0u;

// --- the chains ---------------------------------------------------------------

/// Set by the vCPU itself before it stops its driver; its callbacks then
/// leave their chain unarmed (`parked`) for vCPU 0 to re-arm.
bool going_down[max_vcpus];
/// Set by vCPU 0 at the end: callbacks stop re-arming.
bool stopping = false;
uint64_t spread_ns = 2 * ms;

struct Chain {
    xen::Timer timer{&Chain::fire, this};
    uint64_t seed = 0;
    uint64_t deadline = 0; ///< in the clock of the vCPU it was armed on
    uint32_t home = 0;     ///< the vCPU it belongs to
    uint32_t on = nobody;  ///< where it is armed (or last ran)
    bool armed = false;
    bool parked = false; ///< ran while its vCPU was going down: not re-armed
    uint64_t fires = 0, early = 0, doubled = 0, wrong = 0, arm_errors = 0, late_100ms = 0;
    uint64_t late_sum_ns = 0, max_late_ns = 0;

    uint64_t next_delay() noexcept
    {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        return (seed * 0x2545f4914f6cdd1dull) % (spread_ns + 1);
    }

    /// Arm on `v` (the caller; thread context with upcalls off, or a callback).
    void arm(VcpuId v, uint64_t now) noexcept
    {
        deadline = now + next_delay();
        on = v.value;
        parked = false;
        __atomic_store_n(&armed, true, __ATOMIC_SEQ_CST);
        if (auto r = timers::driver().arm(v, timer, deadline); !r) {
            __atomic_store_n(&armed, false, __ATOMIC_SEQ_CST);
            ++arm_errors;
        }
    }

    static void fire(xen::Timer&, VcpuId self, uint64_t handler_now, void* ctx) noexcept
    {
        auto& c = *static_cast<Chain*>(ctx);
        const uint64_t now = timers::now();
        if (!__atomic_exchange_n(&c.armed, false, __ATOMIC_SEQ_CST))
            ++c.doubled;
        ++c.fires;
        if (handler_now < c.deadline || now < c.deadline)
            ++c.early;
        if (self.value != c.on)
            ++c.wrong;
        const uint64_t late = now > c.deadline ? now - c.deadline : 0;
        c.late_sum_ns += late;
        c.max_late_ns = late > c.max_late_ns ? late : c.max_late_ns;
        c.late_100ms += late > 100 * ms ? 1 : 0;
        if (__atomic_load_n(&stopping, __ATOMIC_SEQ_CST) ||
            __atomic_load_n(&going_down[self.value], __ATOMIC_SEQ_CST)) {
            c.parked = !__atomic_load_n(&stopping, __ATOMIC_SEQ_CST);
            return;
        }
        c.arm(self, now);
    }
};

alignas(Chain) unsigned char chain_space[sizeof(Chain) * max_vcpus * max_chains_per_vcpu];
uint32_t per_vcpu = 4;

Chain& chain(uint32_t vcpu, uint32_t i) noexcept
{
    return reinterpret_cast<Chain*>(chain_space)[vcpu * max_chains_per_vcpu + i];
}

struct Totals {
    uint64_t fires = 0, early = 0, doubled = 0, wrong = 0, arm_errors = 0, late_100ms = 0, lost = 0;
    uint64_t late_sum_ns = 0, max_late_ns = 0;
};

Totals totals(uint32_t n) noexcept
{
    Totals t;
    for (uint32_t v = 0; v < n; ++v)
        for (uint32_t i = 0; i < per_vcpu; ++i) {
            const Chain& c = chain(v, i);
            t.fires += c.fires;
            t.early += c.early;
            t.doubled += c.doubled;
            t.wrong += c.wrong;
            t.arm_errors += c.arm_errors;
            t.late_100ms += c.late_100ms;
            t.late_sum_ns += c.late_sum_ns;
            t.max_late_ns = c.max_late_ns > t.max_late_ns ? c.max_late_ns : t.max_late_ns;
        }
    return t;
}

/// On vCPU v: take over its timer (once bound, a restart) and arm its own
/// chains.
struct ArmJob {
    bool fresh;
    xen::Errc error;
};

void arm_home_chains(void* arg) noexcept
{
    auto& job = *static_cast<ArmJob*>(arg);
    const VcpuId v = smp::this_vcpu();
    __atomic_store_n(&going_down[v.value], false, __ATOMIC_SEQ_CST);
    if (auto r = timers::take_over(v); !r) {
        job.error = r.error();
        return;
    }
    events::disable();
    const uint64_t now = timers::now();
    for (uint32_t i = 0; i < per_vcpu; ++i) {
        Chain& c = chain(v.value, i);
        if (job.fresh) {
            new (&c) Chain;
            c.seed = 0x9e3779b97f4a7c15ull * (v.value * max_chains_per_vcpu + i + 1) ^ xen::arch::rdtsc();
            c.home = v.value;
        }
        if (!c.armed)
            c.arm(v, now);
    }
    events::enable();
}

/// On vCPU k, before it goes down: mark it, stop its driver, and let what
/// was due run (those callbacks park their chain).
void stop_here(void*) noexcept
{
    const VcpuId v = smp::this_vcpu();
    events::disable();
    __atomic_store_n(&going_down[v.value], true, __ATOMIC_SEQ_CST);
    (void)timers::driver().stop(v);
    events::enable();
}

/// The cross-vCPU call left in flight while its target goes down.
uint64_t pinged[max_vcpus];
void ping(void* arg) noexcept { __atomic_add_fetch(static_cast<uint64_t*>(arg), 1, __ATOMIC_SEQ_CST); }

/// What taking vCPUs down and up came to.
struct Hotplug {
    uint64_t cycles = 0, ok = 0, failed = 0, adopted = 0, reparked = 0, pings_posted = 0, ping_errors = 0;
    uint64_t offline_ns = 0, online_ns = 0;
    uint64_t expected_pings[max_vcpus]{};
};
constinit Hotplug hp;

void note_failure(Tap& tap, const char* area, uint64_t cycle, uint32_t k, const char* what, xen::Errc e) noexcept
{
    ++hp.failed;
    if (hp.failed <= 5)
        tap.comment(area, ": cycle ", cycle, ", vCPU ", k, ": ", what, " failed: ", xen::errc_name(e));
}

/// vCPU 0, thread context: take AP k down the kernel's way (see the top).
bool take_down(Tap& tap, const char* area, uint64_t cycle, xen::Smp* ctl, VcpuId k) noexcept
{
    const VcpuId v0{0};
    if (auto r = smp::run_on(k, &stop_here, nullptr); !r) {
        note_failure(tap, area, cycle, k.value, "stop", r.error());
        return false;
    }
    auto t = ctl->post(k, &ping, &pinged[k.value]);
    if (t) {
        ++hp.pings_posted;
        ++hp.expected_pings[k.value];
    } else {
        ++hp.ping_errors;
    }
    const uint64_t t0 = now_ns();
    if (auto r = ctl->offline(k); !r) {
        note_failure(tap, area, cycle, k.value, "offline", r.error());
        return false;
    }
    hp.offline_ns += now_ns() - t0;
    events::disable();
    auto moved = timers::driver().adopt(v0, k);
    const uint64_t now = timers::now();
    uint64_t armed_on_k = 0;
    for (uint32_t i = 0; i < per_vcpu; ++i) {
        Chain& c = chain(k.value, i);
        if (__atomic_load_n(&c.armed, __ATOMIC_SEQ_CST) && c.on == k.value) {
            c.on = 0;
            ++armed_on_k;
        } else if (c.parked) {
            c.arm(v0, now);
            ++hp.reparked;
        }
    }
    events::enable();
    if (!moved) {
        note_failure(tap, area, cycle, k.value, "adopt", moved.error());
        return false;
    }
    hp.adopted += *moved;
    if (*moved < armed_on_k) {
        note_failure(tap, area, cycle, k.value, "adopt (fewer timers moved than chains armed)", xen::Errc{});
        return false;
    }
    return true;
}

/// vCPU 0, thread context: bring AP k back and give it its chains again.
bool bring_up(Tap& tap, const char* area, uint64_t cycle, xen::Smp* ctl, VcpuId k) noexcept
{
    const VcpuId v0{0};
    const uint64_t t0 = now_ns();
    if (auto r = ctl->online(k); !r) {
        note_failure(tap, area, cycle, k.value, "online", r.error());
        return false;
    }
    hp.online_ns += now_ns() - t0;
    // k's chains now run on vCPU 0: take them back there.
    events::disable();
    for (uint32_t i = 0; i < per_vcpu; ++i) {
        Chain& c = chain(k.value, i);
        if (__atomic_load_n(&c.armed, __ATOMIC_SEQ_CST) && c.on == 0) {
            auto r = timers::driver().cancel(v0, c.timer);
            if (r && *r)
                __atomic_store_n(&c.armed, false, __ATOMIC_SEQ_CST);
        }
    }
    events::enable();
    ArmJob job{false, xen::Errc{}};
    if (auto r = smp::run_on(k, &arm_home_chains, &job); !r || job.error != xen::Errc{}) {
        note_failure(tap, area, cycle, k.value, "restart", r ? job.error : r.error());
        return false;
    }
    return true;
}

/// Arm the chains on every online vCPU (fresh).
bool start_chains(Tap& tap, const char* area, uint32_t n) noexcept
{
    __atomic_store_n(&stopping, false, __ATOMIC_SEQ_CST);
    hp = Hotplug{};
    for (uint32_t v = 0; v < n; ++v) {
        pinged[v] = 0;
        going_down[v] = false;
        for (uint32_t i = 0; i < per_vcpu; ++i)
            new (&chain(v, i)) Chain;
    }
    bool ok = true;
    for (uint32_t v = 0; v < n; ++v) {
        if (!smp::is_online(VcpuId{v}))
            continue;
        ArmJob job{true, xen::Errc{}};
        auto r = smp::run_on(VcpuId{v}, &arm_home_chains, &job);
        if (!r || job.error != xen::Errc{}) {
            tap.comment(area, ": chains on vCPU ", v, ": ", xen::errc_name(r ? job.error : r.error()));
            ok = false;
        }
    }
    return ok;
}

void give_back_here(void*) noexcept
{
    const VcpuId v = smp::this_vcpu();
    // Nothing of ours stays armed: cancel what is left, then give the timer back.
    events::disable();
    for (uint32_t h = 0; h < smp::vcpu_count(); ++h)
        for (uint32_t i = 0; i < per_vcpu; ++i) {
            Chain& c = chain(h, i);
            if (__atomic_load_n(&c.armed, __ATOMIC_SEQ_CST) && c.on == v.value) {
                auto r = timers::driver().cancel(v, c.timer);
                if (r && *r)
                    __atomic_store_n(&c.armed, false, __ATOMIC_SEQ_CST);
            }
        }
    events::enable();
    (void)timers::give_back(v);
}

/// Stop the chains; wait (2 s past the last deadline) for the last runs;
/// count what is still armed as lost; give every timer back.
Totals stop_chains(uint32_t n) noexcept
{
    const VcpuId v0{0};
    __atomic_store_n(&stopping, true, __ATOMIC_SEQ_CST);
    const uint64_t limit = timers::now() + spread_ns + 2 * sec;
    auto armed_left = [&] {
        uint64_t left = 0;
        for (uint32_t v = 0; v < n; ++v)
            for (uint32_t i = 0; i < per_vcpu; ++i)
                left += __atomic_load_n(&chain(v, i).armed, __ATOMIC_SEQ_CST) ? 1 : 0;
        return left;
    };
    while (armed_left() > 0 && timers::now() < limit)
        timers::sleep(v0, 1 * ms);
    Totals t = totals(n);
    t.lost = armed_left();
    for (uint32_t v = 1; v < n; ++v)
        if (smp::is_online(VcpuId{v}))
            (void)smp::run_on(VcpuId{v}, &give_back_here, nullptr);
    give_back_here(nullptr);
    return t;
}

void report_chains(Tap& tap, const char* area, const Totals& t, uint64_t elapsed_ns) noexcept
{
    tap.metric(area, "timer_runs", t.fires);
    tap.metric(area, "early", t.early);
    tap.metric(area, "lost", t.lost);
    tap.metric(area, "doubled", t.doubled);
    tap.metric(area, "wrong_vcpu", t.wrong);
    tap.metric(area, "arm_errors", t.arm_errors);
    tap.metric(area, "mean_late_us", t.fires > 0 ? t.late_sum_ns / t.fires / us : 0);
    tap.metric(area, "max_late_us", t.max_late_ns / us);
    tap.metric(area, "late_over_100ms", t.late_100ms);
    tap.metric(area, "elapsed_ms", elapsed_ns / ms);
    tap.result(t.fires > 0 && t.early == 0 && t.lost == 0 && t.doubled == 0 && t.wrong == 0 && t.arm_errors == 0, area,
               "timers: ", t.fires, " runs of ", per_vcpu, " self-re-arming timers per vCPU: ", t.early, " early, ",
               t.lost, " lost, ", t.doubled, " doubled, ", t.wrong, " on another vCPU than armed, ", t.arm_errors,
               " arm errors; mean ", t.fires > 0 ? t.late_sum_ns / t.fires / us : 0, " us late, worst ",
               t.max_late_ns / us, " us");
}

void read_chain_knobs(const Context& context) noexcept
{
    uint64_t k = context.cmdline.get_uint("soak_timers", 4);
    per_vcpu = static_cast<uint32_t>(k == 0 ? 1 : (k > max_chains_per_vcpu ? max_chains_per_vcpu : k));
    spread_ns = context.cmdline.get_uint("soak_spread_us", 2000) * us;
}

/// The pings posted before each offline ran once each.
void report_hotplug(Tap& tap, const char* area, uint32_t n) noexcept
{
    uint64_t ran = 0, want = 0, wrong = 0;
    for (uint32_t v = 1; v < n; ++v) {
        const uint64_t got = __atomic_load_n(&pinged[v], __ATOMIC_SEQ_CST);
        ran += got;
        want += hp.expected_pings[v];
        wrong += got != hp.expected_pings[v] ? 1 : 0;
    }
    tap.metric(area, "cycles", hp.ok);
    tap.metric(area, "adopted", hp.adopted);
    tap.metric(area, "reparked", hp.reparked);
    tap.metric(area, "calls_in_flight", hp.pings_posted);
    if (hp.ok > 0) {
        tap.metric(area, "offline_ns", hp.offline_ns / hp.ok);
        tap.metric(area, "online_ns", hp.online_ns / hp.ok);
    }
    tap.result(hp.pings_posted == hp.ok && hp.ping_errors == 0 && ran == want && wrong == 0, area,
               "calls posted to a vCPU right before it went down: ", ran, " of ", want, " ran exactly once (",
               hp.ping_errors, " refused; ", wrong, " vCPUs off count)");
    tap.result(hp.ok == 0 || hp.adopted > 0, area, "vCPU 0 adopted ", hp.adopted,
               " timers from vCPUs that went down and re-armed ", hp.reparked, " chains they left");
}

// --- soak-hotplug ---------------------------------------------------------------

void run_soak_hotplug(Tap& tap, const Context& context) noexcept
{
    constexpr const char* area = "soak-hotplug";
    const auto online = smp::ensure_online();
    xen::Smp* ctl = smp::controller();
    const uint32_t n = ctl != nullptr ? ctl->count() : 1;
    if (!online.has_value() || ctl == nullptr || n < 2) {
        tap.skip(area, "needs 2 online vCPUs", "hotplug cycles with timers and calls in flight");
        return;
    }
    read_chain_knobs(context);
    const uint64_t cycles = context.cmdline.get_uint("soak_cycles", 100);
    uint64_t every = context.cmdline.get_uint("soak_every", cycles / 20);
    every = every == 0 ? 1 : every;
    tap.comment(area, ": ", cycles, " cycles over ", n - 1, " APs; ", per_vcpu, " timer chains per vCPU (0..",
                spread_ns / us, " us), a call in flight at each offline; progress every ", every, " cycles");
    const uint64_t t0 = now_ns();
    if (!start_chains(tap, area, n)) {
        (void)stop_chains(n);
        tap.result(false, area, "could not arm the timer chains");
        return;
    }
    for (uint64_t c = 0; c < cycles; ++c) {
        const VcpuId k{1 + static_cast<uint32_t>(c % (n - 1))};
        ++hp.cycles;
        if (!smp::is_online(k)) {
            note_failure(tap, area, c + 1, k.value, "find online", xen::Errc::vcpu_down);
            continue;
        }
        const bool down = take_down(tap, area, c + 1, ctl, k);
        const bool up = (down || !smp::is_online(k)) ? bring_up(tap, area, c + 1, ctl, k) : false;
        hp.ok += down && up ? 1 : 0;
        if ((c + 1) % every == 0 || c + 1 == cycles) {
            const Totals t = totals(n);
            tap.metric(area, "progress", c + 1, "", -1, MetricTag{"failed", hp.failed},
                       MetricTag{"elapsed_ms", (now_ns() - t0) / ms}, MetricTag{"timer_runs", t.fires},
                       MetricTag{"early", t.early}, MetricTag{"doubled", t.doubled});
        }
    }
    const Totals t = stop_chains(n);
    const uint64_t elapsed = now_ns() - t0;
    tap.metric(area, "cycles_per_s", elapsed > 0 ? hp.ok * sec / elapsed : 0);
    tap.result(hp.ok == cycles && hp.failed == 0, area, hp.ok, " of ", cycles, " offline/online cycles (", n - 1,
               " APs in turn) with timers armed on every vCPU");
    report_hotplug(tap, area, n);
    report_chains(tap, area, t, elapsed);
}

// --- soak-timers ----------------------------------------------------------------

void run_soak_timers(Tap& tap, const Context& context) noexcept
{
    constexpr const char* area = "soak-timers";
    const auto online = smp::ensure_online();
    const uint32_t n = smp::vcpu_count();
    read_chain_knobs(context);
    const uint64_t seconds = context.cmdline.get_uint("soak_seconds", 10);
    const uint64_t progress_s = context.cmdline.get_uint("soak_progress_s", 30);
    tap.comment(area, ": ", per_vcpu, " timer chains on each of ", smp::online_count(), " vCPUs (0..", spread_ns / us,
                " us) for ", seconds, " s", online ? "" : " (no APs)");
    const VcpuId v0{0};
    const uint64_t t0 = now_ns();
    if (!start_chains(tap, area, n)) {
        (void)stop_chains(n);
        tap.result(false, area, "could not arm the timer chains");
        return;
    }
    const uint64_t start = timers::now();
    const uint64_t end = start + seconds * sec;
    uint64_t next = start + progress_s * sec;
    const bool never = false;
    while (timers::now() < end) {
        (void)timers::idle_until(v0, never, next < end ? next : end);
        if (timers::now() >= next) {
            const Totals t = totals(n);
            tap.metric(area, "progress", (timers::now() - start) / sec, "s", -1, MetricTag{"timer_runs", t.fires},
                       MetricTag{"early", t.early}, MetricTag{"doubled", t.doubled},
                       MetricTag{"max_late_us", t.max_late_ns / us});
            next += progress_s * sec;
        }
    }
    const Totals t = stop_chains(n);
    for (uint32_t v = 0; v < n; ++v) {
        uint64_t f = 0;
        for (uint32_t i = 0; i < per_vcpu; ++i)
            f += chain(v, i).fires;
        if (smp::is_online(VcpuId{v}))
            tap.metric(area, "vcpu_runs", f, "", v);
    }
    report_chains(tap, area, t, now_ns() - t0);
}

// --- domu-soak -------------------------------------------------------------------

void run_domu_soak(Tap& tap, const Context& context) noexcept
{
    constexpr const char* area = "domu-soak";
    if (!domu::active()) {
        tap.skip(area, "not a domU (run it with scripts/boot --domu)", "follow xl vcpu-set with timers on every vCPU");
        return;
    }
    xen::XenStore& xs = *domu::xenstore();
    const auto up = smp::ensure_online();
    xen::Smp* ctl = smp::controller();
    const uint32_t n = smp::vcpu_count();
    read_chain_knobs(context);
    const auto w1 = xs.watch("cpu", "cpu");
    const auto w2 = xs.watch("control/shutdown", "shutdown");
    const bool armed = up.has_value() && ctl != nullptr && start_chains(tap, area, n);
    tap.result(armed && w1.has_value() && w2.has_value(), area, n, " vCPUs with ", per_vcpu,
               " timer chains each; watching cpu and control/shutdown");
    tap.comment(area, ": ready");
    const uint64_t t0 = now_ns();
    const uint64_t progress_s = context.cmdline.get_uint("soak_progress_s", 30);
    uint64_t next_progress = t0 + progress_s * sec;
    uint64_t requests = 0, downs = 0, ups = 0, min_online = smp::online_count();
    bool shutdown = false;
    const VcpuId v0{0};
    // Bounded: the plan's length, at most `soak_domu_s` (default 3600) of Xen time.
    const uint64_t deadline = t0 + context.cmdline.get_uint("soak_domu_s", 3600) * sec;
    while (armed && !shutdown && now_ns() < deadline) {
        xen::XenStoreWatchEvent e{};
        const auto got = xs.next_watch_event(e);
        if (!got || !*got) {
            timers::sleep(v0, 5 * ms); // vCPU 0's chains run meanwhile
            if (now_ns() >= next_progress) {
                const Totals t = totals(n);
                tap.metric(area, "progress", requests, "", -1, MetricTag{"downs", downs}, MetricTag{"ups", ups},
                           MetricTag{"failed", hp.failed}, MetricTag{"timer_runs", t.fires},
                           MetricTag{"early", t.early}, MetricTag{"doubled", t.doubled});
                next_progress += progress_s * sec;
            }
            continue;
        }
        if (str_equal(e.token, "shutdown")) {
            char reason[16] = "";
            if (xs.read("control/shutdown", reason, sizeof(reason))) {
                const auto what = xen::parse_shutdown_request(reason);
                if (what && *what != xen::ShutdownRequest::none) {
                    shutdown = true;
                    (void)xs.write("control/shutdown", "");
                }
            }
            continue;
        }
        char value[16];
        if (!xs.read(e.path, value, sizeof(value)))
            continue;
        const auto req = xen::parse_cpu_availability(e.path, value, n);
        if (!req || req->vcpu == 0)
            continue;
        const VcpuId k{req->vcpu};
        if (smp::is_online(k) == req->online)
            continue;
        ++requests;
        ++hp.cycles;
        if (req->online) {
            ups += bring_up(tap, area, requests, ctl, k) ? 1 : 0;
        } else {
            downs += take_down(tap, area, requests, ctl, k) ? 1 : 0;
            const uint64_t on = smp::online_count();
            min_online = on < min_online ? on : min_online;
        }
    }
    const Totals t = stop_chains(n);
    tap.metric(area, "requests", requests);
    tap.metric(area, "downs", downs);
    tap.metric(area, "ups", ups);
    tap.result(requests > 0 && downs + ups == requests && hp.failed == 0 && smp::online_count() == n, area, "followed ",
               downs + ups, " of ", requests, " vcpu-set requests (", downs, " down, ", ups, " up; down to ",
               min_online, " vCPUs, back to ", smp::online_count(), " of ", n, ")");
    // Every down left a call in flight.
    hp.ok = downs;
    report_hotplug(tap, area, n);
    report_chains(tap, area, t, now_ns() - t0);
    tap.result(shutdown, area, "control/shutdown seen and acknowledged");
}

// --- soak-clock ------------------------------------------------------------------

struct ClockJob {
    uint32_t cpu;
    uint64_t reads_wanted;
    uint64_t end_ns; ///< 0: no time bound
    uint64_t reads, backwards_own, backwards_across, errors, first_ns, last_ns;
    uint32_t done;
};
ClockJob clock_jobs[max_vcpus];
xen::CallTicket clock_tickets[max_vcpus];
bool clock_posted[max_vcpus];
uint64_t newest_reading; // atomic access
Tap* clock_tap = nullptr;
uint64_t clock_t0 = 0;
uint64_t clock_progress_mask = (1u << 22) - 1;

/// vCPU 0, between its reads: what every vCPU has read so far.
void clock_progress() noexcept
{
    uint64_t so_far = 0;
    for (uint32_t u = 0; u < smp::vcpu_count(); ++u)
        so_far += __atomic_load_n(&clock_jobs[u].reads, __ATOMIC_RELAXED);
    clock_tap->metric("soak-clock", "progress", so_far, "", -1, MetricTag{"elapsed_ms", (now_ns() - clock_t0) / ms});
}

void read_clock(void* arg) noexcept
{
    auto& j = *static_cast<ClockJob*>(arg);
    xen::VcpuSlot& s = *domain().find(VcpuId{j.cpu});
    auto first = domain().clock().read(s.clock);
    uint64_t prev = first ? first->ns : 0;
    j.first_ns = prev;
    while (j.reads < j.reads_wanted) {
        // One published reading per 64: the check across vCPUs without
        // every read contending for one cache line.
        const bool across = (j.reads & 63) == 0;
        const uint64_t seen = across ? __atomic_load_n(&newest_reading, __ATOMIC_ACQUIRE) : 0;
        auto r = domain().clock().read(s.clock);
        __atomic_store_n(&j.reads, j.reads + 1, __ATOMIC_RELAXED);
        if (!r) {
            ++j.errors;
            continue;
        }
        const uint64_t now = r->ns;
        if (j.cpu == 0 && clock_tap != nullptr && (j.reads & clock_progress_mask) == 0)
            clock_progress();
        j.backwards_own += now < prev ? 1 : 0;
        j.backwards_across += now < seen ? 1 : 0;
        prev = now;
        if (across) {
            __atomic_store_n(&newest_reading, now, __ATOMIC_RELEASE);
            if (j.end_ns != 0 && now >= j.end_ns)
                break;
        }
    }
    j.last_ns = prev;
    __atomic_store_n(&j.done, 1u, __ATOMIC_RELEASE);
}

void run_soak_clock(Tap& tap, const Context& context) noexcept
{
    constexpr const char* area = "soak-clock";
    (void)smp::ensure_online();
    xen::Smp* ctl = smp::controller();
    const uint32_t n = smp::vcpu_count();
    const uint32_t active = smp::online_count();
    const uint64_t total = context.cmdline.get_uint("soak_reads", 1'000'000);
    const uint64_t bound_s = context.cmdline.get_uint("soak_clock_s", 0);
    const uint64_t each = (total + active - 1) / active;
    if (bound_s != 0)
        tap.comment(area, ": ", total, " clock reads over ", active, " vCPUs at once (", each, " each), at most ",
                    bound_s, " s");
    else
        tap.comment(area, ": ", total, " clock reads over ", active, " vCPUs at once (", each, " each)");
    const uint64_t t0 = now_ns();
    newest_reading = 0;
    clock_tap = &tap;
    clock_t0 = t0;
    // vCPU 0 reports about every `soak_progress_reads` of its own reads (a power of 2).
    uint64_t every = context.cmdline.get_uint("soak_progress_reads", uint64_t{1} << 22);
    uint64_t mask = 1;
    while (mask < every)
        mask <<= 1;
    clock_progress_mask = mask - 1;
    for (uint32_t v = 0; v < n; ++v) {
        clock_jobs[v] = ClockJob{v, each, bound_s != 0 ? t0 + bound_s * sec : 0, 0, 0, 0, 0, 0, 0, 0};
        clock_posted[v] = false;
        if (v == 0 || !smp::is_online(VcpuId{v}) || ctl == nullptr)
            continue;
        auto t = ctl->post(VcpuId{v}, &read_clock, &clock_jobs[v]);
        if (t) {
            clock_tickets[v] = *t;
            clock_posted[v] = true;
        }
    }
    read_clock(&clock_jobs[0]);
    // The APs: wait for each, printing what has been read meanwhile.
    const uint64_t progress_s = context.cmdline.get_uint("soak_progress_s", 30);
    for (uint32_t v = 1; v < n; ++v) {
        if (!clock_posted[v])
            continue;
        while (!ctl->wait_call(clock_tickets[v], xen::WaitBound{progress_s * sec, ~uint64_t{0}}))
            clock_progress();
    }
    clock_tap = nullptr;
    const uint64_t elapsed = now_ns() - t0;
    uint64_t reads = 0, own = 0, across = 0, errors = 0, done = 0;
    for (uint32_t v = 0; v < n; ++v) {
        const ClockJob& j = clock_jobs[v];
        if (!smp::is_online(VcpuId{v}))
            continue;
        reads += j.reads;
        own += j.backwards_own;
        across += j.backwards_across;
        errors += j.errors;
        done += j.done;
        const uint64_t span = j.last_ns > j.first_ns ? j.last_ns - j.first_ns : 0;
        tap.metric(area, "reads", j.reads, "", v);
        tap.metric(area, "reads_per_s", span > 0 ? j.reads * sec / span : 0, "", v);
    }
    tap.metric(area, "reads", reads);
    tap.metric(area, "backwards_own", own);
    tap.metric(area, "backwards_across", across);
    tap.metric(area, "elapsed_ms", elapsed / ms);
    tap.metric(area, "reads_per_s", elapsed > 0 ? reads * sec / elapsed : 0);
    const bool all = bound_s != 0 ? reads > 0 : reads >= total;
    tap.result(all && done == active && errors == 0, area, reads, " clock reads on ", done, " of ", active,
               " vCPUs at once in ", elapsed / ms, " ms (", errors, " errors)");
    tap.result(own == 0 && across == 0 && reads > 0, area, own + across, " of ", reads, " reads went backwards (", own,
               " below the vCPU's own previous, ", across, " below one another vCPU published before)");
}

} // namespace

namespace guest_tests {

// Soaks run only when named (scripts/soak); soak-hotplug needs an AP.
extern const Test soak_hotplug_test{
    .name = "soak-hotplug",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 2,
    .run = run_soak_hotplug,
};

extern const Test soak_timers_test{
    .name = "soak-timers",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_soak_timers,
};

extern const Test soak_clock_test{
    .name = "soak-clock",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_soak_clock,
};

// Driven by the plan's vcpu-set steps (scripts/soak --soak domu).
extern const Test domu_soak_test{
    .name = "domu-soak",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::domu,
    .min_vcpus = 2,
    .run = run_domu_soak,
};

} // namespace guest_tests

} // namespace mk
