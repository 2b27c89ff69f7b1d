// xen::sim::Hypervisor: a simulated Xen for host tests.
//
// It answers the library's hypercalls (xen::transport::host_hypercall) with
// Xen's documented semantics (docs/vcpuop.md, docs/xen-contracts.md): per-op
// error paths, version differences, runstate accounting and area updates,
// pvclock records, 2-level event channels and timers raising VIRQ_TIMER,
// all against a virtual clock that moves only when a test (or a blocking
// hypercall) moves it. Guest addresses are host addresses: a PhysAddr or a
// frame number `addr >> 12` names host memory directly.
//
// Thread model: a Scope makes one Hypervisor active on the calling thread
// and says which vCPU that thread is. Several threads may act as different
// vCPUs of one Hypervisor; every entry point takes one internal lock.
//
// docs/simulator.md shows how to drive it from a test.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <xen/abi/event_channel.hpp>
#include <xen/abi/hypercall_numbers.hpp>
#include <xen/abi/platform.hpp>
#include <xen/abi/sched.hpp>
#include <xen/abi/shared_info.hpp>
#include <xen/abi/vcpu.hpp>
#include <xen/support/types.hpp>

#include "config.hpp"
#include "fault.hpp"
#include "writers.hpp"

namespace xen::sim {

/// Xen's NR_VIRQS.
inline constexpr uint32_t nr_virqs = 24;

/// What the simulator knows about one vCPU beyond what the guest can read.
struct VcpuView {
    bool initialised; ///< VCPUOP_initialise succeeded (stays set after down)
    bool down;        ///< _VPF_down
    bool woken;       ///< vcpu_wake() ran since it last went down (the VGCF_online trap leaves it false)
    abi::runstate state;
    uint64_t periodic_period_ns;           ///< 0: no periodic timer
    std::optional<uint64_t> singleshot_ns; ///< armed single-shot deadline
    uint32_t nmis;                         ///< VCPUOP_send_nmi count
    uint64_t timer_fires;                  ///< single-shot + periodic expiries
    uint64_t kicks;                        ///< times events were marked pending (0 -> 1 upcall_pending)
    bool vcpu_info_registered;
    bool down_pending;     ///< a deferred remote VCPUOP_down has not landed yet
    uint8_t upcall_vector; ///< HVMOP_set_evtchn_upcall_vector's (0: none)
};

/// What the next SCHEDOP_shutdown(SHUTDOWN_suspend) does: the toolstack's
/// side of save/restore, checkpoint and migration, played at once.
struct SuspendPlan {
    /// Cancelled (checkpoint, failed save: xc_domain_resume): the call
    /// returns 1 and the same domain goes on with everything it had.
    bool cancel = false;
    /// Restored into a new domain (the call returns 0): system time moves
    /// by this much (negative: a host with less uptime than the old one).
    int64_t time_jump_ns = 0;
    /// New domain: another host's TSC rate (0: the same).
    uint64_t new_tsc_hz = 0;
    /// New domain, PV: the MFN of start_info the call must pass (0: any).
    uint64_t expect_start_info = 0;
    /// New domain: ports the toolstack binds before the guest runs (its
    /// xenstore and console channels), taking the lowest port numbers.
    uint32_t toolstack_ports = 0;
};

/// One simulated domain on one simulated Xen.
class Hypervisor {
public:
    explicit Hypervisor(Config cfg = {});
    ~Hypervisor();
    Hypervisor(const Hypervisor&) = delete;
    Hypervisor& operator=(const Hypervisor&) = delete;

    const Config& config() const noexcept { return cfg_; }

    /// The hypercall entry (what host_hypercall forwards to), as `caller`.
    long hypercall(VcpuId caller, abi::hypercall nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                   uint64_t a5) noexcept;

    // --- virtual clock (timers.cpp) -------------------------------------
    /// Xen's NOW(): virtual system time in ns.
    uint64_t now() const;
    /// Move time forward, firing every timer that falls due on the way.
    void advance(uint64_t ns);
    /// Move time to `t` (no-op if t <= now()).
    void advance_to(uint64_t t);

    // --- vCPUs (vcpu.cpp) -------------------------------------------------
    VcpuView vcpu(VcpuId id) const;
    /// Set a vCPU's runstate as Xen's scheduler would (accounts the time in
    /// the old state, rewrites registered areas, refreshes pvclock when it
    /// starts running, pauses or resumes the periodic timer).
    void set_runstate(VcpuId id, abi::runstate s);
    /// The tiny scheduler model: `id` waits `ns` for a pCPU (runnable, i.e.
    /// steal) while time advances, then runs again.
    void preempt(VcpuId id, uint64_t ns);
    /// The whole domain is paused for `ns` (save, migration, debugger):
    /// every running vCPU is offline meanwhile.
    void pause(uint64_t ns);
    /// SCHEDOP_shutdown's reason, or the poweroff of a last VCPUOP_down.
    std::optional<abi::shutdown_reason> shutdown_reason() const;

    // --- save, restore, migration (lifecycle.cpp) ----------------------------
    /// What the next suspends do (the default: restored into a new domain
    /// at the same time, on the same host). Applies until replaced.
    void plan_suspend(const SuspendPlan& plan);
    /// SCHEDOP_shutdown(SHUTDOWN_suspend) calls so far, and of those the
    /// ones restored into a new domain.
    uint32_t suspends() const;
    uint32_t restores() const;
    /// The third argument of the last suspend call (PV: start_info's MFN).
    uint64_t suspend_start_info() const;
    /// Wall-clock time now (ns since 1970) as the host knows it; shared_info's
    /// wc_* hold it at system time 0, and a restore keeps it continuous.
    uint64_t wall_ns() const;

    // --- runstate (runstate.cpp) -----------------------------------------
    /// What VCPUOP_get_runstate_info would return now.
    abi::vcpu_runstate_info runstate(VcpuId id) const;
    /// Rewrite the vCPU's registered runstate area now (Xen does it at every
    /// context switch), to completion.
    void update_runstate_area(VcpuId id);
    /// A writer for the next update of the area, to be stepped by the test.
    /// The accounting is the current one; nothing is written until step().
    RunstateWriter begin_runstate_update(VcpuId id);
    /// Registered runstate areas (nullptr when none).
    abi::vcpu_runstate_info* runstate_area_va(VcpuId id) const;
    abi::vcpu_runstate_info* runstate_area_phys(VcpuId id) const;
    /// VM_ASSIST(d, type) is enabled.
    bool vm_assist_enabled(abi::vmasst_type type) const;

    // --- time (time.cpp) ---------------------------------------------------
    /// The vCPU's simulated TSC at the current virtual time (skew included).
    uint64_t tsc(VcpuId id) const;
    /// Skew one vCPU's TSC by `ticks` (as if its pCPU's TSC were off).
    void set_tsc_skew(VcpuId id, int64_t ticks);
    /// Toggle XEN_PVCLOCK_TSC_STABLE_BIT; every vCPU's record is rewritten.
    void set_tsc_stable(bool stable);
    /// Set arbitrary pvclock flags (e.g. XEN_PVCLOCK_GUEST_STOPPED) and rewrite.
    void set_pvclock_flags(uint8_t flags);
    /// The scale written into every record.
    uint32_t tsc_to_system_mul() const;
    int8_t tsc_shift() const;
    /// Rewrite every copy of the vCPU's vcpu_time_info (to completion).
    void update_time(VcpuId id);
    /// A step-by-step writer for the next time update of `id`.
    TimeWriter begin_time_update(VcpuId id);
    abi::vcpu_time_info* time_area_va(VcpuId id) const;
    abi::vcpu_time_info* time_area_phys(VcpuId id) const;

    // --- events (events.cpp) ----------------------------------------------
    /// The shared_info page (page aligned; hand it to the library).
    abi::shared_info& shared_info() noexcept { return *shared_; }
    /// The vcpu_info Xen currently uses for `id`: the registered one, else
    /// shared_info's slot (id < 32), else the shared dummy (id >= 32).
    abi::vcpu_info& vcpu_info(VcpuId id);
    /// The port bound to `virq` on `id`, 0 if none.
    uint32_t virq_port(VcpuId id, abi::virq v) const;
    /// Raise a VIRQ on a vCPU as Xen would (no-op if unbound).
    void raise_virq(VcpuId id, abi::virq v);
    bool port_pending(uint32_t port) const;
    bool port_masked(uint32_t port) const;
    /// Status of a port as EVTCHNOP_status would report it.
    abi::evtchn_stat port_state(uint32_t port) const;

    // --- platform (platform.cpp) -------------------------------------------
    /// Everything written with console_io(CONSOLEIO_write).
    std::string console_output() const;
    /// Address registered with CALLBACKOP_register for `type`, 0 if none.
    uint64_t callback_address(abi::callback_type type) const;
    std::optional<uint64_t> hvm_param(abi::hvm_param index) const;
    /// What set_segment_base last set for `id`: the base for fs, gs_user and
    /// gs_kernel, the selector for gs_user_sel (0 if never set).
    uint64_t segment_base(VcpuId id, abi::segbase which) const;

    // --- fault injection and counters (dispatch.cpp) ----------------------
    void inject(const Fault& f);
    void clear_faults();
    /// Rules whose failures have not all happened yet.
    uint32_t faults_pending() const;
    /// Calls that reached the simulator (injected failures included).
    uint64_t calls(abi::hypercall h) const;
    uint64_t calls(abi::vcpuop op) const;
    uint64_t total_calls() const;
    void reset_counters();

private:
    struct VcpuState;
    struct PortState;
    struct FaultState {
        Fault rule;
        uint32_t seen = 0;
        uint32_t failed = 0;
    };
    struct alignas(4096) SharedPage {
        abi::shared_info info{};
    };

    using Lock = std::lock_guard<std::recursive_mutex>;

    // dispatch.cpp
    long dispatch(VcpuId caller, abi::hypercall nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);
    std::optional<Errc> take_fault(abi::hypercall nr, uint64_t a1, uint64_t a2);
    long multicall(VcpuId caller, uint64_t list, uint32_t n);
    // vcpu.cpp
    long vcpu_op(VcpuId caller, int32_t cmd, uint32_t id, uint64_t arg);
    long vcpu_initialise(VcpuState& v, uint64_t arg);
    long vcpu_up(VcpuState& v);
    long vcpu_down(VcpuId caller, VcpuState& v);
    long vcpu_is_up(VcpuState& v);
    bool others_down(const VcpuState& v) const;
    long vcpu_register_vcpu_info(VcpuId caller, VcpuState& v, uint64_t arg);
    long vcpu_get_physid(VcpuState& v, uint64_t arg);
    long vcpu_register_phys_area(VcpuState& v, uint64_t arg, bool runstate_area);
    void wake(VcpuState& v);
    VcpuState* find(uint32_t id);
    const VcpuState* find(uint32_t id) const;
    VcpuState& at(VcpuId id);
    const VcpuState& at(VcpuId id) const;
    // runstate.cpp
    void change_runstate(VcpuState& v, abi::runstate s);
    abi::vcpu_runstate_info runstate_snapshot(const VcpuState& v) const;
    RunstateWriter runstate_writer(const VcpuState& v) const;
    void write_runstate_area(const VcpuState& v);
    // time.cpp
    void init_time_scale();
    uint64_t tsc_at(const VcpuState& v, uint64_t t) const;
    TimeWriter time_writer(VcpuState& v);
    void write_time(VcpuState& v);
    // events.cpp
    long evtchn_op(VcpuId caller, int32_t cmd, uint64_t arg);
    long alloc_port();
    void set_pending(uint32_t port);
    void mark_events_pending(VcpuState& v);
    abi::vcpu_info& info_of(VcpuState& v);
    void send_virq(VcpuState& v, abi::virq virq);
    // lifecycle.cpp
    long suspend(uint64_t start_info);
    void restore_new_domain();
    long memory_op(uint32_t cmd, uint64_t arg);
    void write_wallclock();
    // sched.cpp
    long sched_op(VcpuId caller, int32_t cmd, uint64_t arg, uint64_t arg2);
    long set_timer_op(VcpuId caller, uint64_t timeout);
    long block(VcpuState& v);
    long poll(VcpuState& v, uint64_t arg);
    // timers.cpp
    void arm_singleshot(VcpuState& v, uint64_t deadline);
    void timer_fire(VcpuState& v);
    std::optional<uint64_t> next_timer(const VcpuState& v) const;
    /// Run timers up to `t` in time order; stop early (time at that event)
    /// once `stop` (if given) returns true. Returns true if stopped early.
    bool run_until(uint64_t t, const std::function<bool()>& stop = {});
    void periodic_resume(VcpuState& v);
    // platform.cpp
    long xen_version_op(int32_t cmd, uint64_t arg);
    long vm_assist(uint32_t cmd, uint32_t type);
    long console_io(int32_t cmd, uint64_t count, uint64_t buffer);
    long hvm_op(uint64_t op, uint64_t arg);
    long callback_op(int32_t cmd, uint64_t arg);
    long set_segment_base(VcpuId caller, uint32_t which, uint64_t base);

    Config cfg_;
    mutable std::recursive_mutex mu_;
    uint64_t now_;
    std::vector<std::unique_ptr<VcpuState>> vcpus_;
    std::unique_ptr<SharedPage> shared_page_;
    abi::shared_info* shared_;
    /// The old domains' shared_info pages, kept alive: a library may still
    /// point at one until it maps the new page.
    std::vector<std::unique_ptr<SharedPage>> retired_pages_;
    SuspendPlan plan_{};
    uint32_t suspends_ = 0;
    uint32_t restores_ = 0;
    uint64_t suspend_start_info_ = 0;
    /// Wall-clock ns at system time 0 (2023-11-14 and a bit, minus start_ns).
    uint64_t wall_at_zero_ns_ = 1'700'000'000'000'000'000;
    abi::vcpu_info dummy_info_{};
    std::vector<PortState> ports_;
    uint64_t vm_assist_ = 0;
    std::optional<abi::shutdown_reason> shutdown_;
    std::string console_;
    std::vector<std::pair<uint16_t, uint64_t>> callbacks_;
    std::vector<std::pair<uint32_t, uint64_t>> hvm_params_;
    uint32_t tsc_mul_ = 0;
    int8_t tsc_shift_ = 0;
    uint8_t pvclock_flags_ = 0;
    std::vector<FaultState> faults_;
    std::array<uint64_t, 64> hypercall_calls_{};
    bool in_multicall_ = false; ///< inside multicall(): a nested one is -EINVAL
    std::array<uint64_t, abi::vcpuop_count + 1> vcpuop_calls_{};
};

/// Makes `hv` the Hypervisor that hypercalls on this thread reach, acting as
/// vCPU `self`; the previous one (if any) is restored on destruction.
class Scope {
public:
    explicit Scope(Hypervisor& hv, VcpuId self = VcpuId{0}) noexcept;
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

private:
    Hypervisor* prev_hv_;
    VcpuId prev_vcpu_;
};

/// The active Hypervisor of this thread (nullptr if no Scope is open).
Hypervisor* active() noexcept;
/// Switch which vCPU this thread acts as (inside a Scope).
void set_current_vcpu(VcpuId id) noexcept;
/// The vCPU this thread acts as: usable as the library's CurrentVcpuFn.
VcpuId current_vcpu() noexcept;
/// The TSC as the current vCPU reads it (a TscFn for pvclock reads).
uint64_t rdtsc() noexcept;

} // namespace xen::sim
