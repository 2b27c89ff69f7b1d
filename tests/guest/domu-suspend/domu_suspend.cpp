// domu-suspend: the minikernel through the toolstack's save, restore,
// checkpoint and live migration, with 4 vCPUs busy with time (docs/lifecycle.md,
// "Proof under the real toolstack").
//
// Setup: every vCPU online; the runstate update flag, a runstate area
// (op 5 or 14) and a time area (op 13) per vCPU; the timer driver on every
// vCPU; a watch on control/shutdown. Then `# domu-suspend: ready`, and
// until control/shutdown asks for poweroff (or `suspends=N` requests were
// followed): every ~50 ms each vCPU reads its clock (mk::now_ns and the
// timers' own clock) and vCPU 0 its steal, each checked against the vCPU's
// previous reading. A "suspend" request is acknowledged (written "") and
// followed with lifecycle::suspend, with three deadline-tagged timers armed
// on every vCPU right before it. After each, `# domu-suspend: resumed N`
// or `cancelled N`, then results: the outcome (`outcomes=rrc...` on the
// command line: r resumed, c cancelled, one letter per request); every vCPU
// online; the areas registered again (which op); no periodic tick on a
// busy vCPU; the tagged timers 0 early, 0 lost, 0 double; the clock never
// behind any reading before the gap (own vCPU and all vCPUs); steal never
// lower. Metrics: the clock's largest step across the gap, steal per vCPU
// across it, the timers' lateness, the library's offset.
//
// `tap-restart=1`: after a restore, a new TAP stream (numbering from 1), for
// the restore across a reboot of Xen, which a second machine run judges;
// `time-back=1` checks that Xen's time restarted lower there.
#include <xen/abi/shared_info.hpp>
#include <xen/arch/x86.hpp>
#include <xen/lifecycle.hpp>
#include <xen/runstate.hpp>
#include <xen/support/errc.hpp>
#include <xen/time/timer_driver.hpp>

#include <new>

#include "domain.hpp"
#include "domu.hpp"
#include "events.hpp"
#include "framework/test.hpp"
#include "lifecycle.hpp"
#include "memory.hpp"
#include "smp.hpp"
#include "smp_internal.hpp"
#include "timers.hpp"

namespace mk {

namespace {

using xen::VcpuId;

constexpr const char* area = "domu-suspend";
constexpr uint32_t tagged_per_cpu = 3;
// Deadlines of the tagged timers after their arming: past the sequence's
// own length on vCPU 0 (parking, the hypercall), so they sleep across it.
constexpr uint64_t tagged_delay_ns[tagged_per_cpu] = {400'000'000, 800'000'000, 1'600'000'000};

struct Tagged {
    xen::Timer timer{&Tagged::ring, this};
    uint64_t deadline = 0;
    uint64_t fired_at = 0; // timers::now() in the callback
    volatile uint32_t fired = 0;
    static void ring(xen::Timer&, VcpuId, uint64_t, void* ctx) noexcept
    {
        auto* t = static_cast<Tagged*>(ctx);
        t->fired_at = timers::now();
        __atomic_add_fetch(&t->fired, 1, __ATOMIC_RELEASE);
    }
};

struct Cpu {
    Tagged tagged[tagged_per_cpu];
    uint64_t last_clock = 0; // mk::now_ns() at the last sample
    uint64_t last_own = 0;   // timers::now() at the last sample
    uint64_t backwards = 0;  // samples lower than the one before
    uint64_t samples = 0;
    uint64_t last_steal = 0;
    uint64_t steal_backwards = 0;
    uint64_t ticks = 0; // the ticker check: VIRQ_TIMER events while busy
};

constinit Cpu cpus[max_vcpus];
constinit xen::Runstate runstate;
constinit xen::Area<xen::abi::vcpu_time_info> time_areas[max_vcpus];
uint32_t nr = 1;

xen::VcpuSlot& slot(VcpuId v) noexcept { return *domain().find(v); }

// On the vCPU itself: one reading of both clocks.
void sample_here(void*) noexcept
{
    Cpu& c = cpus[smp::this_vcpu().value];
    const uint64_t t = now_ns();
    const uint64_t own = timers::now();
    if (t < c.last_clock || own < c.last_own)
        ++c.backwards;
    c.last_clock = t;
    c.last_own = own;
    ++c.samples;
}

void steal_of(VcpuId v) noexcept
{
    Cpu& c = cpus[v.value];
    if (const auto s = domain().get_runstate_info(v); s.has_value())
        slot(v).steal.update(*s);
    const uint64_t st = slot(v).steal.steal_ns();
    if (st < c.last_steal)
        ++c.steal_backwards;
    c.last_steal = st;
}

// Every vCPU reads its clocks; steal of each from vCPU 0.
uint32_t sample_all() noexcept
{
    uint32_t failed = 0;
    for (uint32_t v = 0; v < nr; ++v) {
        if (!smp::run_on(VcpuId{v}, &sample_here, nullptr, 2'000'000'000))
            ++failed;
        steal_of(VcpuId{v});
    }
    return failed;
}

void arm_here(void*) noexcept
{
    const VcpuId v = smp::this_vcpu();
    Cpu& c = cpus[v.value];
    events::disable();
    const uint64_t now = timers::now();
    for (uint32_t i = 0; i < tagged_per_cpu; ++i) {
        Tagged& t = c.tagged[i];
        // Made here: a Timer's callback set in a static initialiser would
        // need a constructor at boot, which the kernel has none of.
        if (!t.timer.armed())
            new (&t.timer) xen::Timer(&Tagged::ring, &t);
        t.fired = 0;
        t.fired_at = 0;
        t.deadline = now + tagged_delay_ns[i];
        (void)timers::driver().arm(v, t.timer, t.deadline);
    }
    events::enable();
}

// The ticker: on the vCPU itself, busy for 300 ms with no timer due, upcalls
// on; VIRQ_TIMER events that came meanwhile (a PV vCPU's 100 Hz tick would
// bring ~30).
void spin_here(void*) noexcept
{
    const VcpuId v = smp::this_vcpu();
    const xen::TimerStats& s = timers::cpu_state(v).stats();
    const uint64_t before = s.wakeups + s.early_events;
    events::enable();
    const uint64_t end = timers::now() + 300'000'000;
    while (timers::now() < end) {
        for (int i = 0; i < 1000; ++i)
            xen::arch::cpu_relax();
    }
    cpus[v.value].ticks = s.wakeups + s.early_events - before;
}

void take_over_here(void*) noexcept { (void)timers::take_over(smp::this_vcpu()); }

bool all_fired() noexcept
{
    for (uint32_t v = 0; v < nr; ++v)
        for (const Tagged& t : cpus[v].tagged)
            if (__atomic_load_n(&t.fired, __ATOMIC_ACQUIRE) == 0)
                return false;
    return true;
}

const char* op_of_runstate(xen::AreaKind k) noexcept
{
    return k == xen::AreaKind::physical_address ? "op 14" : k == xen::AreaKind::virtual_address ? "op 5" : "none";
}
const char* op_of_time(xen::AreaKind k) noexcept
{
    return k == xen::AreaKind::physical_address ? "op 15" : k == xen::AreaKind::virtual_address ? "op 13" : "none";
}

// One request followed: suspend, then every check.
void follow_suspend(Tap& tap, const Context& context, uint32_t n, char expected) noexcept
{
    (void)sample_all();
    // Static, not on the 16 KiB stack: three words per vCPU outgrow it in
    // a kernel built for many vCPUs (-Dmax_vcpus).
    static uint64_t pre_clock[max_vcpus], pre_own[max_vcpus], pre_steal[max_vcpus];
    uint64_t pre_max = 0;
    for (uint32_t v = 0; v < nr; ++v)
        (void)smp::run_on(VcpuId{v}, &arm_here, nullptr, 2'000'000'000);
    (void)sample_all();
    for (uint32_t v = 0; v < nr; ++v) {
        pre_clock[v] = cpus[v].last_clock;
        pre_own[v] = cpus[v].last_own;
        pre_steal[v] = cpus[v].last_steal;
        pre_max = pre_clock[v] > pre_max ? pre_clock[v] : pre_max;
    }

    xen::SuspendReport rep;
    const auto r = lifecycle::suspend(rep);
    const bool resumed = r.has_value() && *r == xen::SuspendOutcome::resumed;
    if (resumed && context.cmdline.get_uint("tap-restart", 0) != 0)
        tap.restart();
    tap.comment(area, ": ", r.has_value() ? (resumed ? "resumed " : "cancelled ") : "failed ", n);

    // Right after: each vCPU's first reading.
    const uint32_t unsampled = sample_all();
    uint64_t step_max = 0, behind = 0;
    for (uint32_t v = 0; v < nr; ++v) {
        const uint64_t post = cpus[v].last_clock;
        if (post < pre_clock[v] || post < pre_max || cpus[v].last_own < pre_own[v])
            ++behind;
        const uint64_t step = post > pre_clock[v] ? post - pre_clock[v] : 0;
        step_max = step > step_max ? step : step_max;
        tap.metric(area, "clock_step_ns", step, "ns", v);
    }
    const int64_t off = domain().clock_offset();

    tap.result(r.has_value() && (expected == 0 || (expected == 'r') == resumed), area, "request ", n, ": ",
               r.has_value() ? (resumed ? "resumed in a new domain" : "cancelled (the same domain)")
                             : xen::errc_name(r.error()),
               expected != 0 ? (expected == 'r' ? ", as the plan's step wants (resumed)"
                                                : ", as the plan's step wants (cancelled)")
                             : "",
               r.has_value() ? "" : " at step ", r.has_value() ? "" : xen::suspend_step_name(rep.failed_step),
               "; restores so far ", domain().restores());
    tap.comment(area, ": report: aps_parked ", rep.aps_parked, ", aps_back ", rep.aps_back, ", ports_rebound ",
                rep.ports_rebound, ", still_registered ", rep.still_registered, ", downed_to_register ",
                rep.downed_to_register, ", clock_before ", rep.clock_before_ns, ", clock_after ", rep.clock_after_ns,
                ", offset ", off < 0 ? "-" : "", off < 0 ? static_cast<uint64_t>(-off) : static_cast<uint64_t>(off),
                " ns");
    // A positive offset: Xen's time is lower than before the gap (a
    // restore on a rebooted Xen).
    tap.metric(area, off >= 0 ? "xen_time_back_ns" : "xen_time_forward_ns",
               off >= 0 ? static_cast<uint64_t>(off) : static_cast<uint64_t>(-off), "ns");

    // `time-back=1` (a restore on a rebooted Xen): Xen's time after the
    // gap is lower than before it, and the kernel clock still went on.
    if (context.cmdline.get_uint("time-back", 0) != 0)
        tap.result(resumed && off > 0 && behind == 0, area, "request ", n, ": Xen's system time restarted ",
                   off > 0 ? static_cast<uint64_t>(off) / 1'000'000 : 0,
                   " ms lower than before the gap; the kernel clock went on from where it stopped");

    // Every vCPU online, answering calls.
    tap.result(smp::online_count() == nr && unsampled == 0, area, "request ", n, ": ", smp::online_count(), " of ", nr,
               " vCPUs online and answering calls");

    // Areas: registered, and Xen writes them again.
    uint32_t rs_ok = 0, time_ok = 0;
    for (uint32_t v = 0; v < nr; ++v) {
        const xen::VcpuSlot& s = slot(VcpuId{v});
        rs_ok += s.runstate.kind != xen::AreaKind::none && s.runstate.area.get()->state_entry_time != 0 ? 1 : 0;
        time_ok += s.time_area_kind != xen::AreaKind::none && time_areas[v].get()->system_time != 0 ? 1 : 0;
    }
    tap.result(rs_ok == nr && time_ok == nr, area, "request ", n, ": runstate areas (",
               op_of_runstate(slot(VcpuId{0}).runstate.kind), ") on ", rs_ok, " and time areas (",
               op_of_time(slot(VcpuId{0}).time_area_kind), ") on ", time_ok, " of ", nr, " vCPUs, written by Xen; ",
               resumed ? "registered again by Domain::suspend" : "kept (nothing registered again)", ", update flag ",
               runstate.update_flag() ? "on" : "off");

    // The tagged timers: wait (bounded) for all of them, sampling meanwhile.
    const uint64_t limit = now_ns() + tagged_delay_ns[tagged_per_cpu - 1] + 5'000'000'000ull;
    while (!all_fired() && now_ns() < limit) {
        domu::idle_wait(20'000'000);
        (void)sample_all();
    }
    // Let a double expiry show.
    timers::sleep(VcpuId{0}, 100'000'000);
    uint32_t early = 0, lost = 0, twice = 0;
    uint64_t late_max = 0;
    for (uint32_t v = 0; v < nr; ++v) {
        uint64_t late_cpu = 0;
        for (const Tagged& t : cpus[v].tagged) {
            const uint32_t f = __atomic_load_n(&t.fired, __ATOMIC_ACQUIRE);
            lost += f == 0 ? 1 : 0;
            twice += f > 1 ? 1 : 0;
            if (f != 0 && t.fired_at < t.deadline)
                ++early;
            const uint64_t late = f != 0 && t.fired_at > t.deadline ? t.fired_at - t.deadline : 0;
            late_cpu = late > late_cpu ? late : late_cpu;
        }
        tap.metric(area, "timer_late_max_ns", late_cpu, "ns", v);
        late_max = late_cpu > late_max ? late_cpu : late_max;
    }
    tap.metric(area, "timer_late_max_ns", late_max, "ns");
    tap.result(early == 0 && lost == 0 && twice == 0, area, "request ", n, ": ", tagged_per_cpu * nr,
               " deadline-tagged timers armed before the suspend: ", early, " early, ", lost, " lost, ", twice,
               " double; latest ", late_max / 1000, " us late");

    // The ticker: no periodic event on a busy vCPU.
    uint32_t ticking = 0;
    uint64_t ticks = 0;
    for (uint32_t v = 0; v < nr; ++v) {
        cpus[v].ticks = 0;
        (void)smp::run_on(VcpuId{v}, &spin_here, nullptr, 5'000'000'000ull);
        ticking += cpus[v].ticks != 0 ? 1 : 0;
        ticks += cpus[v].ticks;
    }
    tap.result(ticking == 0, area, "request ", n, ": no periodic tick: ", ticks,
               " VIRQ_TIMER events in 300 ms busy with no timer due, on ", ticking, " of ", nr, " vCPUs");

    // Clock and steal across the gap and since.
    uint64_t backwards = 0, steal_back = 0;
    for (uint32_t v = 0; v < nr; ++v) {
        backwards += cpus[v].backwards;
        steal_back += cpus[v].steal_backwards;
        if (cpus[v].last_steal < pre_steal[v])
            ++steal_back;
        tap.metric(area, "steal_gap_ns",
                   cpus[v].last_steal - (cpus[v].last_steal < pre_steal[v] ? cpus[v].last_steal : pre_steal[v]), "ns",
                   v);
    }
    tap.metric(area, "clock_step_max_ns", step_max, "ns");
    tap.result(behind == 0 && backwards == 0, area, "request ", n, ": the clock never went back: ", behind,
               " vCPUs read below a reading before the gap (own or any vCPU's), ", backwards,
               " backward steps in all samples; largest step across the gap ", step_max / 1000, " us");
    tap.result(steal_back == 0, area, "request ", n, ": steal never went back on any of ", nr, " vCPUs (", steal_back,
               " lower readings)");
}

} // namespace

void run_domu_suspend(Tap& tap, const Context& context) noexcept
{
    xen::XenStore* xs = domu::xenstore();
    if (xs == nullptr) {
        tap.skip(area, "not a domU: no xenstore ring (run it with scripts/boot --domu)", "suspend");
        return;
    }
    const auto online = smp::ensure_online();
    nr = smp::vcpu_count();
    tap.result(online.has_value() && *online == nr, area, online.has_value() ? *online : 0, " of ", nr,
               " vCPUs online");

    // Areas Xen forgets in a new domain, and the timer driver everywhere.
    const auto flag = runstate.enable_update_flag();
    lifecycle::set_runstate(&runstate);
    uint32_t areas = 0;
    for (uint32_t c = 0; c < nr; ++c) {
        const VcpuId v{c};
        const auto kind = runstate.register_area(v, slot(v).runstate, xen_address_of(slot(v).runstate.area.get()),
                                                 domain().features());
        const auto t = domain().register_vcpu_time_memory_area(v, time_areas[c]);
        areas += kind.has_value() && t.has_value() ? 1 : 0;
        if (const auto s = domain().get_runstate_info(v); s.has_value())
            slot(v).steal.start(*s);
        (void)smp::run_on(v, &take_over_here, nullptr);
    }
    uint32_t timers_on = 0;
    for (uint32_t c = 0; c < nr; ++c)
        timers_on += timers::cpu_state(VcpuId{c}).started() ? 1 : 0;
    tap.result(flag.has_value() && areas == nr && timers_on == nr, area, "update flag ",
               flag.has_value() && *flag ? "on" : "off", ", runstate and time areas on ", areas, ", timers on ",
               timers_on, " of ", nr, " vCPUs");

    const auto w = xs->watch("control/shutdown", "shutdown");
    const char* outcomes = context.cmdline.get("outcomes");
    uint32_t wanted = 0;
    while (outcomes != nullptr && outcomes[wanted] != 0 && outcomes[wanted] != ' ')
        ++wanted;
    const uint64_t most = context.cmdline.get_uint("suspends", wanted != 0 ? wanted : 1000);
    tap.comment(area, ": ready");

    // Follow requests until poweroff (or `most` of them); bounded by
    // `limit` seconds of the kernel's clock without a request.
    const uint64_t idle_limit = context.cmdline.get_uint("limit", 300) * 1'000'000'000ull;
    uint64_t last_request = now_ns();
    uint32_t followed = 0;
    bool poweroff = false;
    uint64_t next_sample = 0;
    while (!poweroff && followed < most && now_ns() - last_request < idle_limit) {
        xen::XenStoreWatchEvent e{};
        const auto got = xs->next_watch_event(e);
        if (!got.has_value() || !*got) {
            if (now_ns() >= next_sample) {
                (void)sample_all();
                next_sample = now_ns() + 50'000'000;
            }
            domu::idle_wait(20'000'000);
            continue;
        }
        char value[32];
        const auto n = xs->read("control/shutdown", value, sizeof(value));
        if (!n.has_value())
            continue;
        const auto req = xen::parse_shutdown_request(value);
        if (!req.has_value() || *req == xen::ShutdownRequest::none)
            continue;
        (void)xs->write("control/shutdown", ""); // acknowledged, as Linux does, before acting
        last_request = now_ns();
        if (*req != xen::ShutdownRequest::suspend) {
            poweroff = true;
            break;
        }
        const char expected = followed < wanted ? outcomes[followed] : 0;
        follow_suspend(tap, context, ++followed, expected);
        // A new domain's xenstored has no watch of ours (domu::reattach
        // made a new client): set it again. A cancelled one keeps it.
        xs = domu::xenstore();
        (void)xs->watch("control/shutdown", "shutdown");
    }
    tap.result(w.has_value() && followed > 0 && (wanted == 0 || followed == wanted), area, "followed ", followed,
               " suspend requests", wanted != 0 ? " (as many as outcomes= names)" : "",
               poweroff ? "; then poweroff" : "");
}

namespace guest_tests {

// Needs the toolstack's save/restore/migrate (scripts/boot --domu and a plan).
extern const Test domu_suspend_test{
    .name = "domu-suspend",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::domu,
    .min_vcpus = 4,
    .run = run_domu_suspend,
};

} // namespace guest_tests

} // namespace mk
