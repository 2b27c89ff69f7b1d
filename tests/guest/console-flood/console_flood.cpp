// console-flood: every vCPU prints numbered lines at once, as fast as it
// can, so that the console ring has writers on every vCPU and is full most
// of the time. What arrives is judged outside the guest: dom0's /init
// counts the lines xenconsoled handed it (scripts/lib/console-count.awk,
// docs/console.md) and prints `dom0| console-flood: ...` or a `dom0|
// check failed:` line, which fails the run. The guest checks only its own
// side: every vCPU ran its lines, and no write failed.
//
// Lines (TAP comments, so they never disturb the stream):
//     # console-flood: begin vcpus=V lines=L
//     # console-flood: line V.I <pad> end V.I      L lines per vCPU, I from 0
//     # console-flood: end
// <pad> is (I * 7 + V) % 40 + 10 copies of the letter 'a' + V % 26, so a
// line that lost or gained bytes in the middle does not parse.
// Knob: flood=L (default 200).
#include <xen/time/clock.hpp>

#include "domain.hpp"
#include "domu.hpp"
#include "framework/test.hpp"
#include "smp.hpp"

namespace mk {

namespace {

constexpr uint64_t ms = 1'000'000;
constexpr const char* area = "console-flood";

struct Job {
    uint32_t cpu;
    uint32_t lines;
    uint64_t start_ns;
    uint32_t done; // atomic: 1 once every line was printed
};

Job jobs[max_vcpus];

void flood(void* arg) noexcept
{
    Job& j = *static_cast<Job*>(arg);
    // Start together, so that every vCPU prints at once.
    while (now_ns() < j.start_ns) {
    }
    char pad[64];
    for (uint32_t i = 0; i < j.lines; ++i) {
        const uint32_t n = (i * 7 + j.cpu) % 40 + 10;
        for (uint32_t k = 0; k < n; ++k)
            pad[k] = static_cast<char>('a' + j.cpu % 26);
        pad[n] = '\0';
        console::print("# console-flood: line ", j.cpu, ".", i, " ", static_cast<const char*>(pad), " end ", j.cpu, ".",
                       i, "\n");
    }
    __atomic_store_n(&j.done, 1u, __ATOMIC_RELEASE);
}

void run_console_flood(Tap& tap, const Context& context) noexcept
{
    const auto online = smp::ensure_online();
    if (!online) {
        tap.result(false, area, "ensure_online: ", xen::errc_name(online.error()));
        return;
    }
    const uint32_t cpus = *online;
    const auto lines = static_cast<uint32_t>(context.cmdline.get_uint("flood", 200));
    const uint32_t failures_before = domu::console_write_failures();
    tap.comment(area, ": begin vcpus=", cpus, " lines=", lines);
    const uint64_t start = now_ns() + 200 * ms; // time for every AP to get its call
    for (uint32_t c = 0; c < cpus; ++c)
        jobs[c] = Job{c, lines, start, 0};
    for (uint32_t c = 1; c < cpus; ++c) {
        // Wait 1 ms only: the job runs on, and run_on says timed_out.
        const auto r = smp::run_on(xen::VcpuId{c}, &flood, &jobs[c], ms);
        if (!r && r.error() != xen::Errc::timed_out)
            tap.comment(area, ": vCPU ", c, ": run_on: ", xen::errc_name(r.error()));
    }
    flood(&jobs[0]);
    // Each line waits at most a minute for a ring that does not move; the
    // whole flood gets as long as all of them at the rate a slow dom0
    // drains (1 line per ms), and at least 60 s.
    const uint64_t bound = (cpus * lines > 60'000 ? cpus * lines : 60'000) * ms;
    uint32_t done = 0;
    for (const uint64_t give_up = now_ns() + bound; now_ns() < give_up;) {
        done = 0;
        for (uint32_t c = 0; c < cpus; ++c)
            done += __atomic_load_n(&jobs[c].done, __ATOMIC_ACQUIRE);
        if (done == cpus)
            break;
        domu::idle_wait(2 * ms);
    }
    const uint64_t took = now_ns() - start;
    tap.comment(area, ": end");
    const uint32_t failures = domu::console_write_failures() - failures_before;
    tap.metric(area, "took_ns", took);
    tap.result(done == cpus && failures == 0, area, done, " of ", cpus, " vCPUs printed ", lines,
               " lines each at once in ", took / ms, " ms; ", failures,
               " console writes failed (dom0 counts what arrived)");
}

} // namespace

// A domU only: dom0's console_io goes to Xen's serial line, whose transmit
// buffer drops characters when it fills; the ring is what is judged here.
namespace guest_tests {

extern const Test console_flood_test{
    .name = "console-flood",
    .by_default = false,
    .guests = Guests::both,
    .domains = Domains::domu,
    .min_vcpus = 1,
    .run = run_console_flood,
};

} // namespace guest_tests

} // namespace mk
