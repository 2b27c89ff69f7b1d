// Every in-guest test, in the order they run. Each declares itself (name,
// runs by default or not, the environment it needs) next to its code in
// tests/guest/<name>/; this list only orders them. The order matters:
// vcpuop wants the other vCPUs never started and runs before smp, the
// first test that starts them; the harness's probes come last.
#include "framework/test.hpp"

namespace mk::guest_tests {

extern const Test selftest_test, traps_test, events_test, vcpuop_test, smp_test, hotplug_test, steal_test, timers_test,
    timers_hotplug_test, cost_test, domu_smp_test, domu_hotplug_test, domu_steal_test, domu_suspend_test,
    domu_console_test, domu_timers_test, console_flood_test, soak_hotplug_test, soak_timers_test, soak_clock_test,
    domu_soak_test, broken_test, hang_test, crash_test;

extern const Test* const all_tests[] = {
    &selftest_test,    &traps_test,         &events_test,       &vcpuop_test,         &smp_test,
    &hotplug_test,     &steal_test,         &timers_test,       &timers_hotplug_test, &cost_test,
    &domu_smp_test,    &domu_hotplug_test,  &domu_steal_test,   &domu_suspend_test,   &domu_console_test,
    &domu_timers_test, &console_flood_test, &soak_hotplug_test, &soak_timers_test,    &soak_clock_test,
    &domu_soak_test,   &broken_test,        &hang_test,         &crash_test,
};

extern const unsigned all_tests_size = sizeof(all_tests) / sizeof(all_tests[0]);

} // namespace mk::guest_tests
