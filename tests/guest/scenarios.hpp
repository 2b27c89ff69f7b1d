// Scenarios: what the kernel runs and reports in TAP. The command line word
// `tests=a,b,c` picks them by name; without it every scenario marked
// `by_default` runs. To add one: write `void run_<name>(Tap&, const Context&)`
// in its own scenario_<name>.cpp, declare it below, add a row to the table
// in scenarios.cpp and the file to meson.build.
#pragma once

#include <cstdint>
#include <xen/hypercall/xen_version.hpp>

#include "cmdline.hpp"
#include "kernel.hpp"
#include "framework/tap.hpp"

namespace mk {

/// What a scenario may look at.
struct Context {
    const BootInfo& boot;
    const Cmdline& cmdline;      ///< scenario knobs, e.g. `timers=1000`
    xen::hc::XenVersion version; ///< the Xen we run on
    uint32_t features;           ///< XENFEAT submap 0
};

struct Scenario {
    const char* name;  ///< the word in tests=..., also the TAP area
    unsigned points;   ///< TAP results it always reports (pass, fail or skip)
    bool by_default;   ///< runs without tests=; false for the harness's probes
    void (*run)(Tap& tap, const Context& context) noexcept;
};

/// Every scenario, in the order they run.
extern const Scenario scenarios[];
extern const unsigned scenario_count;

// scenario_domu.cpp: as a domU under xl (scripts/boot --domu), driven by
// the toolstack through xenstore. domu-timers is the timers scenario run so.
void run_domu_smp(Tap& tap, const Context& context) noexcept;
void run_domu_hotplug(Tap& tap, const Context& context) noexcept;
void run_domu_console(Tap& tap, const Context& context) noexcept;
// scenario_domu_steal.cpp: a pause and a 50% cap from the toolstack as steal.
void run_domu_steal(Tap& tap, const Context& context) noexcept;

// scenario_selftest.cpp: the boot harness's own probes.
void run_selftest(Tap& tap, const Context& context) noexcept; ///< passes trivially
void run_broken(Tap& tap, const Context& context) noexcept;   ///< reports not ok on purpose
void run_hang(Tap& tap, const Context& context) noexcept;     ///< never returns
void run_crash(Tap& tap, const Context& context) noexcept;    ///< unexpected #PF: bail out, crash

// scenario_traps.cpp, scenario_events.cpp: the kernel's own machinery.
void run_traps(Tap& tap, const Context& context) noexcept;
void run_events(Tap& tap, const Context& context) noexcept;

// scenario_vcpuop.cpp: every VCPUOP against this Xen, with the answer it must give.
void run_vcpuop(Tap& tap, const Context& context) noexcept;

// scenario_smp.cpp, scenario_hotplug.cpp: every vCPU online (smp=serial for
// one at a time), then hotplug=K cycles of each AP down and up.
void run_smp(Tap& tap, const Context& context) noexcept;
void run_hotplug(Tap& tap, const Context& context) noexcept;

// scenario_steal.cpp: all vCPUs busy at once; steal, runstate and clock checks.
void run_steal(Tap& tap, const Context& context) noexcept;

// scenario_timers.cpp: the tickless timer driver on every online vCPU.
void run_timers(Tap& tap, const Context& context) noexcept;
// scenario_timers_hotplug.cpp: timers of a vCPU that goes down and comes back, or is adopted.
void run_timers_hotplug(Tap& tap, const Context& context) noexcept;

} // namespace mk
