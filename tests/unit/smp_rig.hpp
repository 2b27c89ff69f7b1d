// A test rig for xen::Smp on the simulated hypervisor: the domain, the
// library's storage, the kernel hooks, and simulated APs.
//
// The simulator runs no guest code, so the rig plays each AP itself: every
// time the controller relaxes in a wait, virtual time moves on by
// `step_ns` and every AP that Xen is running (initialised, up and woken, as
// the simulator reports it) takes one step, on the test thread acting as
// that vCPU: first its entry (what the assembly stub and the kernel's entry
// do: stage entered, then ap_online), then, while online, service()-like
// work. An AP can be told to stay silent (never check in), to check in only
// after a number of steps, or to park late.
//
// Parking: on real Xen VCPUOP_down on oneself returns only after VCPUOP_up;
// the simulator returns at once. So the rig parks with the library's two
// halves, park_begin() and resume(): it calls resume() only once the
// simulator reports the vCPU running again.
#pragma once

#include <xen/domain.hpp>
#include <xen/smp.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <sim/hypervisor.hpp>

namespace smp_test {

namespace sim = xen::sim;
using xen::VcpuId;

/// One simulated AP's behaviour and progress.
struct ApSim {
    bool silent = false;      ///< never runs its entry: never checks in
    uint32_t entry_delay = 0; ///< steps to wait before its entry runs
    uint32_t park_delay = 0;  ///< steps between seeing a park request and VCPUOP_down
    bool entered = false;
    uint32_t park_wait = 0; ///< steps left before it parks (0: not asked)
    bool parked = false;    ///< inside its own VCPUOP_down
    uint32_t resumes = 0;
    uint32_t calls_run = 0;
};

struct Rig {
    static constexpr uint32_t max_cpus = 160;
    static constexpr uint32_t ports = 1024;

    sim::Hypervisor hv;
    sim::Scope scope;
    std::unique_ptr<xen::VcpuSlot[]> slots;
    std::unique_ptr<xen::EventSlot[]> port_slots;
    std::unique_ptr<xen::Domain> domain;
    std::unique_ptr<xen::SmpScratch> scratch;
    std::unique_ptr<xen::abi::trap_info[]> traps;
    std::unique_ptr<xen::Smp> smp;
    std::vector<ApSim> aps;
    uint64_t step_ns = 100'000; ///< virtual time per relax
    uint64_t read_ns = 0;       ///< virtual time per clock read (0: time moves in relax only)
    uint64_t relaxes = 0;
    bool simulate = true; ///< APs take steps in relax()
    std::vector<uint32_t> prepared_by_hook;
    xen::Errc prepare_hook_error{};
    xen::VcpuInfoPlacement placement;
    std::vector<std::string> logged; ///< what the library said through the log hook
    /// Optional kernel work: in the AP's entry before it checks in, and the
    /// Domain's before_park / after_resume hooks (each runs as that vCPU).
    std::function<void(VcpuId)> on_entry, on_park, on_resume;

    /// A domain with slots for `nr_slots` vCPUs; Smp is set up by
    /// discover() (or take_over()), as a kernel would after Domain::discover.
    explicit Rig(sim::Config cfg, uint32_t nr_slots = max_cpus,
                 xen::VcpuInfoPlacement placement = xen::VcpuInfoPlacement::every_ap);

    xen::SmpConfig config();
    xen::EventChannels& events() { return domain->events(); }

    /// Domain::discover then Smp::init: what a kernel does at boot.
    xen::Result<uint32_t> discover(uint32_t limit = xen::max_probed_vcpus);

    /// The controller (vCPU 0) waits: time moves, each running AP steps.
    void relax();
    /// One step of AP `vcpu`, acting as it.
    void step(VcpuId vcpu);

    /// Discover and bring everything up; REQUIREs nothing (tests check).
    xen::BringUpReport bring_up(xen::BringUpMode mode, xen::WaitBound bound = {});

    /// The rig constructed last (the one the hooks serve).
    static Rig& current();

    /// A WaitBound of `ns` virtual time.
    static xen::WaitBound within(uint64_t ns) { return xen::WaitBound{ns, 10'000'000}; }
};

} // namespace smp_test
