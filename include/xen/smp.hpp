/// \file
/// Smp: the domain's vCPUs beyond the boot vCPU - bring-up (PV and PVH,
/// serial or parallel), hotplug, and IPIs with a small cross-vCPU call.
/// docs/xen-contracts.md, "vCPU lifecycle" has the contracts; docs/smp.md
/// walks through them.
///
/// Numbers: every call takes Xen's vcpu_id (VcpuId), the number every
/// hypercall takes; vCPU 0 is the boot vCPU (PV and PVH both start there).
/// Storage: each vCPU's SmpCpu in its VcpuSlot (through the Domain), plus
/// one SmpScratch for the initialise argument (a PV context is 5 KiB: too big
/// for a kernel stack). The vCPU count is the Domain's (Domain::discover).
///
/// Bring-up of one AP, all on the controller (normally the boot vCPU):
///   prepare(v): its vcpu_info placed in its slot (Domain::place_vcpu_info,
///     VCPUOP_register_vcpu_info; mandatory beyond XEN_LEGACY_MAX_VCPUS: Xen
///     refuses to initialise a PV vCPU >= 32 without it, and an HVM one would
///     share a dummy vcpu_info); evtchn_upcall_mask = 1 in the vcpu_info it
///     will use; the call IPI bound (EVTCHNOP_bind_ipi, delivered to that
///     vCPU); then the kernel's ap_prepare hook (runstate area, VIRQ_TIMER...).
///   start(v): the launch fields of the handshake, the PV or PVH context,
///     VCPUOP_initialise, VCPUOP_up.
///   await_online(v): poll the handshake (bounded) until the AP checks in.
/// bring_up(serial) does the three per AP; bring_up(parallel) prepares every
/// AP, 16 at a time (Domain::place_vcpu_info_many and
/// EventChannels::bind_ipi_many: one HYPERVISOR_multicall each per batch),
/// initialises every AP (PVH: 16 contexts per multicall,
/// Domain::initialise_many; PV: one at a time), ups them all in batches
/// (Domain::up_many: Domain::up_batch VCPUOP_ups per multicall), then
/// awaits them all.
///
/// On the AP: the stub at `entry_stub` marks ApStage::entered and calls the
/// kernel's ApEntryFn with the handshake; the kernel sets the vCPU up and
/// calls ap_online(). Its idle loop then calls service() after every
/// wake-up: that runs calls posted to it and, when asked to go offline,
/// parks it.
///
/// Hotplug: offline(v) asks the AP to park itself (a flag and an IPI); the
/// AP calls VCPUOP_down on itself (synchronous for the caller itself) and the
/// controller polls VCPUOP_is_up until Xen reports it down (bounded).
/// online() is VCPUOP_up: the AP resumes right after its own VCPUOP_down,
/// checks in again, and runs on. Never VCPUOP_initialise again: a vCPU stays
/// initialised after down, and Xen would answer -EEXIST.
///
/// Where each call may run: controller calls (prepare, start, await_online,
/// bring_up, offline, online, offline_remote) on one vCPU at a time, in
/// thread context; post/call/wait_call/send_ipi on any online vCPU;
/// ap_online, service, park_self on the AP itself, in thread context.
#pragma once

#include <cstdint>
#include <xen/kernel_hooks.hpp>
#include <xen/smp/context.hpp>
#include <xen/smp/cpu.hpp>
#include <xen/smp/handshake.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace xen {

class Domain;

/// Which APs get a vcpu_info in their slot.
enum class VcpuInfoPlacement : uint8_t {
    every_ap,      ///< all of them (Linux does the same since 2021)
    beyond_legacy, ///< only vCPUs >= 32; the others use their shared_info slot
};

/// What bring-up needs beyond the Domain: fixed for the life of the domain.
struct SmpConfig {
    PvBoot pv{};   ///< for a PV domain
    HvmBoot hvm{}; ///< for a PVH domain
    /// The AP entry stub (rip of every AP) and the kernel entry it calls.
    uint64_t entry_stub = 0;
    /// The kernel's AP entry, called by the stub with the AP's handshake.
    ApEntryFn ap_entry = nullptr;
    /// Which APs get a registered vcpu_info (op 10) before they start.
    VcpuInfoPlacement placement = VcpuInfoPlacement::every_ap;
};

/// Room for the VCPUOP_initialise arguments (Xen copies each during the call).
struct SmpScratch {
    /// PVH contexts per batched initialise in bring_up(parallel).
    static constexpr uint32_t hvm_batch_size = 16;
    union {
        abi::vcpu_guest_context pv; ///< a PV AP's initial context
        /// PVH, bring_up(parallel): one batch of initial contexts, sent in
        /// one multicall (Domain::initialise_many). 2 KiB, in the room a PV
        /// domain's context takes, so the scratch is no bigger.
        abi::vcpu_hvm_context hvm_batch[hvm_batch_size];
    };
    abi::vcpu_hvm_context hvm; ///< a PVH AP's initial context (prepare/start, serial)
};

/// How bring_up orders the work.
enum class BringUpMode : uint8_t {
    serial,   ///< prepare, start, await; then the next AP
    parallel, ///< prepare every AP, then start every AP, then await them all
};

/// What bring_up did.
struct BringUpReport {
    uint32_t online = 0;           ///< vCPUs online afterwards, the boot vCPU included
    uint32_t failed = 0;           ///< APs not online afterwards (see last_error per vCPU)
    uint64_t total_ns = 0;         ///< from the first prepare to the last check-in seen
    uint64_t prepare_phase_ns = 0; ///< parallel: preparing them all
    uint64_t start_phase_ns = 0;   ///< parallel: preparing, initialising and upping them all (then the wait)
    /// Xen system time when the call began: t = 0 of every vCPU's
    /// SmpCpu::timeline stamps from this bring-up.
    uint64_t start_ns = 0;
    Errc first_error = Errc{}; ///< the first AP's failure (Errc{} if none failed)
};

/// A posted call, to wait for.
struct CallTicket {
    VcpuId vcpu;  ///< the target of the call
    uint32_t seq; ///< its `posted` number in the target's mailbox
};

/// SMP over a Domain: bring-up of the APs (serial or parallel), hotplug
/// (offline/online, parking), IPIs and cross-CPU calls. One per kernel,
/// constant-initialised; every wait is bounded (WaitBound). docs/smp.md.
class Smp {
public:
    /// Not usable before init(); constant-initialised, so it can sit in .bss.
    constexpr Smp() noexcept = default;

    Smp(const Smp&) = delete;
    Smp& operator=(const Smp&) = delete;

    /// Take over the Domain's managed vCPUs (run after Domain::discover):
    /// the boot vCPU is online, every other is down. `domain` and `scratch`
    /// must outlive the object. Nothing is called yet. Errors:
    /// invalid_argument if the domain has no `frame_of` hook or its boot
    /// vCPU has no slot.
    Result<void> init(Domain& domain, const SmpConfig& config, SmpScratch& scratch) noexcept;

    /// vCPU `v`'s state (absent beyond the managed vCPUs).
    CpuState state(VcpuId v) const noexcept;
    /// vCPU `v`'s SMP part, for its handshake and figures (`v` managed).
    SmpCpu& part(VcpuId v) noexcept;
    /// vCPU `v`'s SMP part, read-only (`v` managed).
    const SmpCpu& part(VcpuId v) const noexcept;
    /// vCPUs under management (Domain::managed()).
    uint32_t count() const noexcept;
    /// vCPUs online now (the boot vCPU included).
    uint32_t online_count() const noexcept;
    /// The calling vCPU (Domain::self).
    VcpuId self() const noexcept;

    // --- bring-up (controller) ----------------------------------------------

    /// Get AP `v` ready to start (see the top of this header). Idempotent:
    /// a prepared vCPU returns at once, and a vcpu_info is registered once.
    /// Errors: vcpu_out_of_range; invalid_argument (the boot vCPU, or not
    /// down); register_vcpu_info's (-EINVAL, -EBUSY, -ENXIO, ...; for vCPU
    /// >= 32 the AP is then never started); bind_ipi's; the hook's (the IPI
    /// port is closed again).
    Result<void> prepare(VcpuId v) noexcept;
    /// Initialise and up prepared AP `v`. Errors: vcpu_out_of_range;
    /// already_initialised (started before: VCPUOP_initialise would answer
    /// -EEXIST, and is not called; an -EEXIST from Xen is reported the same
    /// way); invalid_argument (not prepared, or the ap_stack hook or boot
    /// state missing, or a context Xen would refuse); VCPUOP_initialise's and
    /// VCPUOP_up's errors (then it stays prepared, or initialised and down).
    Result<void> start(VcpuId v) noexcept;
    /// Wait until started AP `v` checks in. Errors: vcpu_out_of_range;
    /// invalid_argument (not starting or online); timed_out (it stays
    /// `starting`: a later call may still see it; the handshake's stage
    /// says how far it got).
    Result<void> await_online(VcpuId v, const WaitBound& bound = {}) noexcept;
    /// Bring every down AP online. Parallel: prepare all, initialise all,
    /// up all in multicall batches, then await all within one bound.
    /// Serial: each AP within its own bound.
    /// APs that fail do not stop the others. Per-vCPU errors are in
    /// part(v).last_error, times in part(v).bringup_ns and, step by step
    /// (prepare, up, check-in seen), in part(v).timeline.
    BringUpReport bring_up(BringUpMode mode, const WaitBound& bound = {}) noexcept;

    // --- on the AP ----------------------------------------------------------

    /// Check in: vCPU `self` is set up and serves calls. Stamps online_ns by
    /// its own clock, bumps the generation, stage online.
    void ap_online(VcpuId self) noexcept;
    /// What service() did.
    enum class Served : uint8_t { nothing, call, parked };
    /// On AP `self`, in thread context, after every wake-up: run a posted
    /// call; if asked to go offline, park (returns after it was brought back).
    Served service(VcpuId self) noexcept;
    /// True if a call or a park request waits for vCPU `self`: check it with
    /// upcalls off right before sleeping, so a wake-up is never missed.
    bool pending(VcpuId self) const noexcept;
    /// Take vCPU `self` down (VCPUOP_down on itself) until someone brings it
    /// back with online(); returns after the resume and the new check-in.
    /// Errors: not_current_vcpu (`self` is not the caller); last_vcpu (no
    /// other vCPU is up: Xen would power the domain off); VCPUOP_down's.
    Result<void> park_self(VcpuId self) noexcept;
    /// The two halves of park_self, for kernels that park elsewhere: up to
    /// and including VCPUOP_down, and what follows the resume.
    Result<void> park_begin(VcpuId self) noexcept;
    /// The second half: on `self` once VCPUOP_down has returned (it was
    /// brought up again), run the after_resume hook, then check in as online.
    void resume(VcpuId self) noexcept;

    // --- hotplug (controller) -----------------------------------------------

    /// Take online AP `v` offline: ask it to park itself, then poll
    /// VCPUOP_is_up until Xen reports it down. Errors: vcpu_out_of_range;
    /// last_vcpu (`v` is the caller and no other vCPU is online: Xen would
    /// power the domain off); invalid_argument (the caller itself - it
    /// cannot wait for its own park: use park_self - or not online/parking);
    /// unsupported (no IPI bound); timed_out (still up: it stays `parking`
    /// and a later offline() polls again).
    Result<void> offline(VcpuId v, const WaitBound& bound = {}) noexcept;
    /// The other way down: VCPUOP_down on `v` from the controller, then
    /// poll is_up. Xen stops it wherever it is (asynchronously: it may run a
    /// while after the call returns), so the AP resumes there on online().
    /// Errors as offline().
    Result<void> offline_remote(VcpuId v, const WaitBound& bound = {}) noexcept;
    /// Bring parked vCPU `v` back: VCPUOP_up, then wait for its check-in.
    /// Never initialises again. Errors: vcpu_out_of_range; invalid_argument
    /// (not parked or resuming); VCPUOP_up's; timed_out (stays resuming).
    Result<void> online(VcpuId v, const WaitBound& bound = {}) noexcept;

    // --- IPIs and calls (any online vCPU) -----------------------------------

    /// Notify vCPU `v`'s call IPI (EVTCHNOP_send): it wakes and services.
    /// Errors: vcpu_out_of_range; unsupported (no IPI bound); send's.
    Result<void> send_ipi(VcpuId v) noexcept;
    /// Post fn(arg) to run on vCPU `v` and wake it. Waits (bounded) while
    /// another caller's call occupies the mailbox. Errors: vcpu_out_of_range;
    /// invalid_argument (null fn); unsupported (not online, or no IPI);
    /// timed_out (mailbox stayed busy); send_ipi's (the call stays posted
    /// and runs at the vCPU's next wake-up).
    Result<CallTicket> post(VcpuId v, CallFn fn, void* arg, const WaitBound& bound = {}) noexcept;
    /// Wait until a posted call has returned. Errors: timed_out.
    Result<void> wait_call(CallTicket ticket, const WaitBound& bound = {}) noexcept;
    /// post + wait_call; on the caller's own vCPU a plain call.
    Result<void> call(VcpuId v, CallFn fn, void* arg, const WaitBound& bound = {}) noexcept;

    // --- across save and restore (docs/lifecycle.md) ------------------------

    /// The domain was restored into a new one and EventChannels::rebind_all
    /// ran: every call IPI follows its new port. Errors: port_not_bound (an
    /// IPI was not rebound; `*failed` names its vCPU, which can no longer
    /// be sent calls or park requests).
    Result<void> restored(VcpuId* failed = nullptr) noexcept;
    /// Bring back AP `v`, parked before a save, in the restored domain: the
    /// save stream carries only vCPUs that were up, so Xen has it down and
    /// not initialised (VCPUOP_up would answer -EINVAL). Initialise it
    /// afresh and wait for its check-in: it comes back through its entry,
    /// as at boot (its vcpu_info and call IPI are in place already), not
    /// from its VCPUOP_down; its after_resume hook does not run. Errors:
    /// vcpu_out_of_range; invalid_argument (the boot vCPU, or not parked);
    /// start()'s and await_online()'s.
    Result<void> restart(VcpuId v, const WaitBound& bound = {}) noexcept;
    /// PV: the cr3 APs start with from now on (after a restore the kernel's
    /// L4 has another machine frame). Controller only, no AP starting.
    void set_pv_cr3(uint64_t cr3) noexcept { config_.pv.cr3 = cr3; }

private:
    static void on_ipi(Port port, VcpuId vcpu, void* ctx) noexcept;
    Result<SmpCpu*> managed(VcpuId v) const noexcept;
    // start() in two halves: everything up to and including
    // VCPUOP_initialise (state starting), then the outcome of its VCPUOP_up.
    Result<void> launch(VcpuId v) noexcept;
    // launch() in parts, for the batched initialise pass: the checks, the
    // handshake's launch fields and the context (PV: into the scratch's,
    // PVH: into `hvm`); then what Xen answered to the initialise.
    Result<void> stage(SmpCpu& c, VcpuId v, abi::vcpu_hvm_context& hvm) noexcept;
    Result<void> initialised(SmpCpu& c, Errc e) noexcept;
    // bring_up(parallel)'s batched passes: prepare the `n` down APs `vs`
    // (vcpu_info and IPI ports in multicalls), and initialise the `n`
    // prepared PVH APs `vs` (contexts in multicalls). Each AP's outcome in
    // its SmpCpu (state, last_error); the first failure goes to `first`
    // if that is still Errc{}.
    void prepare_batch(const VcpuId* vs, uint32_t n, Errc& first) noexcept;
    void launch_batch(const VcpuId* vs, uint32_t n, Errc& first) noexcept;
    void upped(SmpCpu& c, Errc e, uint64_t at_ns) noexcept;
    template <class Done>
    Result<void> wait_until(const WaitBound& bound, Done done) noexcept;
    Result<void> poll_down(SmpCpu& c, const WaitBound& bound) noexcept;
    uint64_t now() noexcept;

    Domain* domain_ = nullptr;
    SmpConfig config_{};
    SmpScratch* scratch_ = nullptr;
};

} // namespace xen
