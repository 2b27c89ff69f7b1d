// timers+hotplug: timers armed on a vCPU that goes down keep the driver's
// promise (docs/timers.md, "Hotplug"): each runs exactly once, never early.
//
// On the last AP (vCPU k), N timers (`hotplug_timers=N`, default 50) at
// random deadlines over 200 ms, starting once the arming is done, then the kernel's part of taking a vCPU
// down: the driver's stop() there (Xen's single-shot stopped; the timers
// stay queued), and the SMP controller parks it (VCPUOP_down on itself).
//   A. It stays down until every deadline has passed, comes back
//      (VCPUOP_up), and start() there programs the overdue timers: they run
//      at once, on vCPU k, late - after it came back - and never early.
//      (The first timer is due already when it is armed, and a slow host
//      may let a few more come due before the stop: those that Xen's timer
//      fired for by then run then, on time; the rest after the return.
//      None may run between the stop and the return.)
//   B. Again, but while vCPU k is down vCPU 0 adopt()s its timers: they run
//      on vCPU 0, at their deadlines; back up, vCPU k has none left.
// Deadlines, "early" and lateness are in the timers' clock (timers::now:
// the vCPU's own pvclock record, what its single-shot timer runs by).
// "Before the stop" and "after it came back" are not told by any clock:
// vCPU k records where it stands (Stage) in its own program order, and
// each callback, which runs on vCPU k in phase A, notes the stage it ran
// in. Timestamps cannot order these events: vCPU k's own record and the
// domain's clock (mk::now_ns) differ by tens of us either way, so a stamp
// of one against a stamp of the other misorders a timer that ran just
// before the stop or just after the return, and either clock may read the
// same value twice (seen on the way back under load), which leaves a tie
// undecided.
#include <new>
#include <xen/arch/x86.hpp>
#include <xen/smp.hpp>

#include "domain.hpp"
#include "events.hpp"
#include "framework/test.hpp"
#include "kernel.hpp"
#include "smp.hpp"
#include "smp_internal.hpp"
#include "timers.hpp"

namespace mk {

namespace {

constexpr const char* area = "timers+hotplug";
constexpr uint32_t max_timers = 1024;
constexpr uint64_t ms = 1'000'000;

/// Where vCPU k stands in phase A, in its own program order.
enum class Stage : uint32_t {
    arming,  ///< arming, up to the stop and the upcalls coming back on
    stopped, ///< after that: the driver is stopped, the vCPU goes down
    back,    ///< back up, before the driver starts again
};

/// Written by vCPU k (arm_then_stop, start_and_wait), read by the
/// callbacks: on vCPU k in phase A, on vCPU 0 (after vCPU k went down)
/// for the adopted timers of phase B.
Stage stage = Stage::arming;

void set_stage(Stage s) noexcept { __atomic_store_n(&stage, s, __ATOMIC_SEQ_CST); }

/// One timer and what happened to it.
struct HotSlot {
    xen::Timer timer{&HotSlot::fire, this};
    uint64_t deadline = 0;    ///< the timers' clock
    uint64_t fired_at = 0;    ///< the domain's clock (diagnostics)
    uint64_t fired_own = 0;   ///< the timers' clock: lateness
    uint64_t handler_now = 0; ///< the driver's reading when it ran it
    Stage ran_in = Stage::arming;
    uint32_t fired_on = 0;
    uint32_t fires = 0;
    bool early = false;

    static void fire(xen::Timer&, xen::VcpuId self, uint64_t handler_now, void* ctx) noexcept
    {
        auto* s = static_cast<HotSlot*>(ctx);
        ++s->fires;
        s->fired_on = self.value;
        s->ran_in = __atomic_load_n(&stage, __ATOMIC_SEQ_CST);
        s->fired_at = mk::now_ns();
        const uint64_t again = timers::now();
        s->fired_own = again;
        s->handler_now = handler_now;
        // By the clock the deadline is in: the driver's reading, and again.
        s->early = s->early || handler_now < s->deadline || again < s->deadline;
    }
};
alignas(HotSlot) unsigned char slot_space[sizeof(HotSlot) * max_timers];

HotSlot* slots() noexcept { return reinterpret_cast<HotSlot*>(slot_space); }

struct Arming {
    uint32_t count;
    GuestType guest;
    xen::Errc error;
    uint64_t stopped_at;        ///< the domain's clock, after the stop (diagnostics)
    uint64_t stopped_own;       ///< vCPU k's own clock then
    uint64_t arming_ns;         ///< how long the arming took (timers' clock)
    uint64_t last_deadline = 0; ///< the latest deadline armed (timers' clock)
};

/// On vCPU k: take over its timer, arm the timers, stop the driver there
/// (what a kernel does before the vCPU parks).
void arm_then_stop(void* arg) noexcept
{
    auto& a = *static_cast<Arming*>(arg);
    const xen::VcpuId v = smp::this_vcpu();
    if (auto r = timers::take_over(v); !r) {
        a.error = r.error();
        return;
    }
    xen::TimerDriver& d = timers::driver();
    set_stage(Stage::arming);
    uint64_t seed = 0x2545f4914f6cdd1dull ^ xen::arch::rdtsc();
    events::disable();
    const uint64_t t0 = timers::now();
    // Start after the arming is done (PVH: every arm traps to Xen under
    // TCG): 20 ms + a fixed cost per arm, or 4 times what arming timer 0
    // took per timer when that is more (a loaded host, or a vCPU that
    // shares its pCPU: 50 arms once took 340 ms on PVH, past every deadline
    // of the fixed lead, so none was left to run after the vCPU came back).
    uint64_t lead = 20 * ms + a.count * (a.guest == GuestType::pvh ? 500'000 : 20'000);
    for (uint32_t i = 0; i < a.count; ++i) {
        if (i == 1) {
            const uint64_t first = timers::now() - t0;
            const uint64_t measured = 20 * ms + 4 * a.count * first;
            lead = measured > lead ? measured : lead;
        }
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        HotSlot& s = *new (&slots()[i]) HotSlot;
        // The first is due already (what a slow host does to a few at
        // random), so that nearly every run has one that runs before the
        // stop: unless Xen's time on this pCPU lags this vCPU's clock, its
        // single-shot fires at once and the event waits for the upcalls.
        s.deadline = i == 0 ? t0 : t0 + lead + (seed * 0x2545f4914f6cdd1dull) % (200 * ms);
        if (auto r = d.arm(v, s.timer, s.deadline); !r)
            a.error = r.error();
        a.last_deadline = s.deadline > a.last_deadline ? s.deadline : a.last_deadline;
    }
    const uint64_t armed = timers::now();
    a.arming_ns = armed > t0 ? armed - t0 : 0;
    if (auto r = d.stop(v); !r)
        a.error = r.error();
    // An event that came in while arming (a deadline that passed already)
    // is delivered here and runs what is due; after this, nothing can.
    events::enable();
    set_stage(Stage::stopped);
    a.stopped_at = mk::now_ns();
    a.stopped_own = timers::now();
}

struct Resume {
    uint32_t count;
    GuestType guest;
    xen::Errc error;
    uint64_t back_at;  ///< the domain's clock, before the driver starts again (diagnostics)
    uint64_t back_own; ///< vCPU k's own clock then
    bool all_ran;
};

bool all_fired(uint32_t count) noexcept
{
    for (uint32_t i = 0; i < count; ++i)
        if (slots()[i].fires == 0)
            return false;
    return true;
}

/// On vCPU k, back up: start the driver again, idle until its timers ran.
void start_and_wait(void* arg) noexcept
{
    auto& r = *static_cast<Resume*>(arg);
    const xen::VcpuId v = smp::this_vcpu();
    r.back_own = timers::now();
    r.back_at = mk::now_ns();
    set_stage(Stage::back);
    if (auto s = timers::take_over(v); !s) {
        r.error = s.error();
        return;
    }
    const uint64_t limit = timers::now() + 2000 * ms;
    while (!all_fired(r.count) && timers::now() < limit)
        timers::sleep(v, 1 * ms);
    r.all_ran = all_fired(r.count);
}

void give_back_here(void*) noexcept { (void)timers::give_back(smp::this_vcpu()); }

struct Tally {
    uint32_t once = 0;    // ran exactly once
    uint32_t doubled = 0; // ran more than once
    uint32_t lost = 0;    // never ran
    uint32_t early = 0;
    uint32_t on_cpu = 0; // ran on the expected vCPU
    uint32_t before = 0; // ran while vCPU k was arming (Stage::arming)
    uint32_t after = 0;  // ran once vCPU k was back (Stage::back)
    uint64_t max_late_ns = 0;
};

Tally tally(uint32_t count, xen::VcpuId on) noexcept
{
    Tally t;
    for (uint32_t i = 0; i < count; ++i) {
        const HotSlot& s = slots()[i];
        if (s.fires == 0) {
            ++t.lost;
            continue;
        }
        if (s.fires == 1)
            ++t.once;
        else
            ++t.doubled;
        t.early += s.early ? 1 : 0;
        t.on_cpu += s.fired_on == on.value ? 1 : 0;
        t.before += s.ran_in == Stage::arming ? 1 : 0;
        t.after += s.ran_in == Stage::back ? 1 : 0;
        if (s.fired_own > s.deadline && s.fired_own - s.deadline > t.max_late_ns)
            t.max_late_ns = s.fired_own - s.deadline;
    }
    return t;
}

/// What both phases work with.
struct Run {
    Tap& tap;
    xen::Smp* ctl;
    GuestType guest;
    xen::VcpuId k;  ///< the AP that goes down
    uint32_t count; ///< timers armed on it
    xen::VcpuId v0;
};

/// What phase A leaves behind.
struct AfterA {
    Tally ta;
    uint32_t left_a; ///< timers still armed on vCPU k
};

// --- A. down past every deadline, then back -------------------------------
AfterA phase_a(const Run& r) noexcept
{
    Tap& tap = r.tap;
    xen::Smp* ctl = r.ctl;
    const GuestType guest = r.guest;
    const xen::VcpuId k = r.k;
    const uint32_t count = r.count;
    const xen::VcpuId v0 = r.v0;
    Arming a{count, guest, xen::Errc{}, 0, 0, 0};
    auto ra = smp::run_on(k, &arm_then_stop, &a);
    const auto off_a = ra ? ctl->offline(k) : xen::Result<void>(xen::err(ra.error()));
    const uint64_t down_at = mk::now_ns();
    // Every deadline passes while vCPU k is down.
    const uint64_t now_a = timers::now();
    const uint64_t fixed = 300 * ms + count * (guest == GuestType::pvh ? 500'000 : 20'000);
    const uint64_t past_last = a.last_deadline + 100 * ms > now_a ? a.last_deadline + 100 * ms - now_a : 0;
    timers::sleep(v0, past_last > fixed ? past_last : fixed);
    const auto on_a = ctl->online(k);
    Resume res{count, guest, xen::Errc{}, 0, 0, false};
    const auto rs = on_a ? smp::run_on(k, &start_and_wait, &res) : on_a;
    // Each ran before the stop (timer 0, due when armed, and any that a
    // slow host let come due: on time) or after the vCPU was back: none
    // between the two. (Timer 0 runs after the return if Xen's timer had
    // not fired for it by the stop.)
    const Tally ta = tally(count, k);
    const uint32_t while_down = count - ta.lost - ta.before - ta.after;
    const uint32_t left_a = timers::cpu_state(k).armed();
    if (!ra || !off_a || !on_a || !rs || a.error != xen::Errc{} || res.error != xen::Errc{})
        tap.comment("timers+hotplug: A failed: run_on ", ra.has_value(), " offline ", off_a.has_value(), " online ",
                    on_a.has_value(), " start ", rs.has_value(), ", arm/stop ", xen::errc_name(a.error), ", start ",
                    xen::errc_name(res.error));
    // Where the two clocks stood at the stop and on the way back (the
    // domain's minus vCPU k's own, read one after the other), and how long
    // before the stop the timer due at arming ran: what a kernel that
    // orders by timestamps would have to go by.
    tap.comment("timers+hotplug: A: armed in ", a.arming_ns / 1000, " us; domain clock - vCPU ", k.value,
                "'s own: ", static_cast<int64_t>(a.stopped_at - a.stopped_own), " ns at the stop, ",
                static_cast<int64_t>(res.back_at - res.back_own), " ns back; timer 0 ran ",
                static_cast<int64_t>(a.stopped_at - slots()[0].fired_at), " ns before the stop");
    for (uint32_t i = 0, shown = 0; i < count && shown < 4; ++i) {
        const HotSlot& s = slots()[i];
        if (s.fires == 0 || s.ran_in != Stage::stopped)
            continue;
        ++shown;
        tap.comment("timers+hotplug: A: timer ", i, " ran between the stop and the return, on vCPU ", s.fired_on,
                    ": due ", s.deadline, ", ran at ", s.fired_own, " (handler ", s.handler_now, ") / ", s.fired_at,
                    " (domain clock); stop at ", a.stopped_own, " / ", a.stopped_at, ", back at ", res.back_own, " / ",
                    res.back_at);
    }
    tap.metric("timers", "hotplug_down_ms", (res.back_at > down_at ? res.back_at - down_at : 0) / ms);
    tap.metric("timers", "hotplug_ran", ta.once + ta.doubled);
    tap.metric("timers", "hotplug_early", ta.early);
    tap.metric("timers", "hotplug_lost", ta.lost);
    tap.metric("timers", "hotplug_double", ta.doubled);
    tap.metric("timers", "hotplug_max_late_us", ta.max_late_ns / 1000);
    tap.metric("timers", "hotplug_before_stop", ta.before);
    tap.result(ta.once == count && ta.lost == 0 && ta.doubled == 0 && ta.on_cpu == count && left_a == 0, area,
               "timers of a vCPU that went down ran once: ", ta.once, " of ", count, " on vCPU ", k.value, " (",
               ta.lost, " lost, ", ta.doubled, " double)");
    tap.result(ta.early == 0 && while_down == 0 && ta.after > 0 && ta.before + ta.after == count, area,
               "... none while it was down: ", ta.after, " after it came back (late), ", ta.before,
               " before the stop; never early (", ta.early, "); latest ", ta.max_late_ns / ms,
               " ms after its deadline");
    return AfterA{ta, left_a};
}

// --- B. down, and vCPU 0 adopts the timers ------------------------------------
void phase_b(const Run& r, const Tally& ta) noexcept
{
    Tap& tap = r.tap;
    xen::Smp* ctl = r.ctl;
    const GuestType guest = r.guest;
    const xen::VcpuId k = r.k;
    const uint32_t count = r.count;
    const xen::VcpuId v0 = r.v0;
    Arming b{count, guest, xen::Errc{}, 0, 0, 0};
    auto rb = smp::run_on(k, &arm_then_stop, &b);
    const auto off_b = rb ? ctl->offline(k) : xen::Result<void>(xen::err(rb.error()));
    size_t moved = 0;
    if (off_b) {
        events::disable();
        auto m = timers::driver().adopt(v0, k);
        events::enable();
        moved = m ? *m : 0;
        if (!m)
            tap.comment("timers+hotplug: adopt failed: ", xen::errc_name(m.error()));
    }
    const uint64_t now_b = timers::now();
    const uint64_t limit = (b.last_deadline > now_b ? b.last_deadline : now_b) + 2000 * ms;
    while (!all_fired(count) && timers::now() < limit)
        timers::sleep(v0, 5 * ms);
    // Those that came due before the stop ran on vCPU k; the rest moved.
    const Tally tb = tally(count, v0);
    const auto on_b = ctl->online(k);
    uint32_t left_b = ~0u;
    if (on_b) {
        Resume back{0, guest, xen::Errc{}, 0, 0, false};
        (void)smp::run_on(k, &start_and_wait, &back); // starts the driver again; nothing to wait for
        left_b = timers::cpu_state(k).armed();
    }
    tap.metric("timers", "adopted", moved);
    tap.metric("timers", "adopted_ran", tb.once + tb.doubled);
    tap.metric("timers", "adopted_early", tb.early);
    tap.metric("timers", "adopted_max_late_us", tb.max_late_ns / 1000);
    tap.result(moved > 0 && tb.once == count && tb.on_cpu == moved && moved + tb.before == count && tb.early == 0, area,
               "timers adopted from a down vCPU ran once on vCPU 0: ", tb.on_cpu, " of ", moved, " moved (", tb.before,
               " ran before the stop), ", tb.early, " early");
    tap.result(on_b.has_value() && left_b == 0 && tb.lost == 0 && tb.doubled == 0 && ta.lost == 0 && ta.doubled == 0,
               area, "nothing left on vCPU ", k.value, " after it came back (", left_b, "), nothing lost (",
               ta.lost + tb.lost, ") or doubled (", ta.doubled + tb.doubled, ")");
}

} // namespace

void run_timers_hotplug(Tap& tap, const Context& context) noexcept
{
    const auto online = smp::ensure_online();
    xen::Smp* ctl = smp::controller();
    const uint32_t n = ctl != nullptr ? ctl->count() : 1;
    if (!online.has_value() || ctl == nullptr || n < 2 || n - 1 >= max_vcpus || !smp::is_online(xen::VcpuId{n - 1})) {
        const char* why = !online.has_value() ? xen::errc_name(online.error()) : "needs 2 online vCPUs";
        tap.skip(area, why, "timers of a vCPU that went down run once");
        tap.skip(area, why, "... none while it is down, late after it came back, never early");
        tap.skip(area, why, "timers adopted from a down vCPU run once on the adopter");
        tap.skip(area, why, "nothing left on the down vCPU, nothing lost or doubled");
        return;
    }
    const GuestType guest = context.boot.type;
    const xen::VcpuId k{n - 1};
    uint32_t count = static_cast<uint32_t>(context.cmdline.get_uint("hotplug_timers", 50));
    count = count > max_timers ? max_timers : count;
    const xen::VcpuId v0{0};
    if (auto r = timers::take_over(v0); !r) {
        tap.result(false, area, "the driver on CPU 0: ", xen::errc_name(r.error()));
        return;
    }
    tap.comment("timers+hotplug: ", count, " timers on vCPU ", k.value, " over 200 ms, then vCPU ", k.value,
                " goes down");

    const Run r{tap, ctl, guest, k, count, v0};
    const AfterA a = phase_a(r);
    const uint32_t left_a = a.left_a;
    if (left_a != 0) {
        // Timers of A still armed on vCPU k: their storage cannot be reused.
        tap.result(false, area, "timers adopted from a down vCPU: not tried, ", left_a, " timers of A still armed");
        tap.result(false, area, "nothing left on vCPU ", k.value, ": ", left_a, " left");
        return;
    }
    phase_b(r, a.ta);

    (void)smp::run_on(v0, &give_back_here, nullptr);
    if (smp::is_online(k))
        (void)smp::run_on(k, &give_back_here, nullptr);
}

namespace guest_tests {

// Needs an AP to take down.
extern const Test timers_hotplug_test{
    .name = "timers+hotplug",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 2,
    .run = run_timers_hotplug,
};

} // namespace guest_tests

} // namespace mk
