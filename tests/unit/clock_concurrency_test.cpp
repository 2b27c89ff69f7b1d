// Threads acting as vCPUs against a thread acting as Xen. Also built into a
// ThreadSanitizer binary (tests/unit/meson.build, suite tsan): every access
// to memory another thread writes is atomic, and none of these tests may
// accept a torn record or see time go back, under either build.
#include <xen/time/clock.hpp>

#include <catch2/catch.hpp>
#include <support/pace.hpp>
#include <xen/support/types.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace {

constexpr uint32_t one_ns_mul = 0x8000'0000u;
constexpr int8_t one_ns_shift = 1;

/// Xen's update of a vcpu_time_info: version odd, barrier, body, barrier,
/// version even (public xen.h). Release stores (plain movs on x86, as Xen's
/// smp_wmb-separated writes are): a reader that sees any new field also
/// sees the odd version, and TSan sees no plain race and no fence.
void xen_write(xen::abi::vcpu_time_info& t, uint64_t tsc, uint64_t ns, uint32_t mul, int8_t shift, uint8_t flags)
{
    const uint32_t v = __atomic_load_n(&t.version, __ATOMIC_RELAXED);
    __atomic_store_n(&t.version, v + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&t.tsc_timestamp, tsc, __ATOMIC_RELEASE);
    __atomic_store_n(&t.system_time, ns, __ATOMIC_RELEASE);
    __atomic_store_n(&t.tsc_to_system_mul, mul, __ATOMIC_RELEASE);
    __atomic_store_n(&t.tsc_shift, shift, __ATOMIC_RELEASE);
    __atomic_store_n(&t.flags, flags, __ATOMIC_RELEASE);
    __atomic_store_n(&t.version, v + 2, __ATOMIC_RELEASE);
}

/// Generation g's record: every field derived from g, so a mix of two
/// generations is recognisable.
struct Gen {
    static uint64_t tsc(uint64_t g) { return g * 7 + 1; }
    static uint64_t ns(uint64_t g) { return g * 3 + 11; }
    static uint32_t mul(uint64_t g) { return 0x8000'0000u | static_cast<uint32_t>(g & 0xffff); }
    static int8_t shift(uint64_t g) { return static_cast<int8_t>(static_cast<int>(g % 5) - 2); }
    static uint8_t flags(uint64_t g) { return static_cast<uint8_t>(g & 3); }
    static bool consistent(const xen::PvclockRecord& r)
    {
        if ((r.tsc_timestamp - 1) % 7 != 0)
            return false;
        const uint64_t g = (r.tsc_timestamp - 1) / 7;
        return r.system_time == ns(g) && r.tsc_to_system_mul == mul(g) && r.tsc_shift == shift(g) &&
               r.flags == flags(g);
    }
};

} // namespace

TEST_CASE("pvclock_sample: 10^7 reads against a writer following Xen's version protocol accept 0 torn records",
          "[clock][concurrency][tsan]")
{
    constexpr uint64_t target_reads = 10'000'000;
    constexpr int readers = 2;
    // Each reader goes on past its share of reads until it has seen the
    // record change this often, so that it really raced the writer. Past its
    // share, a reader that still lacks changes waits for the writer to
    // finish the generation after the one it read last before it reads
    // again: on a busy host the writer may be queued behind the readers, and
    // the changes then come from the test's pacing, not from the host. At
    // ten times its share (which the pacing keeps out of reach) it stops,
    // and the test fails.
    constexpr uint64_t wanted_changes = 100;
    constexpr uint64_t share = target_reads / readers;
    xen::Area<xen::abi::vcpu_time_info> area;
    xen_write(area.value, Gen::tsc(0), Gen::ns(0), Gen::mul(0), Gen::shift(0), Gen::flags(0));
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> writes{0};
    std::thread xen_thread([&] {
        for (uint64_t g = 1; !stop.load(std::memory_order_relaxed); ++g) {
            xen_write(area.value, Gen::tsc(g), Gen::ns(g), Gen::mul(g), Gen::shift(g), Gen::flags(g));
            writes.fetch_add(1, std::memory_order_relaxed);
            for (int i = 0; i < 64; ++i) // Xen writes a record per context switch, not back to back
                xen::arch::cpu_relax();
        }
    });
    std::atomic<uint64_t> torn{0}, accepted{0}, busy{0};
    std::vector<uint64_t> changes(readers);
    std::vector<std::thread> vcpus;
    for (int r = 0; r < readers; ++r) {
        vcpus.emplace_back([&, r] {
            uint64_t tsc = 0;
            uint64_t mine = 0, seen_changes = 0, last_tsc = Gen::tsc(0);
            while (mine < share || (seen_changes < wanted_changes && mine < share * 10)) {
                if (mine >= share) {
                    // Generation g is written once `writes` reaches g.
                    const uint64_t g = (last_tsc - 1) / 7;
                    xen::test::wait_until([&] { return writes.load(std::memory_order_relaxed) > g; });
                }
                auto s = xen::pvclock_sample(area.value, [&] { return ++tsc; });
                if (!s.has_value()) {
                    busy.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                ++mine;
                if (!Gen::consistent(s->record))
                    torn.fetch_add(1, std::memory_order_relaxed);
                seen_changes += s->record.tsc_timestamp != last_tsc ? 1 : 0;
                last_tsc = s->record.tsc_timestamp;
            }
            accepted.fetch_add(mine, std::memory_order_relaxed);
            changes[static_cast<size_t>(r)] = seen_changes;
        });
    }
    for (auto& t : vcpus)
        t.join();
    stop = true;
    xen_thread.join();
    INFO("writes " << writes.load() << ", busy_retry " << busy.load() << ", changes seen " << changes[0] << " and "
                   << changes[1]);
    REQUIRE(accepted.load() >= target_reads);
    REQUIRE(torn.load() == 0);
    for (const uint64_t c : changes)
        REQUIRE(c >= wanted_changes);
}

namespace {

using xen::test::wait_until;

/// What run_causality saw.
struct CausalityRun {
    uint64_t reads, cross_reads, errors, errors_xen_mid_write, rewrites, stable_phases, publications, stalls,
        publisher_stalls, met, backwards_across, backwards_own;
};

/// The interleavings a run must contain. A run goes on past its minimum of
/// reads until it has had all of them, so a busy host, which runs some
/// threads less than others, makes a run longer, never thinner.
struct Wanted {
    uint64_t cross_reads = 2000;   ///< reads after loading another vCPU's reading
    uint64_t stable_phases = 4;    ///< times Xen set the stable bit (and cleared it in between)
    uint64_t publications = 0;     ///< floor publications
    uint64_t stalls = 0;           ///< sleeps inside a publication, by its publisher or a reader
    uint64_t publisher_stalls = 0; ///< of which by the publisher, between its lock and its flip
    uint64_t met = 0;              ///< TSC reads by readers while another vCPU's publication was under way
};

/// Xen rewrites one record per this many reads, and the readers wait for
/// it when they are this many rewrites ahead: the ratio of rewrites to
/// reads, and with it the number of publications, is then the same however
/// the host schedules the threads.
constexpr uint64_t reads_per_rewrite = 16;
constexpr uint64_t readers_lead = 64;
/// A run that has not had what it wants after this many times its minimum
/// of reads fails. With the pacing above and the forcing below, what it
/// wants comes at a rate the host does not set: runs measured with up to
/// two busy loops beside them ended within 1.5 times the minimum.
constexpr uint64_t backstop_factor = 20;
/// A vCPU that has read this many times with no other vCPU's reading in
/// between waits for one (while another is still reading, and unless a
/// publication is under way, which it should meet): a reading taken after
/// another vCPU's is what the test is about, and a busy host may otherwise
/// run the vCPU threads one after the other.
constexpr uint64_t max_reads_alone = 64;
/// A publisher stalled between its lock and its flip stays stalled until
/// readers have met its publication this often (or no other vCPU is left
/// reading): that readers meet it is then the test's doing, not the host's.
constexpr uint64_t meetings_per_stall = 4;
/// Naps of a stalled publisher before it flips anyway: a backstop only.
constexpr int max_naps = 10'000;

/// `vcpus` threads read SystemClock while a "Xen" thread rewrites their
/// records with skew, drift and the stable bit toggling; each read comes
/// after loading the newest reading any thread published. With
/// `stall_publishers`, a thread that calls the TSC while the floor is locked
/// (a publisher between its lock and its flip, or a reader meeting one)
/// sleeps now and then, as a vCPU Xen deschedules there; a publisher sleeps
/// until readers have met its publication. The run ends once every vCPU has
/// done `reads_per_vcpu` reads and `want` is met, or at the backstop.
CausalityRun run_causality(int vcpus, uint64_t reads_per_vcpu, bool stall_publishers, uint64_t tsc_warp = 0,
                           bool share_every_reading = false, const Wanted& want = {})
{
    // One TSC for the whole domain (Xen's default tsc_mode), 1 tick = 1 ns,
    // advancing on every read.
    std::atomic<uint64_t> tsc{1'000'000'000};
    std::atomic<uint64_t> stalls{0}, publisher_stalls{0}, met{0};
    std::atomic<int> vcpus_reading{vcpus};
    xen::ClockFloor floor{};
    const auto nap = [] { std::this_thread::sleep_for(std::chrono::microseconds(20)); };
    // `publishing`: the caller is in publish_floor, after its lock (see the
    // vCPU threads below).
    auto rdtsc = [&](bool publishing) {
        const uint64_t now = tsc.fetch_add(3, std::memory_order_seq_cst);
        if ((__atomic_load_n(&floor.word, __ATOMIC_ACQUIRE) & 1) == 0)
            return now;
        if (!publishing)
            met.fetch_add(1, std::memory_order_relaxed);
        if (!stall_publishers || now % 4 != 0)
            return now;
        stalls.fetch_add(1, std::memory_order_relaxed);
        if (!publishing) {
            nap();
            return now;
        }
        publisher_stalls.fetch_add(1, std::memory_order_relaxed);
        const uint64_t met_before = met.load(std::memory_order_relaxed);
        int naps = 0;
        do
            nap();
        while (met.load(std::memory_order_relaxed) < met_before + meetings_per_stall &&
               vcpus_reading.load(std::memory_order_relaxed) > 1 && ++naps < max_naps);
        return now;
    };

    struct alignas(64) Vcpu {
        xen::Area<xen::abi::vcpu_time_info> record;
        xen::ClockCpu cpu;
    };
    std::vector<Vcpu> v(static_cast<size_t>(vcpus));
    xen::SystemClock clock(floor);
    clock.share_every_reading(share_every_reading);
    // With a warp, vCPU i's TSC reads i * tsc_warp ticks ahead of vCPU 0's
    // (TSCs out of sync), and Xen stamps vCPU i's record in vCPU i's TSC.
    const auto offset = [&](int i) { return static_cast<uint64_t>(i) * tsc_warp; };
    for (int i = 0; i < vcpus; ++i) {
        auto& x = v[static_cast<size_t>(i)];
        xen_write(x.record.value, tsc.load() + offset(i), tsc.load(), one_ns_mul, one_ns_shift, 0);
        x.cpu.record = x.record.get();
    }

    // "Xen": rewrites one vCPU's record at a time. Without the stable bit
    // each vCPU's pCPU keeps its own calibration error: vCPU i's record is
    // off by (i - 1) * 3 us, +-0.5 us of jitter, and runs up to +-0.1% fast
    // or slow; with the bit every record is true time at the exact rate.
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> rewrites{0}, stable_phases{0}, reads_done{0};
    std::thread xen_thread([&] {
        std::mt19937_64 rng(0x5ca1ab1e);
        bool stable = false;
        for (uint64_t n = 1; !stop.load(std::memory_order_relaxed); ++n) {
            if (n % 300 == 0) {
                stable = !stable;
                stable_phases.fetch_add(stable ? 1 : 0, std::memory_order_relaxed);
            }
            const int i = static_cast<int>(n % vcpus);
            auto& rec = v[i].record.value;
            const uint64_t now = tsc.load(std::memory_order_seq_cst);
            // With stalls: every 200 rewrites Xen's records jump up, each
            // time further (k * 25 us), or back to true time (a
            // recalibration), so publications of a lead and of a slew keep
            // coming, and with them windows to be descheduled in.
            const int64_t phase = static_cast<int64_t>(n / 200);
            const int64_t jump = stall_publishers && phase % 2 == 1 ? phase * 25'000 : 0;
            const int64_t skew = jump + (stable ? 0 : (i - 1) * 3000 + static_cast<int64_t>(rng() % 1001) - 500);
            const uint32_t mul = stable ? one_ns_mul
                                        : one_ns_mul + static_cast<uint32_t>(rng() % 4'295'000) - 2'147'500;
            xen_write(rec, now + offset(i), static_cast<uint64_t>(static_cast<int64_t>(now) + skew), mul, one_ns_shift,
                      stable ? xen::abi::pvclock_tsc_stable : 0);
            rewrites.store(n, std::memory_order_relaxed);
            // A context switch now and then, not back to back: rewrite n
            // waits for read 16 n, whatever a sanitizer or the host's
            // scheduler does to either side's speed.
            wait_until([&] {
                return reads_done.load(std::memory_order_relaxed) >= n * reads_per_rewrite ||
                       stop.load(std::memory_order_relaxed);
            });
        }
    });

    std::atomic<uint64_t> cross_reads{0};
    const auto have_all = [&] {
        return cross_reads.load(std::memory_order_relaxed) >= want.cross_reads &&
               stable_phases.load(std::memory_order_relaxed) >= want.stable_phases &&
               floor.generation() >= want.publications && stalls.load(std::memory_order_relaxed) >= want.stalls &&
               publisher_stalls.load(std::memory_order_relaxed) >= want.publisher_stalls &&
               met.load(std::memory_order_relaxed) >= want.met;
    };

    // Each vCPU loads the newest published reading (a message from another
    // vCPU), then reads the clock: causally later, so never smaller.
    std::atomic<uint64_t> last_seen{0};
    std::atomic<int> last_reader{-1};
    std::atomic<uint64_t> backwards_across{0}, backwards_own{0}, errors{0}, errors_xen_mid_write{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < vcpus; ++i) {
        threads.emplace_back([&, i] {
            // The first TSC read of a read() is its sample; a later one is
            // publish_floor's, after its lock (or, rarely, the sample of a
            // retry, when Xen rewrote the record during the read).
            bool sampled = false;
            auto my_tsc = [&, i] {
                const bool publishing = sampled;
                sampled = true;
                return rdtsc(publishing) + offset(i);
            };
            uint64_t prev = 0, alone = 0;
            for (uint64_t n = 0; n < reads_per_vcpu * backstop_factor && (n < reads_per_vcpu || !have_all()); ++n) {
                // Not too far ahead of Xen, who may be descheduled.
                wait_until([&] {
                    return reads_done.load(std::memory_order_relaxed) <
                           (rewrites.load(std::memory_order_relaxed) + readers_lead) * reads_per_rewrite;
                });
                if (alone >= max_reads_alone)
                    wait_until([&] {
                        return last_reader.load(std::memory_order_relaxed) != i ||
                               vcpus_reading.load(std::memory_order_relaxed) == 1 ||
                               (__atomic_load_n(&floor.word, __ATOMIC_RELAXED) & 1) != 0;
                    });
                const int seen_from = last_reader.load(std::memory_order_acquire);
                const uint64_t seen = last_seen.load(std::memory_order_acquire);
                sampled = false;
                auto r = clock.read(v[i].cpu, my_tsc);
                if (!r.has_value()) {
                    // busy_retry is the bounded answer when the "Xen" thread
                    // is preempted between its odd and even version stores
                    // (a host thread can be; Xen never is while the vCPU
                    // reads its own record). How often that happens is the
                    // host's doing: count those apart.
                    const bool mid_write = (__atomic_load_n(&v[i].record.value.version, __ATOMIC_ACQUIRE) & 1) != 0;
                    (mid_write ? errors_xen_mid_write : errors).fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                backwards_across.fetch_add(r->ns < seen ? 1 : 0, std::memory_order_relaxed);
                backwards_own.fetch_add(r->ns < prev ? 1 : 0, std::memory_order_relaxed);
                prev = r->ns;
                if (seen_from == i) {
                    ++alone;
                } else {
                    alone = 0;
                    cross_reads.fetch_add(1, std::memory_order_relaxed);
                }
                last_seen.store(r->ns, std::memory_order_release);
                last_reader.store(i, std::memory_order_release);
                reads_done.fetch_add(1, std::memory_order_relaxed);
            }
            vcpus_reading.fetch_sub(1, std::memory_order_relaxed);
        });
    }
    for (auto& t : threads)
        t.join();
    stop = true;
    xen_thread.join();
    return CausalityRun{
        .reads = reads_done.load(),
        .cross_reads = cross_reads.load(),
        .errors = errors.load(),
        .errors_xen_mid_write = errors_xen_mid_write.load(),
        .rewrites = rewrites.load(),
        .stable_phases = stable_phases.load(),
        .publications = floor.generation(),
        .stalls = stalls.load(),
        .publisher_stalls = publisher_stalls.load(),
        .met = met.load(),
        .backwards_across = backwards_across.load(),
        .backwards_own = backwards_own.load(),
    };
}

void check(const CausalityRun& r, const Wanted& want = {})
{
    INFO("reads " << r.reads << " (" << r.cross_reads << " after another vCPU's), busy_retry " << r.errors << " (and "
                  << r.errors_xen_mid_write << " with Xen stopped mid-write), record rewrites " << r.rewrites
                  << ", stable phases " << r.stable_phases << ", floor publications " << r.publications << ", stalls "
                  << r.stalls << " (" << r.publisher_stalls << " by the publisher)"
                  << ", TSC reads meeting a publication " << r.met);
    // Any other busy_retry (Xen finished its write just as the read gave up,
    // or publications kept finishing during a read) is rare.
    REQUIRE(r.errors * 100 < r.reads);
    REQUIRE(r.backwards_across == 0);
    REQUIRE(r.backwards_own == 0);
    // The run had what it was to test (it only ends without at the backstop).
    REQUIRE(r.cross_reads >= want.cross_reads);
    REQUIRE(r.stable_phases >= want.stable_phases);
    REQUIRE(r.publications >= want.publications);
    REQUIRE(r.stalls >= want.stalls);
    REQUIRE(r.publisher_stalls >= want.publisher_stalls);
    REQUIRE(r.met >= want.met);
}

} // namespace

TEST_CASE("SystemClock: across vCPU threads a reading taken after seeing another's is never smaller, with "
          "skewed records and the stable bit toggling",
          "[clock][concurrency][tsan]")
{
    check(run_causality(3, 300'000, false));
}

TEST_CASE("SystemClock: with TSCs out of sync (20 us apart) and every reading shared, no reading goes back",
          "[clock][concurrency][tsan]")
{
    // What share_every_reading is for: the floor's proof assumes one TSC,
    // and here it does not hold (clock_system_test shows a reading going
    // back without sharing).
    check(run_causality(3, 100'000, false, 20'000, true));
}

TEST_CASE("SystemClock: the same, with publishers descheduled between their lock and their flip",
          "[clock][concurrency][tsan]")
{
    // Runs of a fixed number of reads used to have about 150 publications
    // and 130 stalls on a quiet host, a quarter of the publications stalled
    // by their publisher, and two to four TSC reads meeting a publication
    // per stall. A run now goes on until it has at least that much of each,
    // however long a busy host makes it.
    Wanted want;
    want.publications = 150;
    want.stalls = 130;
    want.publisher_stalls = 40;
    want.met = 500;
    check(run_causality(3, 100'000, true, 0, false, want), want);
}

TEST_CASE("pvclock_read: the same harness catches raw per-vCPU reads going back across vCPUs", "[clock][concurrency]")
{
    // The floor is what makes the previous test pass: with skewed records and
    // no floor a causally later read is smaller. Deterministic interleaving.
    uint64_t tsc = 1'000'000;
    auto rdtsc = [&] { return tsc += 3; };
    xen::Area<xen::abi::vcpu_time_info> a, b;
    xen_write(a.value, tsc, tsc + 4000, one_ns_mul, one_ns_shift, 0);
    xen_write(b.value, tsc, tsc - 4000, one_ns_mul, one_ns_shift, 0);
    uint64_t backwards = 0, seen = 0;
    for (int n = 0; n < 1000; ++n) {
        const uint64_t t = xen::pvclock_read(n % 2 ? b.value : a.value, rdtsc)->system_time_ns;
        backwards += t < seen;
        seen = t;
    }
    REQUIRE(backwards > 0);
}
