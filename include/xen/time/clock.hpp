/// \file
/// SystemClock: Xen system time that never runs backwards, neither on one
/// vCPU nor across vCPUs, at a cost that does not grow when vCPUs read at once.
///
/// Why more than pvclock_read
/// (docs/xen-contracts.md, "Clock skew between vCPUs"): each vCPU's
/// vcpu_time_info is written by Xen from the pCPU it last ran on, and the
/// records of different pCPUs disagree by their calibration error. Without
/// XEN_PVCLOCK_TSC_STABLE_BIT (stock Xen sets it only with clocksource=tsc)
/// vCPU A can read 1005 and vCPU B, after seeing A's result, 1001.
///
/// Linux keeps one global last value and cmpxchg's it on every read, so the
/// cache line moves between readers on every read. We publish a *record*
/// instead of a value: the domain's ClockFloor holds one pvclock record (the
/// leading one), and a read returns the floor record evaluated at the
/// reader's own TSC. A vCPU whose own record runs ahead of the floor
/// publishes its record (anchored at the TSC of publication); after that its
/// own record and the floor agree, so it does not publish again until Xen
/// rewrites a record. Readers only read the floor's line; it is written when
/// the lead changes, not on every read.
///
/// Readers never wait for a publisher: Xen can preempt a vCPU in the middle
/// of a publication for a whole time slice. The floor keeps two record slots
/// (the publisher fills the idle one, then flips), and a reader that finds a
/// publication under way uses the current slot and raises the floor's
/// `bound` to what it returns; every reader takes the bound into account.
/// docs/time.md has the proof and its one assumption: the guest TSC is one
/// clock across the domain's vCPUs.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/arch/x86.hpp>
#include <xen/support/result.hpp>
#include <xen/time/pvclock.hpp>

namespace xen {

/// A record within this many ns above the floor follows the floor instead
/// of publishing: anchoring a record at a new TSC changes its rounding by a
/// nanosecond or two, and that must not look like a new lead.
inline constexpr uint64_t clock_snap_ns = 32;
/// A floor this far ahead of a vCPU's own record (a record Xen has since
/// corrected) is slewed back: re-published 1/2^clock_slew_shift slower, so
/// Xen's records catch up without the clock ever stepping back.
inline constexpr uint64_t clock_slew_after_ns = 20'000;
/// The slew rate: a slewed record runs 1/2^12 (about 244 ppm) slow.
inline constexpr int clock_slew_shift = 12;
/// The longest follow window, in TSC ticks (about 6 s at 3 GHz; Xen
/// rewrites a record at least once a second).
inline constexpr uint64_t clock_follow_max_ticks = uint64_t{1} << 34;
/// The shortest follow window worth keeping, in TSC ticks.
inline constexpr uint64_t clock_follow_min_ticks = uint64_t{1} << 14;

/// One of the floor's two record slots.
struct ClockFloorSlot {
    uint64_t tsc_timestamp;     ///< the TSC at which the record reads system_time
    uint64_t system_time;       ///< Xen system time (ns) at tsc_timestamp
    uint32_t tsc_to_system_mul; ///< ns per TSC tick, 32.32 fixed point, applied after tsc_shift
    int8_t tsc_shift;           ///< TSC ticks are shifted left by this first (right if negative)
    uint8_t slewing;            ///< the record is slowed to converge back to Xen's records
    uint8_t pad[2];             ///< zero
};

/// The domain-wide floor: one per domain, zero-initialised, shared by every
/// vCPU's SystemClock. Two cache lines: the records, written only by a vCPU
/// that takes the lead; and the bound, written by readers that meet a
/// publication under way (or by every reading, with share_every_reading),
/// so that those writes do not take the records' line from other readers.
struct alignas(64) ClockFloor {
    /// Bit 0: a vCPU is publishing. Bits 1..63: the generation (publications
    /// so far); slot[generation & 1] is the current record.
    uint64_t word;
    /// The two records: one current, one being written by the next publication.
    ClockFloorSlot slot[2];
    /// No reading may be below this: what readers returned while a
    /// publication was under way (they used the record being replaced).
    alignas(64) uint64_t bound;

    /// Publications so far.
    uint64_t generation() const noexcept { return __atomic_load_n(&word, __ATOMIC_ACQUIRE) >> 1; }
    /// The current record is a slewed one (diagnostics and tests).
    bool slewing() const noexcept { return __atomic_load_n(&slot[generation() & 1].slewing, __ATOMIC_ACQUIRE) != 0; }
};
static_assert(sizeof(ClockFloor) == 128, "the records' line and the bound's line");

/// One vCPU's clock state: its own vcpu_time_info and what it last returned.
/// The kernel places one per vCPU (static array or per-CPU memory); only
/// that vCPU reads the clock through it.
struct alignas(64) ClockCpu {
    /// The vCPU's vcpu_time_info: its vcpu_info's `time`, or the secondary area.
    const volatile abi::vcpu_time_info* record = nullptr;
    /// The last time this vCPU's clock returned, ns (no later reading is lower).
    uint64_t last_ns = 0;
    /// 1 + the version of the record whose XEN_PVCLOCK_GUEST_STOPPED was
    /// reported; 0 before any. (Zero-initialised state: a static array of
    /// ClockCpu, or of VcpuSlot, then sits in .bss, not in the image.)
    uint64_t stopped_version = 0;
    /// The follow window (SystemClock::read, docs/time.md "The follow
    /// window"): while the own record has version follow_version and the
    /// floor's word is follow_word, a reading whose TSC t has
    /// t - follow_tsc < follow_ticks is decided by the floor alone. Set by
    /// the read itself; zero (the initial state) is an empty window.
    uint64_t follow_word = 0;
    uint64_t follow_tsc = 0;     ///< the window's first TSC
    uint64_t follow_ticks = 0;   ///< the window's length in TSC ticks; 0: no window
    uint64_t follow_stamp = 0;   ///< the own record's tsc_timestamp then (with the version: no ABA)
    uint32_t follow_version = 0; ///< the own record's version the window was found for
    uint8_t follow_stable = 0;   ///< that record's XEN_PVCLOCK_TSC_STABLE_BIT
    uint8_t follow_busy = 0;     ///< a window is being written (a read nested in it finds none)
};
static_assert(sizeof(ClockCpu) == 64, "one cache line per vCPU");

/// One reading of SystemClock.
struct ClockReading {
    uint64_t ns;        ///< Xen system time; never below an earlier reading on any vCPU
    bool tsc_stable;    ///< the record carried XEN_PVCLOCK_TSC_STABLE_BIT
    bool guest_stopped; ///< first read of a record flagged XEN_PVCLOCK_GUEST_STOPPED: the
                        ///< domain was paused; time jumped, watchdogs should be reset
};

// SystemClock's slow paths (settle, publish_floor): never inlined into the
// read, and with GCC never cloned either, so that the one weak copy the link
// keeps serves every caller (an IPA-SRA clone is local to its translation
// unit: one copy per unit that reads the clock). Clang does not know
// noclone and makes no such clones.
/// \cond INTERNAL
#if defined(__clang__)
#define XENVCPU_CLOCK_SLOW_PATH [[gnu::noinline]]
#else
#define XENVCPU_CLOCK_SLOW_PATH [[gnu::noinline, gnu::noclone]]
#endif
/// \endcond

namespace detail {

inline constexpr uint64_t floor_publishing = 1;

/// pvclock_time_at, out of line: the clock's slow paths call it rather
/// than inline its long form at every use.
XENVCPU_CLOCK_SLOW_PATH inline uint64_t time_at(const PvclockRecord& r, uint64_t tsc) noexcept
{
    return pvclock_time_at(r, tsc);
}

/// The target's TSC source for SystemClock::read: lfence;rdtsc. A named
/// type, not a lambda: every translation unit then instantiates the same
/// out-of-line settle() and publish_floor(), and the link keeps one copy
/// of each (a lambda's type is local to its unit, and so were the copies).
struct OrderedTsc {
    /// lfence;rdtsc.
    uint64_t operator()() const noexcept { return arch::rdtsc_ordered(); }
};

/// Raise the floor's bound to at least `v` (lock-free: a failed exchange
/// means another reader raised it).
inline void raise_bound(ClockFloor& f, uint64_t v) noexcept
{
    uint64_t b = __atomic_load_n(&f.bound, __ATOMIC_RELAXED);
    while (b < v && !__atomic_compare_exchange_n(&f.bound, &b, v, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
}

/// Take the lead: if the floor is still at `word` (not publishing), lock it,
/// read the TSC, and fill the idle slot with `own` anchored at that TSC,
/// never below what the current record gives there; then flip. With `slew`
/// the new record keeps the current record's value and runs
/// 2^-clock_slew_shift slower than `own`. False if another vCPU got there
/// first. Readers do not wait for this: see SystemClock::read.
template <class TscFn>
XENVCPU_CLOCK_SLOW_PATH bool publish_floor(ClockFloor& f, uint64_t word, const PvclockRecord& own, TscFn& tsc,
                                           bool slew) noexcept
{
    uint64_t expected = word;
    if (!__atomic_compare_exchange_n(&f.word, &expected, word | floor_publishing, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_RELAXED))
        return false;
    // The TSC after the lock is visible (a locked instruction, then lfence
    // in tsc()): a reader that found the floor unlocked read its TSC before
    // this, so the current record gave it at most old(tp) and the new
    // record starts at or above that. Readers that find the lock raise the
    // bound instead.
    const uint64_t tp = tsc();
    const uint64_t gen = word >> 1;
    const ClockFloorSlot& cur = f.slot[gen & 1];
    const PvclockRecord old{cur.tsc_timestamp, cur.system_time, cur.tsc_to_system_mul, cur.tsc_shift, 0};
    const uint64_t old_ns = time_at(old, tp);
    const uint64_t own_ns = time_at(own, tp);
    uint64_t base = own_ns > old_ns ? own_ns : old_ns;
    uint32_t mul = own.tsc_to_system_mul;
    if (slew) {
        base = old_ns;
        mul -= mul >> clock_slew_shift;
    }
    // The idle slot: no reader uses it (one that still reads it from two
    // flips ago sees the generation move and retries).
    ClockFloorSlot& next = f.slot[(gen + 1) & 1];
    __atomic_store_n(&next.tsc_timestamp, tp, __ATOMIC_RELEASE);
    __atomic_store_n(&next.system_time, base, __ATOMIC_RELEASE);
    __atomic_store_n(&next.tsc_to_system_mul, mul, __ATOMIC_RELEASE);
    __atomic_store_n(&next.tsc_shift, own.tsc_shift, __ATOMIC_RELEASE);
    __atomic_store_n(&next.slewing, static_cast<uint8_t>(slew ? 1 : 0), __ATOMIC_RELEASE);
    __atomic_store_n(&f.word, (gen + 1) << 1, __ATOMIC_RELEASE); // flip and unlock
    return true;
}

/// The length of follow()'s window from `t` (0: none).
inline uint64_t follow_ticks(const PvclockRecord& own, const PvclockRecord& fl, uint64_t t, bool slewing) noexcept
{
    const uint64_t d_own = t - own.tsc_timestamp;
    const uint64_t d_fl = t - fl.tsc_timestamp;
    // Short form at t and all through the window: both distances start in
    // [0, 2^62) and grow by at most clock_follow_max_ticks.
    if (!short_form(own.tsc_shift, own.system_time) || !short_form(fl.tsc_shift, fl.system_time) ||
        ((d_own | d_fl) >> 62) != 0)
        return 0;
    constexpr int64_t rounding = 3;
    const auto fits = [&](uint64_t x) {
        const uint64_t o = short_time_at(own.system_time, own.tsc_to_system_mul, own.tsc_shift, d_own + x);
        const uint64_t f = short_time_at(fl.system_time, fl.tsc_to_system_mul, fl.tsc_shift, d_fl + x);
        const int64_t gap = static_cast<int64_t>(o - f); // own ahead of the floor by this
        return gap + rounding <= static_cast<int64_t>(clock_snap_ns) &&
               (slewing || -gap + rounding <= static_cast<int64_t>(clock_slew_after_ns));
    };
    // x = 0 first (the window's start), then ever shorter windows.
    for (uint64_t x = 0;; x = x == 0 ? clock_follow_max_ticks : x >> 1) {
        const bool ok = fits(x);
        if (x == 0 ? !ok : ok)
            return x;
        if (x != 0 && x <= clock_follow_min_ticks)
            return 0;
    }
}

/// Find the follow window for a plain reading at TSC `t` (own record `own`
/// of version `version`, floor record `fl` of word `word`; no publication
/// under way, no unusual flag). The window is [t, t + W) for the largest W
/// tried at which the floor alone decides every reading: own(x) <= F(x) +
/// clock_snap_ns and, unless the floor slews, F(x) <= own(x) +
/// clock_slew_after_ns, for every x in it. Both records are floor(linear)
/// there to within 2 ns (docs/time.md, "The follow window"), so their gap
/// is within 3 ns of the larger gap at the two ends, and the ends are all
/// that is checked.
XENVCPU_CLOCK_SLOW_PATH inline void follow(ClockCpu& cpu, const PvclockRecord& own, const PvclockRecord& fl,
                                           uint32_t version, uint64_t word, uint64_t t, bool slewing) noexcept
{
    // A read from an interrupt or NMI handler on this vCPU may land in the
    // middle of this. It must not use a half-written window (the length is
    // zeroed first and set last) nor write one of its own in between (the
    // busy flag), or the window's fields could come from two calls. Same
    // vCPU, so compiler fences order it.
    if (cpu.follow_busy != 0)
        return;
    __atomic_store_n(&cpu.follow_busy, uint8_t{1}, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&cpu.follow_ticks, uint64_t{0}, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    cpu.follow_version = version;
    cpu.follow_stamp = own.tsc_timestamp;
    cpu.follow_word = word;
    cpu.follow_tsc = t;
    cpu.follow_stable = (own.flags & abi::pvclock_tsc_stable) != 0 ? 1 : 0;
    const uint64_t ticks = follow_ticks(own, fl, t, slewing);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&cpu.follow_ticks, ticks, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&cpu.follow_busy, uint8_t{0}, __ATOMIC_RELAXED);
}

} // namespace detail

/// Xen system time in ns for a guest kernel, monotonic on each vCPU and
/// across vCPUs (a reading taken after seeing another vCPU's reading is
/// never smaller). One SystemClock per domain (it only points at the
/// floor); per-vCPU state lives in the caller's ClockCpu.
class SystemClock {
public:
    /// Never returns less than an earlier reading on the same vCPU.
    static constexpr bool monotonic = true;
    /// Never returns less than a reading another vCPU took before (causally).
    static constexpr bool monotonic_across_vcpus = true;
    /// Callable with event upcalls masked and from the upcall handler: it
    /// takes no lock and never waits for another vCPU (a publisher that Xen
    /// preempted holds nobody up).
    static constexpr bool irq_safe = true;
    /// Callable from an NMI handler: an NMI that interrupted this vCPU in
    /// the middle of a read or a publication reads the current floor slot
    /// like any other reader.
    static constexpr bool nmi_safe = true;
    /// Must run on the vCPU whose ClockCpu it is given (it reads that vCPU's
    /// record with that vCPU's TSC).
    static constexpr bool own_vcpu_only = true;

    /// `floor` must outlive the clock and be shared by every vCPU.
    constexpr explicit SystemClock(ClockFloor& floor) noexcept : floor_(&floor) {}

    /// For a guest whose TSC may not be one clock across its vCPUs: a PV
    /// dom0 on a host whose TSCs are out of sync (Xen's tsc_set_info gives a
    /// PV hardware domain native rdtsc, vtsc = 0, whatever the host; other
    /// domains get an emulated TSC when X86_FEATURE_TSC_RELIABLE is clear;
    /// docs/time.md, "The TSC assumption"). With `shared` every reading is also written to the
    /// floor's bound, so a later reading on any vCPU is at least as large
    /// whatever its TSC says; reads from several vCPUs then contend for that
    /// cache line as they do in Linux. Set it before the vCPUs read, on the
    /// SystemClock they all use. Off by default.
    constexpr void share_every_reading(bool shared) noexcept { share_every_reading_ = shared; }
    /// Whether share_every_reading(true) is in force.
    constexpr bool shares_every_reading() const noexcept { return share_every_reading_; }

    /// Read the time on the calling vCPU, whose state is `cpu`, with TSC
    /// source `tsc` (lfence;rdtsc on the target; tests inject theirs).
    /// XEN_PVCLOCK_TSC_STABLE_BIT on the record read is reported but takes
    /// the same path: with agreeing records the floor is only read, never
    /// written, so the path costs what a stable-only path would; skipping
    /// the floor would let a reading taken under the bit undercut one taken
    /// before the bit was set (docs/time.md, "Why no separate stable path").
    /// Errors: busy_retry after seqlock_max_attempts inconsistent reads (a
    /// writer left the record's version odd, or floor publications kept
    /// finishing during the read); invalid_argument if cpu.record is null.
    template <class TscFn>
    [[gnu::always_inline]] Result<ClockReading> read(ClockCpu& cpu, TscFn&& tsc) noexcept
    {
        // The inline part is the follow window only (docs/time.md, "The
        // follow window"): neither record changed since a reading found
        // that, for TSCs in the window, the own record can neither lead the
        // floor nor trail it far enough to slew. Such a reading returns the
        // floor evaluated at its TSC; of the own record it loads only the
        // version and stamp. Everything else (a new record, a publication,
        // the window ended, a reading held up by the bound) is read_full,
        // out of line, with the same result and effects.
        const volatile abi::vcpu_time_info* const ti = cpu.record;
        // In a local: every acquire load below would make the compiler
        // fetch the member again, one more load in front of each field.
        ClockFloor& fl = *floor_;
        if (ti != nullptr) [[likely]] {
            // All loaded before the TSC: lfence waits for them, and the
            // arithmetic after the TSC is the only serial part.
            const uint32_t v1 = __atomic_load_n(&ti->version, __ATOMIC_ACQUIRE);
            const uint64_t stamp = __atomic_load_n(&ti->tsc_timestamp, __ATOMIC_ACQUIRE);
            const uint64_t w1 = __atomic_load_n(&fl.word, __ATOMIC_ACQUIRE);
            // Scalars, not a PvclockRecord copy: the compiler keeps a
            // struct on the stack, and reading a field back after the TSC
            // then waits on store forwarding.
            const ClockFloorSlot& slot = fl.slot[(w1 >> 1) & 1];
            const uint64_t floor_ts = __atomic_load_n(&slot.tsc_timestamp, __ATOMIC_ACQUIRE);
            const uint64_t floor_base = __atomic_load_n(&slot.system_time, __ATOMIC_ACQUIRE);
            const uint32_t floor_mul = __atomic_load_n(&slot.tsc_to_system_mul, __ATOMIC_ACQUIRE);
            const int8_t floor_shift = __atomic_load_n(&slot.tsc_shift, __ATOMIC_ACQUIRE);
            const uint64_t bound = __atomic_load_n(&fl.bound, __ATOMIC_ACQUIRE);
            // What the reading cannot be below, known before the TSC.
            const uint64_t lower = bound > cpu.last_ns ? bound : cpu.last_ns;
            // An odd version never matches: windows are found for even ones.
            if (v1 == cpu.follow_version && w1 == cpu.follow_word && stamp == cpu.follow_stamp) [[likely]] {
                const uint64_t t = tsc();
                // Re-checks after the TSC (their addresses depend on it, so
                // they cannot be done earlier): the own record is unchanged,
                // and the floor slot was still current at a moment after the
                // TSC was read: as good as loading it then.
                const uint64_t w2 = __atomic_load_n(&arch::after_value(&fl, t)->word, __ATOMIC_ACQUIRE);
                const uint32_t v2 = __atomic_load_n(&arch::after_value(ti, t)->version, __ATOMIC_ACQUIRE);
                if (v2 == v1 && w2 == w1 && t - cpu.follow_tsc < cpu.follow_ticks) [[likely]] {
                    // Short form all through the window (follow() checked).
                    const uint64_t f = detail::short_time_at(floor_base, floor_mul, floor_shift, t - floor_ts);
                    if (f >= lower) [[likely]] {
                        if (share_every_reading_)
                            detail::raise_bound(fl, f);
                        cpu.last_ns = f;
                        return ClockReading{f, cpu.follow_stable != 0, false};
                    }
                }
            }
        }
        return read_full(cpu, tsc);
    }

    /// read() with the ordered hardware TSC.
    [[gnu::always_inline]] Result<ClockReading> read(ClockCpu& cpu) noexcept { return read(cpu, detail::OrderedTsc{}); }

    /// Only the nanoseconds of read(). Same errors.
    template <class TscFn>
    Result<uint64_t> now(ClockCpu& cpu, TscFn&& tsc) noexcept
    {
        return read(cpu, tsc).transform([](const ClockReading& c) { return c.ns; });
    }
    /// now() with the ordered hardware TSC (the target's clock read).
    [[gnu::always_inline]] Result<uint64_t> now(ClockCpu& cpu) noexcept
    {
        return read(cpu).transform([](const ClockReading& c) { return c.ns; });
    }

    /// Forget the floor, e.g. after resume on a host whose system time
    /// restarted (docs/xen-contracts.md, "Time across save and restore").
    /// Call with every other vCPU parked, and
    /// reset each ClockCpu's last_ns to 0 as well. Never fails.
    void reset_floor() noexcept
    {
        const uint64_t gen = __atomic_load_n(&floor_->word, __ATOMIC_RELAXED) >> 1;
        __atomic_store_n(&floor_->word, (gen << 1) | detail::floor_publishing, __ATOMIC_SEQ_CST);
        for (ClockFloorSlot& s : floor_->slot) {
            __atomic_store_n(&s.tsc_timestamp, uint64_t{0}, __ATOMIC_RELEASE);
            __atomic_store_n(&s.system_time, uint64_t{0}, __ATOMIC_RELEASE);
            __atomic_store_n(&s.tsc_to_system_mul, uint32_t{0}, __ATOMIC_RELEASE);
            __atomic_store_n(&s.tsc_shift, int8_t{0}, __ATOMIC_RELEASE);
            __atomic_store_n(&s.slewing, uint8_t{0}, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&floor_->bound, uint64_t{0}, __ATOMIC_RELEASE);
        __atomic_store_n(&floor_->word, (gen + 1) << 1, __ATOMIC_RELEASE);
    }

private:
    /// read() without the follow window: both records, every rule. Finds
    /// the next window after a plain reading (detail::follow).
    template <class TscFn>
    XENVCPU_CLOCK_SLOW_PATH Result<ClockReading> read_full(ClockCpu& cpu, TscFn& tsc) noexcept
    {
        if (cpu.record == nullptr)
            return err(Errc::invalid_argument);
        const volatile abi::vcpu_time_info& ti = *cpu.record;
        ClockFloor& fl = *floor_;
        // seqlock_read's loop and bound, written out: an attempt here also
        // reads the floor and may end in settle().
        for (uint32_t attempt = 0; attempt < seqlock_max_attempts; ++attempt) {
            const uint32_t v1 = __atomic_load_n(&ti.version, __ATOMIC_ACQUIRE);
            if ((v1 & 1) != 0) {
                arch::cpu_relax(); // Xen is mid-update
                continue;
            }
            const PvclockRecord own_rec{__atomic_load_n(&ti.tsc_timestamp, __ATOMIC_ACQUIRE),
                                        __atomic_load_n(&ti.system_time, __ATOMIC_ACQUIRE),
                                        __atomic_load_n(&ti.tsc_to_system_mul, __ATOMIC_ACQUIRE),
                                        __atomic_load_n(&ti.tsc_shift, __ATOMIC_ACQUIRE),
                                        __atomic_load_n(&ti.flags, __ATOMIC_ACQUIRE)};
            const uint64_t w1 = __atomic_load_n(&fl.word, __ATOMIC_ACQUIRE);
            const ClockFloorSlot& slot = fl.slot[(w1 >> 1) & 1];
            const PvclockRecord floor_rec{__atomic_load_n(&slot.tsc_timestamp, __ATOMIC_ACQUIRE),
                                          __atomic_load_n(&slot.system_time, __ATOMIC_ACQUIRE),
                                          __atomic_load_n(&slot.tsc_to_system_mul, __ATOMIC_ACQUIRE),
                                          __atomic_load_n(&slot.tsc_shift, __ATOMIC_ACQUIRE), 0};
            const bool slewing = __atomic_load_n(&slot.slewing, __ATOMIC_ACQUIRE) != 0;
            const uint64_t bound = __atomic_load_n(&fl.bound, __ATOMIC_ACQUIRE);
            const uint64_t lower = bound > cpu.last_ns ? bound : cpu.last_ns;
            const uint64_t t = tsc();
            const uint64_t w2 = __atomic_load_n(&arch::after_value(&fl, t)->word, __ATOMIC_ACQUIRE);
            const uint32_t v2 = __atomic_load_n(&arch::after_value(&ti, t)->version, __ATOMIC_ACQUIRE);
            if (v2 != v1 || ((w1 ^ w2) >> 1) != 0)
                continue; // Xen rewrote the record, or a publication finished: read again
            const uint64_t own = detail::time_at(own_rec, t);
            uint64_t f = detail::time_at(floor_rec, t);
            f = f > lower ? f : lower;
            const bool publishing = (w2 & detail::floor_publishing) != 0;
            const uint8_t unusual = own_rec.flags & abi::pvclock_guest_stopped;
            if (own > f + clock_snap_ns || (f > own + clock_slew_after_ns && !slewing) || publishing || unusual != 0)
                return settle(cpu, own_rec, v1, own, f, w2, slewing, tsc);
            // A plain reading: the floor decides it. Find the window in
            // which it goes on doing so, unless this record pair has one
            // (a window that found none is not looked for again).
            if (v1 != cpu.follow_version || w2 != cpu.follow_word || own_rec.tsc_timestamp != cpu.follow_stamp ||
                (cpu.follow_ticks != 0 && t - cpu.follow_tsc >= cpu.follow_ticks))
                detail::follow(cpu, own_rec, floor_rec, v1, w2, t, slewing);
            if (share_every_reading_)
                detail::raise_bound(fl, f);
            cpu.last_ns = f;
            return ClockReading{f, (own_rec.flags & abi::pvclock_tsc_stable) != 0, false};
        }
        return err(Errc::busy_retry);
    }

    /// The rest of read() for a reading that is not the plain case: the
    /// own record leads (publish it) or trails far (slew), a publication is
    /// under way (raise the bound), or XEN_PVCLOCK_GUEST_STOPPED is set.
    template <class TscFn>
    XENVCPU_CLOCK_SLOW_PATH ClockReading settle(ClockCpu& cpu, PvclockRecord own_rec, uint32_t version, uint64_t own,
                                                uint64_t f, uint64_t word, bool slewing, TscFn& tsc) noexcept
    {
        ClockFloor& fl = *floor_;
        uint64_t r = f;
        const bool publishing = (word & detail::floor_publishing) != 0;
        if (own > f + clock_snap_ns) {
            if (!publishing && detail::publish_floor(fl, word, own_rec, tsc, false))
                r = own;
        } else if (f > own + clock_slew_after_ns && !slewing && !publishing) {
            (void)detail::publish_floor(fl, word, own_rec, tsc, true);
        }
        // A publication is under way and may replace the record this
        // reading used by one that is lower at later TSCs: readings taken
        // after this one must still see it.
        if (publishing || share_every_reading_)
            detail::raise_bound(fl, r);
        cpu.last_ns = r;
        bool stopped = false;
        if ((own_rec.flags & abi::pvclock_guest_stopped) != 0 && cpu.stopped_version != uint64_t{version} + 1) {
            // Reported once per record: Xen's record is Xen's, we do not clear the flag in it.
            cpu.stopped_version = uint64_t{version} + 1;
            stopped = true;
        }
        return ClockReading{r, (own_rec.flags & abi::pvclock_tsc_stable) != 0, stopped};
    }

    ClockFloor* floor_;
    bool share_every_reading_ = false;
};

} // namespace xen
