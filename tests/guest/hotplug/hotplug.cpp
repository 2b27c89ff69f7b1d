// hotplug: K cycles (`hotplug=K`, default 20) of taking each AP offline and
// back. Offline: the AP parks itself with VCPUOP_down on itself and the
// controller polls VCPUOP_is_up until it reads 0. Online: VCPUOP_up only
// (never a second VCPUOP_initialise): the AP resumes right after its own
// VCPUOP_down, checks in again, and runs a call. Then the guard: with every
// AP parked, the boot vCPU is the last one up, and taking it down is
// refused (Xen would power the domain off). Figures: hotplug.cycles,
// hotplug.offline_ns and hotplug.online_ns (mean per operation), and each
// step's own time, hotplug.cycle_offline_ns and hotplug.cycle_online_ns
// with vcpu= and cycle= (from 1), printed after its cycle.
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "framework/test.hpp"
#include "smp_internal.hpp"

namespace mk {

namespace {

constexpr const char* area = "hotplug";

uint32_t runs[max_vcpus];

void ran(void* arg) noexcept
{
    auto* counter = static_cast<uint32_t*>(arg);
    *counter = *counter + 1;
}

/// What the cycles came to.
struct Cycles {
    uint64_t ok_cycles = 0, is_up_right = 0, ran_again = 0, attempts = 0;
    uint64_t offline_ns = 0, online_ns = 0;
    xen::Errc first{};
    uint32_t first_vcpu = 0;
};

// 1-3. `cycles` rounds of each online AP offline and back.
void run_cycles(Tap& tap, xen::Smp* ctl, uint32_t n, uint64_t cycles, Cycles& r) noexcept
{
    auto note = [&](xen::Errc e, xen::VcpuId v) {
        if (r.first == xen::Errc{}) {
            r.first = e;
            r.first_vcpu = v.value;
        }
    };
    for (uint64_t k = 0; k < cycles; ++k) {
        for (uint32_t id = 1; id < n; ++id) {
            const xen::VcpuId v{id};
            if (ctl->state(v) != xen::CpuState::online)
                continue;
            ++r.attempts;
            uint64_t t0 = now_ns();
            const auto off = ctl->offline(v);
            const uint64_t t1 = now_ns();
            const auto down = xen::hc::vcpu_is_up(v);
            const uint64_t t2 = now_ns();
            const auto on = ctl->online(v);
            const uint64_t t3 = now_ns();
            const auto up = xen::hc::vcpu_is_up(v);
            if (!off.has_value())
                note(off.error(), v);
            if (!on.has_value())
                note(on.error(), v);
            if (off.has_value() && on.has_value()) {
                ++r.ok_cycles;
                r.offline_ns += t1 - t0;
                r.online_ns += t3 - t2;
            }
            r.is_up_right += down.has_value() && !*down && up.has_value() && *up ? 1 : 0;
            const uint32_t before = runs[id];
            if (on.has_value() && smp::run_on(v, ran, &runs[id]).has_value() && runs[id] == before + 1)
                ++r.ran_again;
            // Outside the timed steps: printing takes a console hypercall.
            if (off.has_value())
                tap.metric(area, "cycle_offline_ns", t1 - t0, "", id, MetricTag{"cycle", k + 1});
            if (on.has_value())
                tap.metric(area, "cycle_online_ns", t3 - t2, "", id, MetricTag{"cycle", k + 1});
        }
    }
}

// 4. The last vCPU: park every AP, then the boot vCPU is alone.
void check_last_vcpu(Tap& tap, xen::Smp* ctl, uint32_t n) noexcept
{
    uint32_t parked = 0;
    for (uint32_t id = 1; id < n; ++id)
        parked += ctl->offline(xen::VcpuId{id}).has_value() ? 1 : 0;
    const auto self_down = ctl->offline(xen::boot_vcpu);
    const auto park = ctl->park_self(xen::boot_vcpu);
    uint32_t back = 0;
    for (uint32_t id = 1; id < n; ++id)
        back += ctl->online(xen::VcpuId{id}).has_value() ? 1 : 0;
    tap.result(parked == n - 1 && back == n - 1 && self_down.error() == xen::Errc::last_vcpu &&
                   park.error() == xen::Errc::last_vcpu,
               area, "with ", parked, " APs parked the boot vCPU is the last one up: offline(0) and park_self(0) ",
               "refused (", xen::errc_name(self_down.error()), ", ", xen::errc_name(park.error()), "); ", back,
               " APs back");
}

} // namespace

void run_hotplug(Tap& tap, const Context& c) noexcept
{
    const uint64_t cycles = c.cmdline.get_uint("hotplug", 20);
    const auto online = smp::ensure_online();
    xen::Smp* ctl = smp::controller();
    if (!online.has_value() || ctl == nullptr) {
        tap.result(false, area,
                   "no SMP: ", xen::errc_name(online.has_value() ? xen::Errc::unsupported : online.error()));
        return;
    }
    const uint32_t n = ctl->count();
    if (n < 2) {
        tap.skip(area, "needs 2 vCPUs", "offline and online cycles");
        tap.skip(area, "needs 2 vCPUs", "is_up after each step");
        tap.skip(area, "needs 2 vCPUs", "the AP runs again after each online");
        tap.skip(area, "needs 2 vCPUs", "the last vCPU is never taken down");
        return;
    }

    Cycles r;
    run_cycles(tap, ctl, n, cycles, r);
    tap.metric(area, "cycles", r.ok_cycles);
    if (r.ok_cycles > 0) {
        tap.metric(area, "offline_ns", r.offline_ns / r.ok_cycles);
        tap.metric(area, "online_ns", r.online_ns / r.ok_cycles);
    }
    const uint64_t want = cycles * (n - 1);
    if (r.first != xen::Errc{})
        tap.comment("hotplug: first failure on vCPU ", r.first_vcpu, ": ", xen::errc_name(r.first));
    tap.result(r.ok_cycles == want && r.attempts == want, area, r.ok_cycles, " of ", want, " offline/online cycles (",
               cycles, " for each of ", n - 1, " APs): parked by its own VCPUOP_down, back by VCPUOP_up");
    tap.result(r.is_up_right == want, area, "is_up read 0 after offline and 1 after online ", r.is_up_right, " of ",
               want, " times");
    tap.result(r.ran_again == want, area, "the AP ran a call after ", r.ran_again, " of ", want, " onlines");

    check_last_vcpu(tap, ctl, n);
}

namespace guest_tests {

// Needs an AP to take down.
extern const Test hotplug_test{
    .name = "hotplug",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 2,
    .run = run_hotplug,
};

} // namespace guest_tests

} // namespace mk
