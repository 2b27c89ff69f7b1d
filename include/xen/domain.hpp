/// \file
/// Domain: the one object a kernel holds for its Xen domain.
///
/// It owns what every component shares: the guest kind, the kernel's hooks,
/// shared_info, the XENFEAT set, the vCPU count (discovered once), the
/// per-vCPU slots, the event channels and the system clock. Smp and
/// TimerDriver take a Domain and nothing else of the kernel's; the checks
/// and lookups they share (is this vCPU in range, which vCPU is calling,
/// where is its vcpu_info, may it go down) exist here once.
///
/// It is also the domain view of every VCPUOP: the same operations as the
/// raw hc:: wrappers (xen/hypercall/vcpu_op.hpp), plus what only the domain
/// knows: the vCPU count (vcpu_out_of_range beyond it), the calling vCPU
/// (set/stop_singleshot_timer act on the caller only) and whether any other
/// vCPU is up (down() refuses the last one: Xen would power the domain off).
///
/// Life: `constexpr` construction (a Domain in .bss needs no constructor to
/// run), then init() once on the boot vCPU, then discover(). Calls that read
/// per-vCPU state may run on any vCPU; init, discover and set_vcpu_count run
/// on one vCPU before the others start. docs/object-model.md.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/events.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/hypercall/xen_version.hpp>
#include <xen/kernel_hooks.hpp>
#include <xen/lifecycle.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>
#include <xen/time/clock.hpp>
#include <xen/time/wallclock.hpp>
#include <xen/vcpu_slot.hpp>

/// Everything of the C++ API: the object model (Domain, VcpuSlot,
/// KernelHooks), Smp, TimerDriver, EventChannels, the clocks, and
/// Result/Errc. docs/object-model.md is the map.
namespace xen {

/// The most vCPUs discover() probes for. Xen caps HVM/PVH domains at 128
/// (HVM_MAX_VCPUS) and PV ones far lower than this by default; the bound
/// only keeps the probe finite.
inline constexpr uint32_t max_probed_vcpus = 8192;

/// What the Domain is built from.
struct DomainConfig {
    /// PV or PVH: how Xen built this domain.
    GuestKind kind = GuestKind::pv;
    /// The mapped shared_info page (PV: from start_info; PVH: added to the
    /// physmap by the kernel). Must stay mapped.
    abi::shared_info* shared = nullptr;
    /// The XENFEAT set (XenFeatures::query()).
    XenFeatures features{};
    /// The kernel's hooks; `current` is required (Domain::init checks).
    KernelHooks hooks{};
};

/// Storage for a domain of up to `Vcpus` vCPUs and `Ports` event-channel
/// handler slots, for a kernel that keeps both in one static object.
template <uint32_t Vcpus, uint32_t Ports>
struct DomainStorage {
    static_assert(Vcpus > 0, "at least one vCPU");
    static_assert(Ports > 0 && Ports <= evtchn_max_ports, "the 2-level ABI has 4096 ports");
    VcpuSlot slots[Vcpus];  ///< slots[v] is vCPU v's
    EventSlot ports[Ports]; ///< ports[p] handles event-channel port p
};

/// The kernel's Xen domain: the one object every component reaches the
/// kernel, shared_info, the vCPU count and each vCPU's slot through, and
/// the 16 VCPUOPs with the checks that need the domain's view. One per
/// kernel, in static storage (constructs as a constant); init() once on the
/// boot vCPU. docs/object-model.md.
class Domain {
public:
    constexpr Domain() noexcept = default;
    Domain(const Domain&) = delete;
    Domain& operator=(const Domain&) = delete;

    /// Take the configuration and the kernel's storage: `slots[v]` is vCPU
    /// v's for v < nr_slots; `ports[p]` handles event-channel port p for
    /// p < nr_ports. Points each vCPU below 32 at its vcpu_info in
    /// shared_info (its clock record included). Makes no hypercall. Until
    /// discover() (or set_vcpu_count()) the vCPU count is taken to be
    /// nr_slots. Errors: invalid_argument (no shared_info, no `current`
    /// hook, no slots or ports, or init() ran already).
    Result<void> init(const DomainConfig& config, VcpuSlot* slots, uint32_t nr_slots, EventSlot* ports,
                      uint32_t nr_ports) noexcept;
    /// Same, over a DomainStorage.
    template <uint32_t Vcpus, uint32_t Ports>
    Result<void> init(const DomainConfig& config, DomainStorage<Vcpus, Ports>& storage) noexcept
    {
        return init(config, storage.slots, Vcpus, storage.ports, Ports);
    }

    /// Count the domain's vCPUs: VCPUOP_is_up from vCPU 0 until Xen answers
    /// -ENOENT (it does for every op on a vcpu_id it never created, and
    /// creates them densely from 0), probing at most vCPUs 0..limit.
    /// Returns the count. Errors: what is_up answers other than -ENOENT;
    /// no_space if vCPU `limit` exists too.
    Result<uint32_t> discover(uint32_t limit = max_probed_vcpus) noexcept;
    /// Set the count without probing (from the toolstack, from ACPI).
    void set_vcpu_count(uint32_t n) noexcept { vcpus_ = n; }

    /// vCPUs the domain has (after discover; nr_slots before).
    uint32_t vcpu_count() const noexcept { return vcpus_; }
    /// vCPUs the library can drive: those below both vcpu_count() and the
    /// number of slots.
    uint32_t managed() const noexcept { return vcpus_ < nr_slots_ ? vcpus_ : nr_slots_; }
    /// vcpu_out_of_range unless `v` is a vCPU of this domain.
    Result<void> check(VcpuId v) const noexcept;
    /// vCPU `v`'s slot, or vcpu_out_of_range if it is not a managed vCPU.
    Result<VcpuSlot*> slot(VcpuId v) noexcept;
    /// vCPU `v`'s slot; nullptr if it is not a managed vCPU.
    VcpuSlot* find(VcpuId v) noexcept { return v.value < managed() ? &slots_[v.value] : nullptr; }
    /// vCPU `v`'s slot, read-only; nullptr if it is not a managed vCPU.
    const VcpuSlot* find(VcpuId v) const noexcept { return v.value < managed() ? &slots_[v.value] : nullptr; }
    /// One layer's part of every managed slot (e.g. &VcpuSlot::timers).
    template <class Part>
    PerVcpu<Part> parts(Part VcpuSlot::*member) noexcept
    {
        return PerVcpu<Part>(slots_ != nullptr ? &(slots_[0].*member) : nullptr, sizeof(VcpuSlot), managed());
    }

    /// The calling vCPU (the `current` hook).
    VcpuId self() const noexcept { return hooks_.current(hooks_.ctx); }
    /// PV or PVH, as configured.
    GuestKind kind() const noexcept { return kind_; }
    /// The XENFEAT set given at init().
    XenFeatures features() const noexcept { return features_; }
    /// The mapped shared_info page (after a restore: the one mapped again).
    abi::shared_info& shared() noexcept { return *shared_; }
    /// The kernel's hooks, as given at init().
    const KernelHooks& hooks() const noexcept { return hooks_; }
    /// The domain's event channels (usable once init() has run).
    EventChannels& events() noexcept { return events_; }
    /// The domain's system clock: monotonic on and across vCPUs.
    SystemClock& clock() noexcept { return clock_; }
    /// The floor the clock's readers share (its publication count, for figures).
    const ClockFloor& clock_floor() const noexcept { return floor_; }

    /// The vcpu_info Xen uses for vCPU `v`: its slot's area once registered,
    /// else its slot in shared_info (vCPUs below 32). nullptr for a vCPU
    /// >= 32 without a registered area (Xen gives it a dummy until then),
    /// and beyond the managed vCPUs.
    abi::vcpu_info* vcpu_info(VcpuId v) noexcept;
    /// Register vCPU `v`'s slot area as its vcpu_info (VCPUOP_register_vcpu_info,
    /// with the frame_of hook). Once per vCPU: a registered area returns at
    /// once. Its clock then reads the new area's record. Errors:
    /// vcpu_out_of_range; invalid_argument (no frame_of hook); the op's
    /// (-EINVAL, -EBUSY, -ENXIO, and -EINVAL up to Xen 4.17 for another
    /// vCPU that is up).
    Result<void> place_vcpu_info(VcpuId v) noexcept;
    /// place_vcpu_info for the `n` vCPUs `vs[0..n-1]`, batched:
    /// `place_batch` VCPUOP_register_vcpu_info per HYPERVISOR_multicall (one
    /// guest-to-Xen transition, one VM exit on PVH, instead of one per
    /// vCPU), in the order given. `errors[i]` gets vCPU vs[i]'s own outcome:
    /// Errc{} (registered now, or already before: nothing is sent for it);
    /// vcpu_out_of_range, invalid_argument (no frame_of hook),
    /// area_misaligned or area_crosses_page, refused first; Xen's error for
    /// that entry. When the batch call itself fails, every entry of that
    /// batch gets its error, except -ENOSYS (HVM/PVH before Xen 4.16), where
    /// the batch falls back to one registration each. Returns how many of
    /// the `n` failed.
    uint32_t place_vcpu_info_many(const VcpuId* vs, uint32_t n, Errc* errors) noexcept;
    /// Registrations per multicall in place_vcpu_info_many (80 bytes of stack each).
    static constexpr uint32_t place_batch = 16;
    /// The kernel registered `v`'s slot area itself: take it as registered.
    /// Errors: vcpu_out_of_range.
    Result<void> adopt_vcpu_info(VcpuId v) noexcept;

    /// Xen system time (ns) on the calling vCPU: the now_ns hook if the
    /// kernel gave one, else SystemClock on the caller's own record (never
    /// below an earlier reading on any vCPU). If the record cannot be read
    /// (a vCPU without a vcpu_info, a record stuck mid-update) it returns
    /// the caller's last reading.
    uint64_t now() noexcept;
    /// Xen system time (ns) by the calling vCPU's own pvclock record: the
    /// time Xen runs this vCPU's single-shot timer by (NOW() of the pCPU it
    /// is on, which that record tracks). The timer driver's clock: now()
    /// follows the leading record of all vCPUs, which under load runs ahead
    /// of this one, and a deadline taken from it would fire late by that
    /// lead. Monotonic on this vCPU only. The now_ns hook, if the kernel gave
    /// one, replaces this clock too.
    uint64_t own_now() noexcept;
    /// The kernel-visible clock is Xen system time plus this offset (mod
    /// 2^64): 0 until the first restore into a new domain, then chosen so
    /// that the clock goes on from where it stopped (docs/lifecycle.md,
    /// "Time across the gap"). now() and own_now() include it.
    int64_t clock_offset() const noexcept { return __atomic_load_n(&offset_, __ATOMIC_ACQUIRE); }
    /// A time of the kernel-visible clock in Xen's system time, for a
    /// deadline given to Xen (single-shot timer, poll timeout): `t` minus
    /// the offset, 1 (long past: fires at once) if that would be below 0,
    /// saturated at 2^64-1.
    uint64_t to_xen_time(uint64_t t) const noexcept;
    /// The wall-clock time now: shared_info's base (the wall time at Xen
    /// system time 0, rewritten by Xen in a new domain) plus Xen's own
    /// system time, not the kernel-visible clock (they differ by the offset
    /// after a restore). Read afresh every call. Errors: busy_retry.
    Result<WallTime> wallclock_now() noexcept;
    /// Restores into a new domain so far.
    uint32_t restores() const noexcept { return restores_; }

    /// Suspend the domain for save, checkpoint or migration, and resume it
    /// (docs/lifecycle.md). On vCPU 0 in thread context, upcalls held off,
    /// no other vCPU inside the library. Parks every online AP, stops the
    /// caller's timers, calls SCHEDOP_shutdown(SHUTDOWN_suspend), then:
    /// - Xen returned 0 (a new domain): maps shared_info again, registers
    ///   vcpu_info, runstate and time areas again, re-enables the runstate
    ///   update flag, re-bases the clock (never lower than before),
    ///   restarts steal, re-installs the PVH upcall vector and callback
    ///   param, binds VIRQs and IPIs again (new ports followed everywhere),
    ///   stops the PV tick, re-arms pending timers, brings the APs back;
    /// - Xen returned 1 (cancelled): restarts the caller's timers and
    ///   brings the APs back; nothing is registered again.
    /// `report`, if given, says what happened and where a failure stopped.
    /// Errors: not_current_vcpu (not vCPU 0), invalid_argument (PV without
    /// remap_shared_info, PVH without frame_of), suspend_failed (nothing
    /// was suspended; what the sequence did was undone), resume_failed (a
    /// step after the hypercall failed: it stopped there; see
    /// docs/lifecycle.md, "When a step fails").
    Result<SuspendOutcome> suspend(const SuspendConfig& config, SuspendReport* report = nullptr) noexcept;
    /// For a kernel that made SCHEDOP_shutdown(SHUTDOWN_suspend) itself and
    /// got 0 back (a new domain): redo the library's part of the resumed
    /// path of suspend() (docs/lifecycle.md, "A kernel that suspends
    /// itself"). `before_ns` is the kernel-visible clock read right before
    /// its hypercall, no lower than any reading the kernel took (the clock
    /// goes on from it). On vCPU 0, upcalls held off, the kernel's
    /// shared_info mapped again (PV: the remap_shared_info hook returns it).
    /// Parks nothing and brings no AP back; `config.timers`, if given, is
    /// started again when it was running; start_info_mfn and before_suspend
    /// are not used. Errors: not_current_vcpu, invalid_argument (as
    /// suspend()), resume_failed (see the report).
    Result<void> resumed(const SuspendConfig& config, uint64_t before_ns, SuspendReport* report = nullptr) noexcept;

    /// One step of a bounded wait: the relax hook, else SCHEDOP_yield.
    void relax() noexcept;
    /// A line of diagnostics through the log hook: `what`, then (when
    /// `vcpu` names one) " vCPU <n>", then ": " and `detail` when given. No
    /// newline. Nothing happens without a log hook. Any context.
    void log(const char* what, const VcpuId* vcpu = nullptr, const char* detail = nullptr) noexcept;

    // --- the VCPUOPs, with the domain's checks (op numbers in vcpu_op.hpp) ----
    // Each refuses a `v` at or beyond vcpu_count() with vcpu_out_of_range,
    // then makes the hc:: call of the same op (docs/vcpuop.md has Xen's errors).

    /// Op 0, PV: hc::vcpu_initialise with a PV register context.
    Result<void> initialise(VcpuId v, const abi::vcpu_guest_context& ctx) noexcept;
    /// Op 0, PVH/HVM: hc::vcpu_initialise with an HVM context (32- or 64-bit).
    Result<void> initialise(VcpuId v, const abi::vcpu_hvm_context& ctx) noexcept;
    /// Op 0, PVH/HVM, for `n` vCPUs, batched: `initialise_batch`
    /// VCPUOP_initialises per HYPERVISOR_multicall (one guest-to-Xen
    /// transition, one VM exit on PVH, instead of one per vCPU), in the
    /// order given; vCPU vs[i] gets context ctxs[i], which Xen reads during
    /// the call. `errors[i]` gets its own outcome: Errc{}; vcpu_out_of_range
    /// or invalid_argument (a context hc::vcpu_initialise refuses), refused
    /// first, never sent; Xen's error for that entry (-EEXIST, -EINVAL, ...).
    /// When the batch call itself fails, every entry of that batch gets its
    /// error, except -ENOSYS (HVM/PVH before Xen 4.16), where the batch falls
    /// back to one initialise each. Returns how many of the `n` failed. (No
    /// PV form: a PV context is 5 KiB, and a PV hypercall costs no VM exit.)
    uint32_t initialise_many(const VcpuId* vs, const abi::vcpu_hvm_context* ctxs, uint32_t n, Errc* errors) noexcept;
    /// VCPUOP_initialises per multicall in initialise_many (64 bytes of stack each).
    static constexpr uint32_t initialise_batch = 16;
    /// Op 1: start initialised vCPU `v` (hc::vcpu_up); an up vCPU: no effect.
    Result<void> up(VcpuId v) noexcept;
    /// Op 1 for `n` vCPUs, batched: `up_batch` VCPUOP_ups per
    /// HYPERVISOR_multicall (one guest-to-Xen transition, one VM exit on
    /// PVH, instead of one per vCPU), in the order given. `errors[i]` gets
    /// vCPU `vs[i]`'s own outcome: Errc{} when it was upped, vcpu_out_of_range
    /// (refused first, never sent), or Xen's error for that entry. When the
    /// batch call itself fails, every entry of that batch gets its error,
    /// except -ENOSYS (a Xen without multicall for this guest type: before
    /// 4.16 for HVM/PVH), where the batch falls back to one hc::vcpu_up per
    /// vCPU. Returns how many of the `n` failed.
    uint32_t up_many(const VcpuId* vs, uint32_t n, Errc* errors) noexcept;
    /// VCPUOP_ups per multicall in up_many (64 bytes of stack each).
    static constexpr uint32_t up_batch = 16;
    /// Refuses with last_vcpu when no other vCPU is up: Xen would power the
    /// domain off (common_vcpu_op, VCPUOP_down). Costs VCPUOP_is_up on
    /// other vCPUs until one answers up (usually the first).
    Result<void> down(VcpuId v) noexcept;
    /// Op 3: whether Xen runs vCPU `v` (true) or holds it down (hc::vcpu_is_up).
    Result<bool> is_up(VcpuId v) noexcept;
    /// Op 4: a copy of vCPU `v`'s runstate times (hc::vcpu_get_runstate_info).
    Result<abi::vcpu_runstate_info> get_runstate_info(VcpuId v) noexcept;
    /// Op 5: Xen keeps `area` updated with `v`'s runstate (virtual address);
    /// if `area` is `v`'s slot area, the slot records it for restores.
    Result<void> register_runstate_memory_area(VcpuId v, Area<abi::vcpu_runstate_info>& area) noexcept;
    /// Op 6: a periodic VIRQ_TIMER every `period_ns` ns (at least 1 ms:
    /// period_too_short).
    Result<void> set_periodic_timer(VcpuId v, uint64_t period_ns) noexcept;
    /// Op 7: stop `v`'s periodic timer (PV vCPUs start with a 100 Hz one).
    Result<void> stop_periodic_timer(VcpuId v) noexcept;
    /// not_current_vcpu unless `v` is the caller (Xen: -EINVAL).
    Result<void> set_singleshot_timer(VcpuId v, uint64_t deadline_ns) noexcept;
    /// not_current_vcpu unless `v` is the caller (Xen: -EINVAL).
    Result<void> stop_singleshot_timer(VcpuId v) noexcept;
    /// Op 10: Xen uses `area` (in frame `frame`) as `v`'s vcpu_info; the raw
    /// op, not recorded in the slot (place_vcpu_info() is the usual way).
    Result<void> register_vcpu_info(VcpuId v, Area<abi::vcpu_info>& area, FrameNumber frame) noexcept;
    /// Op 11: send vCPU `v` an NMI. The kernel must take it whatever `v`
    /// is doing (docs/porting.md, "NMIs"). PVH: refused with vcpu_down
    /// unless VCPUOP_is_up says `v` runs (a down PVH vCPU would take it
    /// before its first instruction, with no IDT, and triple-fault); the
    /// kernel must not send it between VCPUOP_up and the AP's lidt either.
    /// PV: sent to a down vCPU too, which takes it at its first entry
    /// through PvBoot::nmi_callback. Errors: vcpu_out_of_range, vcpu_down,
    /// those of VCPUOP_is_up and VCPUOP_send_nmi.
    Result<void> send_nmi(VcpuId v) noexcept;
    /// Op 12: the APIC and ACPI ids of the pCPU `v` is pinned to (hardware
    /// domain only; else Xen's -EINVAL).
    Result<hc::PhysId> get_physid(VcpuId v) noexcept;
    /// Op 13: Xen keeps `area` updated as `v`'s secondary time record
    /// (virtual address); the slot records it to register again after a restore.
    Result<void> register_vcpu_time_memory_area(VcpuId v, Area<abi::vcpu_time_info>& area) noexcept;
    /// Op 14 (Xen 4.18+): as op 5 by guest-physical address `pa`; if `area`
    /// is `v`'s slot area, the slot records it for restores.
    Result<void> register_runstate_phys_area(VcpuId v, Area<abi::vcpu_runstate_info>& area, PhysAddr pa) noexcept;
    /// Op 15 (Xen 4.18+): as op 13 by guest-physical address `pa`; recorded
    /// in the slot for restores.
    Result<void> register_vcpu_time_phys_area(VcpuId v, Area<abi::vcpu_time_info>& area, PhysAddr pa) noexcept;

private:
    bool other_vcpu_up(VcpuId v) noexcept;
    uint64_t raw_now() noexcept;
    uint64_t raw_own_now() noexcept;
    Result<void> resume_new_domain(const SuspendConfig& config, SuspendReport& report, uint64_t before) noexcept;
    void bring_back(const SuspendConfig& config, SuspendReport& report, bool new_domain) noexcept;
    Result<void> check_suspend_config(const SuspendConfig& config, bool brings_back_aps) const noexcept;

    KernelHooks hooks_{};
    abi::shared_info* shared_ = nullptr;
    VcpuSlot* slots_ = nullptr;
    uint32_t nr_slots_ = 0;
    uint32_t vcpus_ = 0;
    GuestKind kind_ = GuestKind::pv;
    XenFeatures features_{};
    EventChannels events_{};
    ClockFloor floor_{};
    SystemClock clock_{floor_};
    int64_t offset_ = 0;
    uint32_t restores_ = 0;
};

} // namespace xen
