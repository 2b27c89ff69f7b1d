// SystemClock: Xen system time that never runs backwards, neither on one
// vCPU nor across vCPUs, at a cost that does not grow when vCPUs read at once.
//
// Why more than pvclock_read (XEN-FACTS §1.9, F6): each vCPU's
// vcpu_time_info is written by Xen from the pCPU it last ran on, and the
// records of different pCPUs disagree by their calibration error. Without
// XEN_PVCLOCK_TSC_STABLE_BIT (stock Xen sets it only with clocksource=tsc)
// vCPU A can read 1005 and vCPU B, after seeing A's result, 1001.
//
// Linux keeps one global last value and cmpxchg's it on every read, so the
// cache line moves between readers on every read. We publish a *record*
// instead of a value: the domain's ClockFloor holds one pvclock record (the
// leading one), and a read returns the floor record evaluated at the
// reader's own TSC. A vCPU whose own record runs ahead of the floor
// publishes its record (anchored at the TSC of publication); after that its
// own record and the floor agree, so it does not publish again until Xen
// rewrites a record. Readers only read the floor's line; it is written when
// the lead changes, not on every read. docs/time.md has the proof and the
// one assumption: the guest TSC is one clock across the domain's vCPUs
// (Xen's default tsc_mode runs rdtsc natively only when the host TSC is
// reliable, and emulates it monotonically otherwise).
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
inline constexpr int clock_slew_shift = 12;
/// Reads of the floor that find a publication in progress before a reader
/// gives up and returns its own last value (never ahead of the floor).
inline constexpr uint32_t clock_floor_max_attempts = 256;

/// The domain-wide floor record: one per domain, zero-initialised, shared by
/// every vCPU's SystemClock. Written only by a vCPU that takes the lead.
struct alignas(64) ClockFloor {
    uint32_t seq;   ///< even: stable; odd: a vCPU is publishing
    uint8_t slewing; ///< the record is slowed to converge back to Xen's records
    uint8_t pad[3];
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
};

/// One vCPU's clock state: its own vcpu_time_info and what it last returned.
/// The kernel places one per vCPU (static array or per-CPU memory); only
/// that vCPU reads the clock through it.
struct alignas(64) ClockCpu {
    /// The vCPU's vcpu_time_info: its vcpu_info's `time`, or the secondary area.
    const volatile abi::vcpu_time_info* record = nullptr;
    uint64_t last_ns = 0;
    /// Version of the record whose XEN_PVCLOCK_GUEST_STOPPED was reported.
    uint64_t stopped_version = ~uint64_t{0};
};

/// One reading of SystemClock.
struct ClockReading {
    uint64_t ns;        ///< Xen system time; never below an earlier reading on any vCPU
    bool tsc_stable;    ///< the record carried XEN_PVCLOCK_TSC_STABLE_BIT
    bool guest_stopped; ///< first read of a record flagged XEN_PVCLOCK_GUEST_STOPPED: the
                        ///< domain was paused; time jumped, watchdogs should be reset
};

namespace detail {

struct FloorView {
    PvclockRecord record;
    uint32_t seq;
    bool slewing;
};

/// Seqlock read of the floor. Its first load comes after the caller's TSC
/// sample (a load fence on the target), which the proof needs.
inline bool read_floor(const ClockFloor& f, FloorView& out) noexcept
{
    for (uint32_t attempt = 0; attempt < clock_floor_max_attempts; ++attempt) {
        const uint32_t s1 = __atomic_load_n(&f.seq, __ATOMIC_SEQ_CST);
        if ((s1 & 1) != 0) {
            arch::cpu_relax();
            continue;
        }
        // Acquire loads (plain movs on x86): none moves above the one before,
        // so the re-read of seq comes after every field; a field written by a
        // publisher (release stores after its odd seq) makes that re-read see
        // the odd seq or later. No standalone fence: ThreadSanitizer checks it.
        out.record.tsc_timestamp = __atomic_load_n(&f.tsc_timestamp, __ATOMIC_ACQUIRE);
        out.record.system_time = __atomic_load_n(&f.system_time, __ATOMIC_ACQUIRE);
        out.record.tsc_to_system_mul = __atomic_load_n(&f.tsc_to_system_mul, __ATOMIC_ACQUIRE);
        out.record.tsc_shift = __atomic_load_n(&f.tsc_shift, __ATOMIC_ACQUIRE);
        out.record.flags = 0;
        out.slewing = __atomic_load_n(&f.slewing, __ATOMIC_ACQUIRE) != 0;
        if (__atomic_load_n(&f.seq, __ATOMIC_SEQ_CST) == s1) {
            out.seq = s1;
            return true;
        }
    }
    return false;
}

/// Take the lead: if the floor is still at `seen`, replace its record by
/// `own` anchored at a TSC read after the floor was locked, never below what
/// the old record gives at that TSC. With `slew`, the new record keeps the
/// old floor's value and runs 2^-clock_slew_shift slower than `own`.
/// False if another vCPU published first (the caller re-reads the floor).
template <class TscFn>
[[gnu::noinline]] bool publish_floor(ClockFloor& f, uint32_t seen, const PvclockRecord& own, TscFn& tsc,
                                     bool slew) noexcept
{
    uint32_t expected = seen;
    if (!__atomic_compare_exchange_n(&f.seq, &expected, seen + 1, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        return false;
    // Every reader that still uses the old record read its TSC before this
    // (its floor loads saw the even seq), so anchoring at a later TSC, at or
    // above the old record's value there, keeps every later reading above
    // every earlier one.
    const uint64_t tp = tsc();
    const PvclockRecord old{
        __atomic_load_n(&f.tsc_timestamp, __ATOMIC_RELAXED),
        __atomic_load_n(&f.system_time, __ATOMIC_RELAXED),
        __atomic_load_n(&f.tsc_to_system_mul, __ATOMIC_RELAXED),
        __atomic_load_n(&f.tsc_shift, __ATOMIC_RELAXED),
        0,
    };
    const uint64_t old_ns = pvclock_time_at(old, tp);
    const uint64_t own_ns = pvclock_time_at(own, tp);
    uint64_t base = own_ns > old_ns ? own_ns : old_ns;
    uint32_t mul = own.tsc_to_system_mul;
    if (slew) {
        base = old_ns;
        mul -= mul >> clock_slew_shift;
    }
    // Release stores: a reader that sees any new field also sees the odd seq.
    __atomic_store_n(&f.tsc_timestamp, tp, __ATOMIC_RELEASE);
    __atomic_store_n(&f.system_time, base, __ATOMIC_RELEASE);
    __atomic_store_n(&f.tsc_to_system_mul, mul, __ATOMIC_RELEASE);
    __atomic_store_n(&f.tsc_shift, own.tsc_shift, __ATOMIC_RELEASE);
    __atomic_store_n(&f.slewing, static_cast<uint8_t>(slew ? 1 : 0), __ATOMIC_RELEASE);
    __atomic_store_n(&f.seq, seen + 2, __ATOMIC_RELEASE);
    return true;
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
    /// takes no lock and never waits for another vCPU without bound.
    static constexpr bool irq_safe = true;
    /// Callable from an NMI handler: if the NMI interrupted this vCPU while
    /// it was publishing, the read gives up after bounded retries and
    /// returns the vCPU's last value.
    static constexpr bool nmi_safe = true;
    /// Must run on the vCPU whose ClockCpu it is given (it reads that vCPU's
    /// record with that vCPU's TSC).
    static constexpr bool own_vcpu_only = true;

    /// `floor` must outlive the clock and be shared by every vCPU.
    constexpr explicit SystemClock(ClockFloor& floor) noexcept : floor_(&floor) {}

    /// Read the time on the calling vCPU, whose state is `cpu`, with TSC
    /// source `tsc` (lfence;rdtsc on the target; tests inject theirs).
    /// XEN_PVCLOCK_TSC_STABLE_BIT on the record read is reported but takes
    /// the same path: with agreeing records the floor is only read, never
    /// written, so the path costs what a stable-only path would; skipping
    /// the floor would let a reading taken under the bit undercut one taken
    /// before the bit was set (docs/time.md, "Why no separate stable path"). Errors:
    /// busy_retry if the vCPU's own record stayed inconsistent (a writer
    /// left its version odd); invalid_argument if cpu.record is null.
    template <class TscFn>
    Result<ClockReading> read(ClockCpu& cpu, TscFn&& tsc) noexcept
    {
        if (cpu.record == nullptr)
            return err(Errc::invalid_argument);
        // Bind a reference, not a copy (XEN_TRY_ASSIGN would copy): copying
        // the sample through the stack costs store-forwarding stalls that
        // measured at ~40 ns, as much as the TSC read itself.
        const auto sampled = pvclock_sample(*cpu.record, tsc);
        if (!sampled.has_value())
            return err(sampled.error());
        const PvclockSample& s = *sampled;
        const uint64_t own = pvclock_time_at(s.record, s.tsc);
        const bool stable = (s.record.flags & abi::pvclock_tsc_stable) != 0;
        bool stopped = false;
        if ((s.record.flags & abi::pvclock_guest_stopped) != 0 && cpu.stopped_version != s.version) {
            // Reported once per record: Xen's record is Xen's, we do not clear the flag in it.
            cpu.stopped_version = s.version;
            stopped = true;
        }
        // Every floor load comes after the TSC sample: the floor's address
        // depends on the sampled value (cheaper than an lfence).
        const ClockFloor& floor = *arch::after_value(floor_, s.tsc);
        uint64_t r = cpu.last_ns;
        for (int round = 0; round < 4; ++round) {
            detail::FloorView fv;
            if (!detail::read_floor(floor, fv))
                break; // a publisher stalled: our last value is never ahead of the floor
            const uint64_t f = pvclock_time_at(fv.record, s.tsc);
            if (own > f + clock_snap_ns) {
                if (detail::publish_floor(*floor_, fv.seq, s.record, tsc, false)) {
                    r = own;
                    break;
                }
                r = f; // another vCPU published first: look again
                continue;
            }
            if (f > own + clock_slew_after_ns && !fv.slewing)
                (void)detail::publish_floor(*floor_, fv.seq, s.record, tsc, true);
            r = f;
            break;
        }
        if (r < cpu.last_ns)
            r = cpu.last_ns;
        cpu.last_ns = r;
        return ClockReading{r, stable, stopped};
    }

    /// read() with the ordered hardware TSC.
    Result<ClockReading> read(ClockCpu& cpu) noexcept
    {
        return read(cpu, [] { return arch::rdtsc_ordered(); });
    }

    /// Only the nanoseconds of read(). Same errors.
    template <class TscFn>
    Result<uint64_t> now(ClockCpu& cpu, TscFn&& tsc) noexcept
    {
        return read(cpu, tsc).transform([](const ClockReading& c) { return c.ns; });
    }
    Result<uint64_t> now(ClockCpu& cpu) noexcept
    {
        return read(cpu).transform([](const ClockReading& c) { return c.ns; });
    }

    /// Forget the floor, e.g. after resume on a host whose system time
    /// restarted (XEN-FACTS F5). Call with every other vCPU parked, and
    /// reset each ClockCpu's last_ns to 0 as well. Never fails.
    void reset_floor() noexcept
    {
        const uint32_t s = __atomic_load_n(&floor_->seq, __ATOMIC_RELAXED) & ~1u;
        __atomic_store_n(&floor_->seq, s + 1, __ATOMIC_RELAXED);
        __atomic_store_n(&floor_->tsc_timestamp, uint64_t{0}, __ATOMIC_RELEASE);
        __atomic_store_n(&floor_->system_time, uint64_t{0}, __ATOMIC_RELEASE);
        __atomic_store_n(&floor_->tsc_to_system_mul, uint32_t{0}, __ATOMIC_RELEASE);
        __atomic_store_n(&floor_->tsc_shift, int8_t{0}, __ATOMIC_RELEASE);
        __atomic_store_n(&floor_->slewing, uint8_t{0}, __ATOMIC_RELEASE);
        __atomic_store_n(&floor_->seq, s + 2, __ATOMIC_RELEASE);
    }

private:
    ClockFloor* floor_;
};

} // namespace xen
