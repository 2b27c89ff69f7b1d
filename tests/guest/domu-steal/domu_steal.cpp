// domu-steal: steal time from the toolstack's pause and cap, measured on
// vCPU 0 with the library's StealClock (steal = runnable + offline,
// docs/steal.md) fed by VCPUOP_get_runstate_info.
//
// The plan drives it (docs/domu.md):
//   wait domu-steal: ready-pause; pause-for 2;
//   wait domu-steal: ready-cap; sched-credit2 -c 50; xs-write data/cap-on 1;
//   wait domu-steal: cap measured
// `pause-for S` pauses the domain for S seconds and writes how long it was
// paused, as dom0 saw it, to data/paused-ms.
//
// Results: the pause shows as offline time within 10% of dom0's T; the
// steal clock counts it (steal >= offline); under a 50% credit2 cap a busy
// vCPU 0 shows a steal fraction of 40-60%.
#include <xen/arch/x86.hpp>
#include <xen/hypercall/sched_op.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/runstate.hpp>
#include <xen/support/errc.hpp>
#include <xen/time/pvclock.hpp>

#include "domu.hpp"
#include "framework/test.hpp"

namespace mk {

namespace {

constexpr const char* area = "domu-steal";

uint64_t offline_of(const xen::abi::vcpu_runstate_info& s) noexcept
{
    return s.time[static_cast<int>(xen::abi::runstate::offline)];
}

// Busy until `node` exists (reading it every ~20 ms of Xen time), at most
// `limit_ns`; its value as a number, or -1.
int64_t wait_for_node(const Context&, xen::XenStore& xs, const char* node, uint64_t limit_ns) noexcept
{
    const uint64_t end = now_ns() + limit_ns;
    uint64_t next = 0;
    while (now_ns() < end) {
        if (now_ns() < next) {
            xen::arch::cpu_relax();
            continue;
        }
        next = now_ns() + 20'000'000;
        char value[24];
        const auto r = xs.read(node, value, sizeof(value));
        if (!r)
            continue;
        int64_t v = 0;
        for (const char* p = value; *p >= '0' && *p <= '9'; ++p)
            v = v * 10 + (*p - '0');
        return v;
    }
    return -1;
}

} // namespace

void run_domu_steal(Tap& tap, const Context& context) noexcept
{
    xen::XenStore* xs = domu::xenstore();
    if (xs == nullptr) {
        for (int i = 0; i < 3; ++i)
            tap.skip(area, "not a domU: no xenstore ring (run it with scripts/boot --domu)", "steal");
        return;
    }
    const xen::VcpuId self{0};
    xen::StealClock clock;

    // 1-2. A pause of T.
    const auto s0 = xen::hc::vcpu_get_runstate_info(self);
    if (s0)
        clock.start(*s0);
    const uint64_t steal0 = clock.steal_ns();
    tap.comment(area, ": ready-pause");
    const int64_t paused_ms = wait_for_node(context, *xs, "data/paused-ms", 60'000'000'000ull);
    const auto s1 = xen::hc::vcpu_get_runstate_info(self);
    if (s1)
        clock.update(*s1);
    const uint64_t offline_ns = s0 && s1 ? offline_of(*s1) - offline_of(*s0) : 0;
    const uint64_t steal_ns = clock.steal_ns() - steal0;
    const uint64_t t_ns = paused_ms > 0 ? static_cast<uint64_t>(paused_ms) * 1'000'000 : 0;
    const uint64_t diff = offline_ns > t_ns ? offline_ns - t_ns : t_ns - offline_ns;
    tap.metric(area, "paused_ms", static_cast<uint64_t>(paused_ms > 0 ? paused_ms : 0));
    tap.metric(area, "offline_ms", offline_ns / 1'000'000);
    tap.metric(area, "pause_steal_ms", steal_ns / 1'000'000);
    tap.result(t_ns > 0 && diff * 10 <= t_ns, area, "a pause of ", paused_ms, " ms (dom0's view) shows as ",
               offline_ns / 1'000'000, " ms offline on vCPU 0 (within 10%: ", diff / 1'000'000, " ms off)");
    tap.result(t_ns > 0 && steal_ns >= offline_ns && offline_ns > 0, area,
               "the steal clock counts the pause: ", steal_ns / 1'000'000, " ms steal >= ", offline_ns / 1'000'000,
               " ms offline");

    // 3. A 50% cap on the busy vCPU.
    tap.comment(area, ": ready-cap");
    const int64_t cap_on = wait_for_node(context, *xs, "data/cap-on", 60'000'000'000ull);
    uint32_t ppm = 0;
    if (cap_on >= 0) {
        // Let the cap take hold for one credit2 period (10 ms) and more.
        const uint64_t settle = now_ns() + 200'000'000;
        while (now_ns() < settle)
            xen::arch::cpu_relax();
        const auto a = xen::hc::vcpu_get_runstate_info(self);
        if (a)
            clock.update(*a);
        const xen::StealSample from = xen::steal_sample(clock);
        const uint64_t end = now_ns() + 3'000'000'000ull;
        while (now_ns() < end)
            xen::arch::cpu_relax(); // busy: the cap, not blocking, must idle us
        const auto b = xen::hc::vcpu_get_runstate_info(self);
        if (b)
            clock.update(*b);
        ppm = xen::steal_ppm(from, xen::steal_sample(clock));
    }
    tap.comment(area, ": cap measured");
    tap.metric(area, "cap50_steal_ppm", ppm);
    const uint32_t hundredths = (ppm / 100) % 100;
    tap.result(cap_on >= 0 && ppm >= 400'000 && ppm <= 600'000, area, "under a 50% credit2 cap, steal is ",
               ppm / 10'000, ".", hundredths < 10 ? "0" : "", hundredths, "% of vCPU 0's time (40-60%)");
}

namespace guest_tests {

// Needs the toolstack's pause and cap (scripts/boot --domu and a plan).
extern const Test domu_steal_test{
    .name = "domu-steal",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::domu,
    .min_vcpus = 1,
    .run = run_domu_steal,
};

} // namespace guest_tests

} // namespace mk
