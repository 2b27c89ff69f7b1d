// smp: bring every vCPU Xen gave the domain online (in parallel by default,
// one at a time with `smp=serial`), and show that each AP runs: work on its
// own vCPU, its call IPI, its own vcpu_info beyond the 32-vCPU line, and no
// second VCPUOP_initialise. Figures: smp.online, smp.bringup_ns per vCPU,
// smp.bringup_<mode>_total_ns, and per AP the first bring-up's timeline
// (the library's SmpTimeline, ns from the bring_up call's start):
// smp.ap_prepare_begin_ns, smp.ap_prepare_end_ns, smp.ap_up_ns (VCPUOP_up
// returned) and smp.ap_online_ns (the boot vCPU saw its check-in), and
// before the bring-up the cost of one hypercall, one multicall entry and
// one clock read on vCPU 0 (smp.hypercall_ns, smp.multicall_entry_ns,
// smp.clock_read_ns).
#include <xen/hypercall/multicall.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/hypercall/xen_version.hpp>
#include <xen/smp.hpp>
#include <xen/time/pvclock.hpp>

#include "framework/test.hpp"
#include "percpu.hpp"
#include "smp_internal.hpp"
#include "traps.hpp"

namespace mk {

namespace {

constexpr const char* area = "smp";

// What an AP reports about itself from inside a call.
struct Job {
    uint32_t vcpu;
    uint64_t clock_ns;
    uint32_t runs;
};
Job jobs[max_vcpus];

// For the raw second VCPUOP_initialise: Xen checks "already initialised"
// before it looks at the contents, so zeroes do (static: 5 KiB).
xen::abi::vcpu_guest_context zero_pv;

void report_in(void* arg) noexcept
{
    auto& job = *static_cast<Job*>(arg);
    job.vcpu = smp::this_vcpu().value;
    // Its own pvclock record, in its own vcpu_info, read on its own vCPU:
    // proof that Xen keeps that record current (not a clock read: the
    // kernel's clock is now_ns()).
    job.clock_ns = xen::pvclock_read(smp::this_vcpu_info().time)
                       .transform([](xen::PvclockTime t) { return t.system_time_ns; })
                       .value_or(0);
    job.runs = job.runs + 1;
}

const char* mode_name(smp::Mode m) noexcept { return m == smp::Mode::serial ? "serial" : "parallel"; }

// One stamp of AP `id`'s timeline, relative to the bring-up's start (none
// if the step was not done, or belongs to another bring-up).
void timeline_metric(Tap& tap, const char* name, uint64_t stamp, uint64_t start, uint32_t id) noexcept
{
    if (stamp != 0 && stamp >= start)
        tap.metric(area, name, stamp - start, "", id);
}

// 2. All online, with the figures.
void check_online(Tap& tap, xen::Smp* ctl, const smp::BringUp& rec, smp::Mode mode) noexcept
{
    const uint32_t n = ctl->count();
    const char* mode_used = mode_name(rec.mode);
    if (rec.mode != mode)
        tap.comment("smp: brought up ", mode_used, " by an earlier test, not ", mode_name(mode));
    tap.metric(area, "online", ctl->online_count());
    for (uint32_t id = 1; id < n; ++id) {
        const xen::VcpuId v{id};
        const xen::SmpCpu& s = ctl->part(v);
        if (ctl->state(v) == xen::CpuState::online)
            tap.metric(area, "bringup_ns", s.bringup_ns, "", id);
        const uint64_t t0 = rec.report.start_ns;
        timeline_metric(tap, "ap_prepare_begin_ns", s.timeline.prepare_begin_ns, t0, id);
        timeline_metric(tap, "ap_prepare_end_ns", s.timeline.prepare_end_ns, t0, id);
        timeline_metric(tap, "ap_initialise_ns", s.handshake.start_ns, t0, id);
        timeline_metric(tap, "ap_up_ns", s.timeline.up_ns, t0, id);
        timeline_metric(tap, "ap_online_ns", s.timeline.online_ns, t0, id);
        if (ctl->state(v) != xen::CpuState::online)
            tap.comment("smp: vcpu ", id, " ", xen::cpu_state_name(ctl->state(v)), ": ", xen::errc_name(s.last_error),
                        ", stage ", s.handshake.stage);
    }
    tap.metric(area, rec.mode == smp::Mode::serial ? "bringup_serial_total_ns" : "bringup_parallel_total_ns",
               rec.report.total_ns);
    tap.metric(area, "bringup_total_ns", rec.report.total_ns);
    if (rec.mode == smp::Mode::parallel) {
        tap.metric(area, "prepare_phase_ns", rec.report.prepare_phase_ns);
        tap.metric(area, "start_phase_ns", rec.report.start_phase_ns);
    }
    tap.result(ctl->online_count() == n && rec.report.failed == 0, area, ctl->online_count(), " of ", n,
               " vCPUs online (", mode_used, ", ", rec.report.total_ns / 1000, " us)");
}

// 3. Every AP runs work on its own vCPU (run_on: its thread context).
void check_calls(Tap& tap, xen::Smp* ctl) noexcept
{
    const uint32_t n = ctl->count();
    uint32_t right = 0;
    xen::Errc first{};
    for (uint32_t id = 1; id < n; ++id) {
        Job& job = jobs[id];
        job = Job{~0u, 0, 0};
        const auto r = smp::run_on(xen::VcpuId{id}, report_in, &job);
        if (!r.has_value() && first == xen::Errc{})
            first = r.error();
        if (r.has_value() && job.runs == 1 && job.vcpu == id && job.clock_ns > 0)
            ++right;
    }
    tap.result(right == n - 1, area, right, " of ", n - 1,
               " APs ran a call on their own vCPU and read their own pvclock",
               first != xen::Errc{} ? " (first error " : "", first != xen::Errc{} ? xen::errc_name(first) : "",
               first != xen::Errc{} ? ")" : "");
}

// 5. Beyond XEN_LEGACY_MAX_VCPUS every vCPU has its own vcpu_info (here
// every AP does), and Xen writes its pvclock there.
void check_vcpu_info_beyond_32(Tap& tap, xen::Smp* ctl) noexcept
{
    const uint32_t n = ctl->count();
    if (n <= xen::abi::legacy_max_vcpus) {
        uint32_t placed = 0;
        for (uint32_t id = 1; id < n; ++id)
            placed += domain().find(xen::VcpuId{id})->vcpu_info_registered ? 1 : 0;
        tap.skip(area, "needs more than 32 vCPUs", placed, " of ", n - 1,
                 " APs have a registered vcpu_info; none is beyond the 32-vCPU line");
    } else {
        uint32_t placed = 0;
        for (uint32_t id = xen::abi::legacy_max_vcpus; id < n; ++id) {
            const xen::VcpuId v{id};
            xen::VcpuSlot& s = *domain().find(v);
            placed += s.vcpu_info_registered && domain().vcpu_info(v) == s.vcpu_info.get() &&
                              s.vcpu_info.value.time.system_time != 0
                          ? 1
                          : 0;
        }
        tap.result(placed == n - xen::abi::legacy_max_vcpus, area, placed, " of ", n - xen::abi::legacy_max_vcpus,
                   " vCPUs beyond 32 run on a vcpu_info in kernel memory that Xen keeps current");
    }
}

// 6. Never initialise twice: the library refuses, and Xen would say EEXIST.
void check_no_second_initialise(Tap& tap, xen::Smp* ctl) noexcept
{
    const uint32_t n = ctl->count();
    if (n > 1) {
        const auto lib = ctl->start(xen::VcpuId{1});
        xen::abi::vcpu_hvm_context zero{};
        zero.mode = static_cast<uint32_t>(xen::abi::vcpu_hvm_mode::mode_64b);
        const auto raw = guest_type() == GuestType::pv ? xen::hc::vcpu_initialise(xen::VcpuId{1}, zero_pv)
                                                       : xen::hc::vcpu_initialise(xen::VcpuId{1}, zero);
        tap.result(lib.error() == xen::Errc::already_initialised && raw.error() == xen::Errc::eexist, area,
                   "a second VCPUOP_initialise: the library refuses (", xen::errc_name(lib.error()), "), Xen agrees (",
                   xen::errc_name(raw.error()), ")");
    } else {
        tap.skip(area, "needs 2 vCPUs", "a second VCPUOP_initialise is refused");
    }
}

// 5. PV: the NMI the vcpuop test sent to a vCPU while it was down reached
// it at its first entry, through the NMI callback of its initial context,
// and it ran on (it checked in). Taken at once: no wait needed.
void check_pending_nmi(Tap& tap) noexcept
{
    const uint32_t v = guest_tests::nmi_sent_to_down_vcpu;
    if (v == ~0u)
        return;
    const uint64_t taken = nmis_taken(v);
    tap.result(taken == 1 && smp::is_online(xen::VcpuId{v}), area, "vCPU ", v,
               " took the NMI sent while it was down (vcpuop) by its NMI callback (", taken, ") and ran on");
}

// What one guest-to-Xen transition costs on this machine (on PVH a VM
// exit), measured on vCPU 0 before any AP runs: rounds of `per_round`
// xen_version calls one by one, the same calls as the entries of one
// multicall, and clock reads (on PVH rdtsc may trap to Xen). The fastest
// round of each is the cost without the host's interference; the metric
// lines say how much a bring-up pays per hypercall, per batched entry and
// per clock read (docs/smp.md, "Parallel and serial").
xen::abi::multicall_entry probe_calls[16];

void exit_costs(Tap& tap) noexcept
{
    constexpr uint32_t per_round = 16, rounds = 8;
    uint64_t best[3] = {~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}};
    bool batched = true;
    for (uint32_t r = 0; r < rounds; ++r) {
        const uint64_t t0 = now_ns();
        for (uint32_t i = 0; i < per_round; ++i)
            (void)xen::hc::xen_version();
        const uint64_t t1 = now_ns();
        for (auto& e : probe_calls)
            e = xen::abi::multicall_entry{static_cast<uint64_t>(xen::abi::hypercall::xen_version),
                                          xen::hc::multicall_not_run,
                                          {static_cast<uint64_t>(xen::abi::xenver::version), 0, 0, 0, 0, 0}};
        batched = batched && xen::hc::multicall(probe_calls, per_round).has_value() &&
                  xen::hc::entry_result(probe_calls[per_round - 1]).has_value();
        const uint64_t t2 = now_ns();
        for (uint32_t i = 0; i < per_round; ++i)
            (void)now_ns();
        const uint64_t t3 = now_ns();
        best[0] = t1 - t0 < best[0] ? t1 - t0 : best[0];
        best[1] = t2 - t1 < best[1] ? t2 - t1 : best[1];
        best[2] = t3 - t2 < best[2] ? t3 - t2 : best[2];
    }
    tap.metric(area, "hypercall_ns", best[0] / per_round);
    if (batched)
        tap.metric(area, "multicall_entry_ns", best[1] / per_round);
    tap.metric(area, "clock_read_ns", best[2] / per_round);
}

} // namespace

void run_smp(Tap& tap, const Context& c) noexcept
{
    const char* asked = c.cmdline.get("smp");
    const smp::Mode mode = asked != nullptr && str_equal(asked, "serial") ? smp::Mode::serial : smp::Mode::parallel;
    if (smp::controller() == nullptr)
        exit_costs(tap); // before any AP runs: vCPU 0 alone
    const auto online = smp::ensure_online(mode);
    const smp::BringUp& rec = smp::bring_up_record();
    xen::Smp* ctl = smp::controller();
    if (!online.has_value() || ctl == nullptr || !rec.done) {
        const xen::Errc e = online.has_value() ? rec.discover_error : online.error();
        tap.result(false, area, "bring-up failed: ", xen::errc_name(e));
        return;
    }
    const uint32_t n = ctl->count();

    // 1. Discovery.
    tap.result(n >= 1 && domain().vcpu_count() == n, area, "discovered ", domain().vcpu_count(),
               " vCPUs (VCPUOP_is_up until ENOENT), ", n, " managed");

    check_online(tap, ctl, rec, mode);
    check_calls(tap, ctl);

    // 4. Each call woke its AP through its call IPI, taken by an upcall there.
    uint32_t woken = 0;
    for (uint32_t id = 1; id < n; ++id)
        woken += ctl->part(xen::VcpuId{id}).mailbox.ipis > 0 && smp::percpu(xen::VcpuId{id}).upcalls > 0 ? 1 : 0;
    tap.result(woken == n - 1, area, woken, " of ", n - 1, " APs took their call IPI by an upcall on their own vCPU");
    check_pending_nmi(tap);

    check_vcpu_info_beyond_32(tap, ctl);
    check_no_second_initialise(tap, ctl);
}

namespace guest_tests {

// Anywhere; with one vCPU there is no AP to check, and the checks say so.
extern const Test smp_test{
    .name = "smp",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_smp,
};

} // namespace guest_tests

} // namespace mk
