#include "scenarios.hpp"

namespace mk {

const Scenario scenarios[] = {
    // name       points  by_default  run
    {"selftest",  1,      true,       run_selftest},
    {"traps",     1,      true,       run_traps},
    {"events",    1,      true,       run_events},
    {"vcpuop",    23,     true,       run_vcpuop},
    {"smp",       6,      true,       run_smp},
    {"hotplug",   4,      true,       run_hotplug},
    {"steal",     8,      true,       run_steal},
    {"timers",    7,      true,       run_timers},
    {"timers+hotplug", 4, true,     run_timers_hotplug},
    {"domu-smp",  3,      false,      run_domu_smp},
    {"domu-hotplug", 5,   false,      run_domu_hotplug},
    {"domu-steal", 3,     false,      run_domu_steal},
    {"domu-console", 1,   false,      run_domu_console},
    {"domu-timers", 7,    false,      run_timers},
    {"broken",    1,      false,      run_broken},
    {"hang",      1,      false,      run_hang},
    {"crash",     1,      false,      run_crash},
};

const unsigned scenario_count = sizeof(scenarios) / sizeof(scenarios[0]);

} // namespace mk
