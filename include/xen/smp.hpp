// Smp: the domain's vCPUs beyond the boot vCPU - discovery, bring-up (PV and
// PVH, serial or parallel), hotplug, and IPIs with a small cross-CPU call.
// docs/xen-contracts.md, "vCPU lifecycle" has the contracts; docs/smp.md walks
// through them.
//
// Numbers: a *CPU* is the kernel's index (0 = the boot vCPU, then the other
// vCPUs in vcpu_id order); a *vCPU* is Xen's vcpu_id, what every hypercall
// takes (vcpu_of / cpu_of map between them). Storage: one SmpCpu per CPU,
// from the kernel (see xen/smp/cpu.hpp), plus one SmpScratch for the
// initialise argument (a PV context is 5 KiB: too big for a kernel stack).
//
// Bring-up of one AP, all on the controller (normally the boot vCPU):
//   prepare(cpu): VCPUOP_register_vcpu_info into the CPU's 64-byte aligned
//     Area (mandatory beyond XEN_LEGACY_MAX_VCPUS: Xen refuses to initialise
//     a PV vCPU >= 32 without it, and an HVM one would share a dummy
//     vcpu_info); evtchn_upcall_mask = 1 in the vcpu_info it will use; the
//     call IPI bound (EVTCHNOP_bind_ipi, delivered to that vCPU); then the
//     kernel's prepare hook (runstate area, VIRQ_TIMER, ...).
//   start(cpu): the launch fields of the handshake, the PV or PVH context,
//     VCPUOP_initialise, VCPUOP_up.
//   await_online(cpu): poll the handshake (bounded) until the AP checks in.
// bring_up(serial) does the three per AP; bring_up(parallel) prepares and
// starts every AP first, then awaits them all.
//
// On the AP: the stub at `entry_stub` marks ApStage::entered and calls the
// kernel's ApEntryFn with the handshake; the kernel sets the CPU up and calls
// ap_online(). Its idle loop then calls service() after every wake-up: that
// runs calls posted to it and, when asked to go offline, parks it.
//
// Hotplug: offline(cpu) asks the AP to park itself (a flag and an IPI); the
// AP calls VCPUOP_down on itself (synchronous for the caller itself) and the
// controller polls VCPUOP_is_up until Xen reports it down (bounded). online()
// is VCPUOP_up: the AP resumes right after its own VCPUOP_down, checks in
// again, and runs on. Never VCPUOP_initialise again: a vCPU stays
// initialised after down, and Xen would answer -EEXIST.
//
// Where each call may run: controller calls (discover, prepare, start,
// await_online, bring_up, offline, online, offline_remote) on one CPU at a
// time, in thread context; post/call/wait_call/send_ipi on any online CPU;
// ap_online, service, park_self on the AP itself, in thread context.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/events.hpp>
#include <xen/smp/context.hpp>
#include <xen/smp/cpu.hpp>
#include <xen/smp/handshake.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

/// The guest type: which context VCPUOP_initialise takes.
enum class SmpGuest : uint8_t {
    pv,  ///< vcpu_guest_context
    pvh, ///< vcpu_hvm_context, 64-bit mode
};

/// Which APs get a registered vcpu_info.
enum class VcpuInfoPlacement : uint8_t {
    every_ap,      ///< all of them, in SmpCpu storage (Linux does the same since 2021)
    beyond_legacy, ///< only vCPUs >= 32; the others use their shared_info slot
};

/// Where one CPU's stack and entry data are (from the kernel).
struct ApStack {
    uint64_t stack_top; ///< 16-byte aligned
    uint64_t arg;       ///< handed to the AP's entry in the handshake (e.g. its per-CPU block)
    uint64_t gs_base;   ///< PV: the kernel GS base Xen loads; PVH: unused
};

/// The kernel's hooks. `ctx` is passed back to each.
struct SmpHooks {
    void* ctx = nullptr;
    /// Required. Xen system time (ns) as the calling CPU reads it, on any
    /// CPU and in any context (its own pvclock record).
    uint64_t (*now_ns)(void* ctx) noexcept = nullptr;
    /// Required. The calling CPU's number (a per-CPU variable), any context.
    uint32_t (*this_cpu)(void* ctx) noexcept = nullptr;
    /// Required. The frame Xen knows kernel memory `p` by: PV the MFN (via
    /// the p2m), PVH the GFN.
    FrameNumber (*frame_of)(void* ctx, const void* p) noexcept = nullptr;
    /// Required for start(). CPU `cpu`'s stack and entry data.
    ApStack (*stack_of)(void* ctx, uint32_t cpu) noexcept = nullptr;
    /// Optional. Each step of a wait on the controller: yield the pCPU
    /// (SCHEDOP_yield), serve the controller's own mailbox, ...
    void (*relax)(void* ctx) noexcept = nullptr;
    /// Optional. More preparation of an AP on the controller before it
    /// starts: register its runstate area (op 5/14), bind its VIRQ_TIMER.
    /// An error fails prepare() (whatever the hook did is its to undo).
    Result<void> (*prepare)(void* ctx, uint32_t cpu, VcpuId vcpu) noexcept = nullptr;
    /// Optional. On the AP right before it parks (stop its timers) and right
    /// after it resumes (re-arm them).
    void (*before_park)(void* ctx, uint32_t cpu) noexcept = nullptr;
    void (*after_resume)(void* ctx, uint32_t cpu) noexcept = nullptr;
};

/// Everything fixed for the life of the domain.
struct SmpConfig {
    SmpGuest guest = SmpGuest::pv;
    /// The mapped shared_info page: vcpu_info slots of vCPUs below 32.
    abi::shared_info* shared = nullptr;
    /// Where the call IPIs are bound; nullptr: no IPIs (calls and offline
    /// are then refused with unsupported).
    EventChannels* events = nullptr;
    PvBoot pv{};   ///< for SmpGuest::pv
    HvmBoot hvm{}; ///< for SmpGuest::pvh
    /// The AP entry stub (rip of every AP) and the kernel entry it calls.
    uint64_t entry_stub = 0;
    ApEntryFn ap_entry = nullptr;
    VcpuInfoPlacement placement = VcpuInfoPlacement::every_ap;
    /// The vCPU that runs the kernel at boot (CPU 0): vCPU 0 for PV and PVH.
    VcpuId boot_vcpu{0};
    SmpHooks hooks{};
};

/// Room for one VCPUOP_initialise argument (Xen copies it during the call).
struct SmpScratch {
    abi::vcpu_guest_context pv;
    abi::vcpu_hvm_context hvm;
};

/// The most vCPUs discover() looks for by default. Xen 4.17 builds a PV
/// dom0 with 4096 (dom0_max_vcpus=4096 under QEMU) and caps HVM/PVH at 128
/// (HVM_MAX_VCPUS); the bound only keeps the probe finite.
inline constexpr uint32_t smp_max_probe = 4096;

/// How bring_up orders the work.
enum class BringUpMode : uint8_t {
    serial,   ///< prepare, start, await; then the next AP
    parallel, ///< prepare every AP, then start every AP, then await them all
};

/// What bring_up did.
struct BringUpReport {
    uint32_t online = 0;   ///< CPUs online afterwards, CPU 0 included
    uint32_t failed = 0;   ///< APs not online afterwards (see last_error per CPU)
    uint64_t total_ns = 0; ///< from the first prepare to the last check-in seen
    uint64_t prepare_phase_ns = 0; ///< parallel: preparing them all
    uint64_t start_phase_ns = 0;   ///< parallel: preparing and starting them all (then the wait)
    Errc first_error = Errc{};
};

/// A posted call, to wait for.
struct CallTicket {
    uint32_t cpu;
    uint32_t seq;
};

class Smp {
public:
    /// `cpus[0..nr_cpus)` is the per-CPU storage (CPU i in cpus[i]); it and
    /// `scratch` must outlive the object. Nothing is called yet.
    Smp(const SmpConfig& config, SmpCpu* cpus, uint32_t nr_cpus, SmpScratch& scratch) noexcept;

    Smp(const Smp&) = delete;
    Smp& operator=(const Smp&) = delete;

    // --- discovery --------------------------------------------------------

    /// Count the domain's vCPUs (VCPUOP_is_up from 0 until -ENOENT, for a
    /// domain of at most `limit` vCPUs: limit + 1 probes at most) and map
    /// CPUs to them: CPU 0 = boot_vcpu (online), then the others in vcpu_id
    /// order, as many as there is storage for. Returns the CPU count.
    /// Errors: what is_up answers other than -ENOENT; no_space if vCPU
    /// `limit` exists too; invalid_argument if the boot vCPU is not among
    /// them or hooks are missing.
    Result<uint32_t> discover(uint32_t limit = smp_max_probe) noexcept;
    /// CPUs under management (0 before discover).
    uint32_t count() const noexcept { return count_; }
    /// vCPUs the domain has (may exceed count() when storage is short).
    uint32_t domain_vcpus() const noexcept { return domain_vcpus_; }
    /// Xen's vcpu_id for CPU `cpu` (`cpu` < count()).
    VcpuId vcpu_of(uint32_t cpu) const noexcept;
    /// The CPU that is vCPU `vcpu`. Errors: vcpu_out_of_range.
    Result<uint32_t> cpu_of(VcpuId vcpu) const noexcept;
    /// The vcpu_info Xen uses for CPU `cpu`: its registered Area, else its
    /// shared_info slot (vCPU < 32). Null for a vCPU >= 32 without one.
    abi::vcpu_info* vcpu_info_of(uint32_t cpu) noexcept;
    /// CPU `cpu`'s state (absent beyond count()).
    CpuState state(uint32_t cpu) const noexcept;
    /// CPU `cpu`'s storage (`cpu` < count()), for its handshake and figures.
    SmpCpu& cpu(uint32_t cpu) noexcept { return cpus_[cpu]; }
    const SmpCpu& cpu(uint32_t cpu) const noexcept { return cpus_[cpu]; }
    /// CPUs online now (CPU 0 included).
    uint32_t online_count() const noexcept;
    /// The calling CPU (the this_cpu hook).
    uint32_t self() const noexcept;

    // --- bring-up (controller) ----------------------------------------------

    /// Get AP `cpu` ready to start (see the top of this header). Idempotent:
    /// a prepared CPU returns at once, and a vcpu_info is registered once.
    /// Errors: vcpu_out_of_range; invalid_argument (CPU 0, or not down);
    /// register_vcpu_info's (-EINVAL, -EBUSY, -ENXIO, ...; for vCPU >= 32
    /// the AP is then never started); bind_ipi's; the hook's (the IPI port
    /// is closed again).
    Result<void> prepare(uint32_t cpu) noexcept;
    /// Initialise and up prepared AP `cpu`. Errors: vcpu_out_of_range;
    /// already_initialised (started before: VCPUOP_initialise would answer
    /// -EEXIST, and is not called; an -EEXIST from Xen is reported the same
    /// way); invalid_argument (not prepared, or hooks or boot state missing,
    /// or a context Xen would refuse); VCPUOP_initialise's and VCPUOP_up's
    /// errors (then the CPU stays prepared, or initialised and down).
    Result<void> start(uint32_t cpu) noexcept;
    /// Wait until started AP `cpu` checks in. Errors: vcpu_out_of_range;
    /// invalid_argument (not starting or online); timed_out (the CPU stays
    /// `starting`: a later call may still see it; the handshake's stage
    /// says how far it got).
    Result<void> await_online(uint32_t cpu, const WaitBound& bound = {}) noexcept;
    /// Bring every down AP online. Parallel: prepare and start all, then
    /// await all within one bound. Serial: each AP within its own bound.
    /// APs that fail do not stop the others. Per-CPU errors are in
    /// cpu(i).last_error, times in cpu(i).bringup_ns.
    BringUpReport bring_up(BringUpMode mode, const WaitBound& bound = {}) noexcept;

    // --- on the AP ----------------------------------------------------------

    /// Check in: CPU `self` is set up and serves calls. Stamps online_ns by
    /// its own clock, bumps the generation, stage online.
    void ap_online(uint32_t self) noexcept;
    /// What service() did.
    enum class Served : uint8_t { nothing, call, parked };
    /// On AP `self`, in thread context, after every wake-up: run a posted
    /// call; if asked to go offline, park (returns after it was brought back).
    Served service(uint32_t self) noexcept;
    /// True if a call or a park request waits for CPU `self`: check it with
    /// upcalls off right before sleeping, so a wake-up is never missed.
    bool pending(uint32_t self) const noexcept;
    /// Take CPU `self` down (VCPUOP_down on itself) until someone brings it
    /// back with online(); returns after the resume and the new check-in.
    /// Errors: not_current_vcpu (`self` is not the calling CPU); last_vcpu
    /// (no other vCPU is up: Xen would power the domain off); VCPUOP_down's.
    Result<void> park_self(uint32_t self) noexcept;
    /// The two halves of park_self, for kernels that park elsewhere: up to
    /// and including VCPUOP_down, and what follows the resume.
    Result<void> park_begin(uint32_t self) noexcept;
    void resume(uint32_t self) noexcept;

    // --- hotplug (controller) -----------------------------------------------

    /// Take online AP `cpu` offline: ask it to park itself, then poll
    /// VCPUOP_is_up until Xen reports it down. Errors: vcpu_out_of_range;
    /// last_vcpu (`cpu` is the caller and no other CPU is online: Xen would
    /// power the domain off); invalid_argument (the caller itself - it
    /// cannot wait for its own park: use park_self - or not online/parking);
    /// unsupported (no event channels for the IPI); timed_out (still up:
    /// the CPU stays `parking` and a later offline() polls again).
    Result<void> offline(uint32_t cpu, const WaitBound& bound = {}) noexcept;
    /// The other way down: VCPUOP_down on `cpu` from the controller, then
    /// poll is_up. Xen stops it wherever it is (asynchronously: it may run a
    /// while after the call returns), so the AP resumes there on online().
    /// Errors as offline().
    Result<void> offline_remote(uint32_t cpu, const WaitBound& bound = {}) noexcept;
    /// Bring parked CPU `cpu` back: VCPUOP_up, then wait for its check-in.
    /// Never initialises again. Errors: vcpu_out_of_range; invalid_argument
    /// (not parked or resuming); VCPUOP_up's; timed_out (stays resuming).
    Result<void> online(uint32_t cpu, const WaitBound& bound = {}) noexcept;

    // --- IPIs and calls (any online CPU) ------------------------------------

    /// Notify CPU `cpu`'s call IPI (EVTCHNOP_send): it wakes and services.
    /// Errors: vcpu_out_of_range; unsupported (no IPI bound); send's.
    Result<void> send_ipi(uint32_t cpu) noexcept;
    /// Post fn(arg) to run on CPU `cpu` and wake it. Waits (bounded) while
    /// another caller's call occupies the mailbox. Errors: vcpu_out_of_range;
    /// unsupported (not online, or no IPI); timed_out (mailbox stayed busy);
    /// send_ipi's (the call stays posted and runs at the CPU's next wake-up).
    Result<CallTicket> post(uint32_t cpu, CallFn fn, void* arg, const WaitBound& bound = {}) noexcept;
    /// Wait until a posted call has returned. Errors: timed_out.
    Result<void> wait_call(CallTicket ticket, const WaitBound& bound = {}) noexcept;
    /// post + wait_call; on the caller's own CPU a plain call.
    Result<void> call(uint32_t cpu, CallFn fn, void* arg, const WaitBound& bound = {}) noexcept;

private:
    static void on_ipi(Port port, VcpuId vcpu, void* ctx) noexcept;
    Result<void> check_cpu(uint32_t cpu) const noexcept;
    void set_state(uint32_t cpu, CpuState s) noexcept;
    template <class Done>
    Result<void> wait_until(const WaitBound& bound, Done done) noexcept;
    Result<void> poll_down(uint32_t cpu, const WaitBound& bound) noexcept;
    bool other_vcpu_up(VcpuId self) noexcept;
    uint64_t now() noexcept;

    SmpConfig config_;
    SmpCpu* cpus_;
    uint32_t nr_cpus_;
    SmpScratch* scratch_;
    uint32_t count_ = 0;
    uint32_t domain_vcpus_ = 0;
};

} // namespace xen
