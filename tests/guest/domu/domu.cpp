// Scenarios for the minikernel as a domU under Xen's toolstack
// (scripts/boot --domu; docs/domu.md). They talk to the toolstack through
// xenstore: libxl writes cpu/N/availability for each vCPU at creation and
// `xl vcpu-set` rewrites them; `xl shutdown` writes control/shutdown.
//
//   domu-smp      every vCPU online as a domU, and xenstore says so too
//   domu-hotplug  follow `xl vcpu-set` requests with the SMP hotplug API,
//                 each within 1 s of Xen time, until `xl shutdown`
//   domu-console  a line typed into `xl console` (the plan's `type ping`)
//                 arrives through the console ring's input
//
// The harness's plan drives domu-hotplug: it waits for the line
// "# domu-hotplug: ready", runs `vcpu-set` steps and checks `xl vcpu-list`
// (expect-vcpus), then `shutdown`.
#include <xen/hypercall/sched_op.hpp>
#include <xen/smp.hpp>
#include <xen/support/errc.hpp>
#include <xen/time/pvclock.hpp>

#include "cmdline.hpp"
#include "domu.hpp"
#include "framework/test.hpp"
#include "smp_internal.hpp"

namespace mk {

namespace {

// Skip every result of a scenario that cannot run: not a domU.
bool need_domu(Tap& tap, const char* area, unsigned points) noexcept
{
    if (domu::xenstore() != nullptr)
        return true;
    for (unsigned i = 0; i < points; ++i)
        tap.skip(area, "not a domU: no xenstore ring (run it with scripts/boot --domu)", "xenstore");
    return false;
}

} // namespace

void run_domu_smp(Tap& tap, const Context&) noexcept
{
    constexpr const char* area = "domu-smp";
    if (!need_domu(tap, area, 3))
        return;
    xen::XenStore& xs = *domu::xenstore();
    char name[64];
    const auto n = xs.read("name", name, sizeof(name));
    tap.result(n.has_value(), area, "xenstore read of our name: '", n ? name : "", "' (",
               n ? "ok" : xen::errc_name(n.error()), ")");

    const uint64_t t0 = now_ns();
    const auto up = smp::ensure_online();
    const uint64_t t1 = now_ns();
    const uint32_t count = smp::vcpu_count();
    tap.result(up.has_value() && *up == count && count >= 2, area, "all ", count, " vCPUs online as a domU (",
               up ? "ok" : xen::errc_name(up.error()), ", ", (t1 - t0) / 1000, " us)");
    tap.metric(area, "bringup_us", (t1 - t0) / 1000);

    // libxl writes cpu/N/availability for every vCPU the domain may have;
    // there is none for N = count (the bound the hotplug scenario checks).
    uint32_t agree = 0;
    for (uint32_t cpu = 0; cpu < count; ++cpu) {
        char path[32] = "cpu/";
        char value[16];
        unsigned p = 4;
        char digits[10];
        unsigned d = 0;
        uint32_t v = cpu;
        do {
            digits[d++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (d > 0)
            path[p++] = digits[--d];
        const char tail[] = "/availability";
        for (unsigned i = 0; i < sizeof(tail); ++i)
            path[p++] = tail[i];
        const auto r = xs.read(path, value, sizeof(value));
        if (r && str_equal(value, "online") && smp::is_online(xen::VcpuId{cpu}))
            ++agree;
        else
            tap.comment(area, ": ", path, " = ", r ? value : xen::errc_name(r.error()), ", CPU online ",
                        smp::is_online(xen::VcpuId{cpu}));
    }
    tap.result(agree == count, area, "xenstore cpu/N/availability = online for all ", count, " vCPUs (", agree,
               " agree)");
}

namespace {

constexpr const char* hotplug_area = "domu-hotplug";

/// What following the toolstack's requests came to.
struct Followed {
    uint32_t requests = 0, followed = 0, rejected = 0, failed = 0, min_online = 0;
    uint64_t worst_ns = 0;
    bool shutdown = false;
    char reason[16] = "";
};

// control/shutdown changed: a request other than "" ends the run.
void on_shutdown_event(xen::XenStore& xs, Followed& f) noexcept
{
    const auto r = xs.read("control/shutdown", f.reason, sizeof(f.reason));
    if (!r)
        return;
    const auto what = xen::parse_shutdown_request(f.reason);
    if (what && *what != xen::ShutdownRequest::none) {
        f.shutdown = true;
        (void)xs.write("control/shutdown", ""); // acknowledged, as Linux does
    }
}

// A node under cpu/ changed (seen at `seen`): follow it with the SMP
// controller, if there is one.
void on_cpu_event(Tap& tap, const Context&, xen::XenStore& xs, xen::Smp* ctl, uint32_t count,
                  const xen::XenStoreWatchEvent& e, uint64_t seen, Followed& f) noexcept
{
    constexpr const char* area = hotplug_area;
    char value[16];
    const auto r = xs.read(e.path, value, sizeof(value));
    if (!r)
        return; // the watch's initial event names "cpu" itself
    // N comes from the toolstack: bounded by the CPUs this kernel runs.
    const auto req = xen::parse_cpu_availability(e.path, value, count);
    if (!req) {
        if (req.error() == xen::Errc::vcpu_out_of_range) {
            ++f.rejected;
            tap.comment(area, ": ignored ", e.path, " = ", value, " (CPU out of range 0..", count - 1, ")");
        }
        return;
    }
    // xl vcpu-set rewrites every node, CPU 0's ("online") included: the
    // boot CPU stays.
    const uint32_t cpu = req->vcpu;
    const bool want = req->online;
    if (cpu == 0)
        return;
    if (smp::is_online(xen::VcpuId{cpu}) == want)
        return; // already so (e.g. the initial event's state)
    ++f.requests;
    if (ctl == nullptr)
        return;
    const auto done = want ? ctl->online(xen::VcpuId{cpu}) : ctl->offline(xen::VcpuId{cpu});
    const uint64_t took = now_ns() - seen;
    if (done)
        ++f.followed;
    else
        ++f.failed;
    if (took > f.worst_ns)
        f.worst_ns = took;
    const uint32_t online_now = smp::online_count();
    if (online_now < f.min_online)
        f.min_online = online_now;
    tap.comment(area, ": CPU ", cpu, " ", value, " in ", took / 1000, " us (",
                done ? "ok" : xen::errc_name(done.error()), "); online now ", online_now);
}

// Follow requests until the toolstack asks us to shut down, or 120 s of
// Xen time pass (the harness's plan is far shorter).
void follow_requests(Tap& tap, const Context& context, xen::XenStore& xs, xen::Smp* ctl, uint32_t count,
                     Followed& f) noexcept
{
    const uint64_t deadline = now_ns() + 120'000'000'000ull;
    f.min_online = smp::online_count();
    while (!f.shutdown && now_ns() < deadline) {
        xen::XenStoreWatchEvent e{};
        const auto got = xs.next_watch_event(e);
        if (!got || !*got) {
            domu::idle_wait(10'000'000); // leave the pCPU to dom0 meanwhile
            continue;
        }
        const uint64_t seen = now_ns();
        if (str_equal(e.token, "shutdown"))
            on_shutdown_event(xs, f);
        else
            on_cpu_event(tap, context, xs, ctl, count, e, seen, f);
    }
}

} // namespace

void run_domu_hotplug(Tap& tap, const Context& context) noexcept
{
    constexpr const char* area = hotplug_area;
    constexpr unsigned points = 5;
    if (!need_domu(tap, area, points))
        return;
    xen::XenStore& xs = *domu::xenstore();
    const auto up = smp::ensure_online();
    const uint32_t count = smp::vcpu_count();
    xen::Smp* const ctl = smp::controller();
    const bool have_api = ctl != nullptr;
    const auto w1 = xs.watch("cpu", "cpu");
    const auto w2 = xs.watch("control/shutdown", "shutdown");
    tap.result(up.has_value() && w1.has_value() && w2.has_value(), area, count,
               " vCPUs online; watching cpu and control/shutdown (",
               w1 ? (w2 ? "ok" : xen::errc_name(w2.error())) : xen::errc_name(w1.error()), ")");
    if (!have_api)
        tap.comment(area, ": the minikernel has no SMP controller: requests are read, not followed");
    tap.comment(area, ": ready");

    Followed f;
    follow_requests(tap, context, xs, ctl, count, f);
    tap.metric(area, "requests", f.requests);
    tap.metric(area, "worst_follow_us", f.worst_ns / 1000);
    if (!have_api) {
        for (unsigned i = 1; i + 1 < points; ++i)
            tap.skip(area, "no hotplug API in the minikernel yet", "follow xl vcpu-set (", f.requests,
                     " requests seen)");
    } else {
        tap.result(f.requests > 0 && f.followed == f.requests && f.failed == 0, area, "followed ", f.followed, " of ",
                   f.requests, " vcpu-set requests (", f.rejected, " out of range ignored)");
        tap.result(f.requests > 0 && f.worst_ns < 1'000'000'000ull, area, "each within 1 s of Xen time (worst ",
                   f.worst_ns / 1000, " us)");
        tap.result(f.min_online == 1 && smp::online_count() == count, area, "down to ", f.min_online,
                   " CPU and back to ", smp::online_count(), " of ", count);
    }
    tap.result(f.shutdown, area, "control/shutdown = '", f.reason, "' seen and acknowledged");
}

void run_domu_console(Tap& tap, const Context&) noexcept
{
    constexpr const char* area = "domu-console";
    if (!domu::active()) {
        tap.skip(area, "not a domU: no console ring (run it with scripts/boot --domu)", "console input");
        return;
    }
    tap.comment(area, ": ready");
    // One line, at most 20 s of Xen time; the pty may turn '\n' into '\r'.
    char line[64];
    unsigned used = 0;
    bool complete = false;
    const uint64_t end = now_ns() + 20'000'000'000ull;
    while (!complete && now_ns() < end) {
        char c;
        if (domu::console_read(&c, 1) == 0) {
            domu::idle_wait(10'000'000); // leave the pCPU to dom0 meanwhile
            continue;
        }
        if (c == '\n' || c == '\r')
            complete = used > 0;
        else if (used + 1 < sizeof(line))
            line[used++] = c;
    }
    line[used] = '\0';
    tap.result(complete && str_equal(line, "ping"), area, "read '", line, "' from the console ring's input (",
               complete ? "a whole line" : "no newline in 20 s", ")");
}

namespace guest_tests {

// The domU tests need the toolstack (scripts/boot --domu); domu-smp and
// domu-hotplug need an AP to bring up and take down.
extern const Test domu_smp_test{
    .name = "domu-smp",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::domu,
    .min_vcpus = 2,
    .run = run_domu_smp,
};

extern const Test domu_hotplug_test{
    .name = "domu-hotplug",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::domu,
    .min_vcpus = 2,
    .run = run_domu_hotplug,
};

extern const Test domu_console_test{
    .name = "domu-console",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::domu,
    .min_vcpus = 1,
    .run = run_domu_console,
};

} // namespace guest_tests

} // namespace mk
