// The timer driver against a reference model, on the simulated Xen.
//
// One operation language drives three tests: the randomized model test
// (tests/unit/timer_model_test.cpp, >= 10^6 operations), the exhaustive
// small-scope test (every sequence up to length 6 over 3 timers), and the
// libFuzzer target (timer_fuzz.cpp, bytes -> operations).
//
// The reference is a sorted list per vCPU, ordered by (latest, arming
// order) as timer_queue.hpp documents. Every callback the
// driver runs is checked against it as it happens:
// - never early: deadline <= the handler's clock and <= Xen's NOW();
// - never twice: the timer must be armed in the model;
// - order kept: it must be the model's first timer of that vCPU;
// - right vCPU: the vCPU the model has it on.
// And between operations:
// - nothing due left behind: after a handler, the first timer is not due;
// - never lost: every started vCPU with timers either has a VIRQ_TIMER
//   pending or a single-shot deadline in Xen no later than its first
//   timer's latest time (after a "drop", which loses an event on purpose,
//   the vCPU's next idle() must restore this);
// - at the end (drain) every arming ran exactly once or was cancelled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sim/hypervisor.hpp>
#include <xen/domain.hpp>
#include <xen/time/timer_driver.hpp>

namespace timer_model {

/// What one operation does. `vcpu`, `timer` and `arg` are reduced modulo
/// what the harness has, so any byte values are valid.
enum class OpKind : uint8_t {
    arm,     ///< arm `timer` on `vcpu` at now + delta(arg), slack(arg), re-arms on fire(arg)
    cancel,  ///< cancel `timer` on `vcpu`
    advance, ///< move virtual time by step(arg); Xen fires timers, events coalesce
    tick,    ///< advance, then deliver on every vCPU
    deliver, ///< run `vcpu`'s upcall (dispatch its pending events)
    early,   ///< a VIRQ_TIMER on `vcpu` with nothing behind it (spurious / early / periodic)
    drop,    ///< lose `vcpu`'s pending VIRQ_TIMER (clear the bit without an upcall)
    etime,   ///< the next set_singleshot_timer of `vcpu` answers -ETIME
    idle,    ///< `vcpu` idles (driver idle: SCHEDOP_block in the sim), then its upcall runs
    down,    ///< `vcpu` (not 0) stops its driver and goes down (VCPUOP_down on itself)
    up,      ///< `vcpu` comes back (VCPUOP_up from vCPU 0), starts its driver, takes its upcall
    adopt,   ///< `vcpu` adopts the timers of down vCPU (arg)
    count,
};

struct Op {
    OpKind kind;
    uint8_t vcpu;
    uint8_t timer;
    uint8_t arg;
};

/// Bytes per operation in decode().
inline constexpr size_t op_bytes = 4;

/// Four bytes to an operation (the fuzzer's and the model test's encoding).
Op decode(const uint8_t* bytes) noexcept;

struct Options {
    xen::sim::Version version = xen::sim::xen_4_17_7;
    uint64_t timer_slop_ns = 0;
    uint32_t vcpus = 3;   ///< 1..4
    uint32_t timers = 16; ///< per harness, shared by all vCPUs
    /// The clock hook reads pvclock through the simulated TSC (which may
    /// read a few ns behind Xen's NOW(), as on real hardware) instead of
    /// Xen's NOW() exactly.
    bool pvclock = true;
    uint64_t max_delta_ns = 4'000'000'000;
    uint32_t max_expiries_per_event = 1024;
};

/// Totals over a harness's life.
struct Totals {
    uint64_t ops = 0;
    uint64_t arms = 0;
    uint64_t fires = 0;
    uint64_t cancels = 0;
    uint64_t refused = 0; ///< not_current_vcpu answers the model expected
};

class Harness {
public:
    explicit Harness(const Options& options);
    ~Harness();
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    /// Do one operation and check the invariants that must hold after it.
    void apply(const Op& op);
    /// Let everything run out: bring every vCPU up, clear faults, idle
    /// until no timer is armed, and check each arming ran exactly once.
    void drain();

    bool ok() const noexcept { return failure_count_ == 0; }
    uint64_t failure_count() const noexcept { return failure_count_; }
    /// The first few failures, as readable lines (with the op count).
    const std::vector<std::string>& failures() const noexcept { return failures_; }
    const Totals& totals() const noexcept { return totals_; }
    xen::TimerDriver& driver() noexcept { return *driver_; }
    xen::sim::Hypervisor& hypervisor() noexcept { return *hv_; }

private:
    struct Slot;
    struct Entry {
        Slot* slot;
        uint64_t deadline;
        uint64_t latest;
        uint64_t seq;
    };
    struct Vcpu {
        std::vector<Entry> model; // sorted by (latest, seq)
        uint64_t next_seq = 0;
        xen::Port port{0};
        bool up = true;
        bool started = true;
        bool dropped = false; // an event was lost on purpose: idle() must recover
    };

    static uint64_t clock_hook(void* ctx) noexcept;
    static void on_fire(xen::Timer& t, xen::VcpuId self, uint64_t now, void* ctx) noexcept;
    void fired(Slot& s, uint32_t vcpu, uint64_t now);

    void act_as(uint32_t vcpu);
    void do_arm(uint32_t vcpu, Slot& s, uint8_t arg);
    void do_cancel(uint32_t vcpu, Slot& s);
    void do_down(uint32_t vcpu);
    void do_up(uint32_t vcpu);
    void do_adopt(uint32_t vcpu, uint32_t from);
    void do_idle(uint32_t vcpu);
    void upcall(uint32_t vcpu);
    void model_insert(uint32_t vcpu, Slot& s, uint64_t deadline, uint64_t slack);
    bool model_remove(Slot& s);
    int model_vcpu_of(const Slot& s) const;
    uint64_t clock(uint32_t vcpu);
    bool virq_pending(uint32_t vcpu) const;
    void check_nothing_due(uint32_t vcpu);
    void check_live();
    void fail(const std::string& what);

    Options opt_;
    std::unique_ptr<xen::sim::Hypervisor> hv_;
    std::unique_ptr<xen::sim::Scope> scope_;
    std::unique_ptr<xen::DomainStorage<4, 256>> storage_;
    std::unique_ptr<xen::Domain> domain_;
    std::unique_ptr<xen::TimerDriver> driver_;
    std::vector<Vcpu> vcpus_;
    std::vector<std::unique_ptr<Slot>> slots_;
    Totals totals_;
    std::vector<std::string> failures_;
    uint64_t failure_count_ = 0;
    bool in_upcall_ = false;
    Op recent_[16] = {}; // the last operations, shown with the first failure
};

} // namespace timer_model
