// SystemClock on one thread with an injected TSC: the floor's rules, shown
// one interleaving at a time. 1 tick = 1 ns (mul 2^31, shift 1) unless a
// test says otherwise, so expected values are easy to read.
#include <xen/time/clock.hpp>

#include <catch2/catch.hpp>
#include <xen/support/types.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

using xen::ClockCpu;
using xen::ClockFloor;
using xen::Errc;
using xen::SystemClock;

namespace {

constexpr uint32_t one_ns_mul = 0x8000'0000u;
constexpr int8_t one_ns_shift = 1;

/// A vcpu_time_info as Xen writes it (single-threaded here: version += 2).
struct Record {
    xen::Area<xen::abi::vcpu_time_info> area;

    void write(uint64_t tsc, uint64_t system_ns, uint8_t flags = 0, uint32_t mul = one_ns_mul,
               int8_t shift = one_ns_shift)
    {
        auto& t = area.value;
        t.version += 1;
        t.tsc_timestamp = tsc;
        t.system_time = system_ns;
        t.tsc_to_system_mul = mul;
        t.tsc_shift = shift;
        t.flags = flags;
        t.version += 1;
    }
};

struct Vcpu {
    Record record;
    ClockCpu cpu;
    Vcpu() { cpu.record = record.area.get(); }
};

/// A TSC shared by every "vCPU" (Xen's default tsc_mode: one clock).
struct Tsc {
    uint64_t now = 1'000'000;
    uint64_t operator()() { return now; }
};

uint64_t read(SystemClock& clock, Vcpu& v, Tsc& tsc)
{
    auto r = clock.read(v.cpu, [&] { return tsc(); });
    REQUIRE(r.has_value());
    return r->ns;
}

} // namespace

TEST_CASE("SystemClock: declares its properties in the type", "[clock]")
{
    STATIC_REQUIRE(SystemClock::monotonic);
    STATIC_REQUIRE(SystemClock::monotonic_across_vcpus);
    STATIC_REQUIRE(SystemClock::irq_safe);
    STATIC_REQUIRE(SystemClock::nmi_safe);
    STATIC_REQUIRE(SystemClock::own_vcpu_only);
    STATIC_REQUIRE(sizeof(ClockFloor) == 128);
    STATIC_REQUIRE(alignof(ClockCpu) == 64);
}

TEST_CASE("SystemClock: a vCPU whose record is behind never reads less than a vCPU ahead read before", "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a, b;
    a.record.write(tsc.now, 5'000'000); // A's pCPU runs 3 us ahead of B's
    b.record.write(tsc.now, 4'997'000);

    // Raw pvclock shows the problem the floor solves.
    tsc.now += 100;
    const uint64_t raw_a = xen::pvclock_read(*a.cpu.record, tsc)->system_time_ns;
    tsc.now += 100;
    const uint64_t raw_b = xen::pvclock_read(*b.cpu.record, tsc)->system_time_ns;
    REQUIRE(raw_b < raw_a);

    tsc.now += 100;
    const uint64_t ta = read(clock, a, tsc);
    tsc.now += 100;
    const uint64_t tb = read(clock, b, tsc);
    REQUIRE(ta == 5'000'300);
    REQUIRE(tb >= ta);
    REQUIRE(tb == 5'000'400); // B follows A's record, not its own
}

TEST_CASE("SystemClock: the leading record is published once; reads that agree with the floor do not write it",
          "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a, b;
    a.record.write(tsc.now, 9'000'000);
    b.record.write(tsc.now - 50, 8'999'950); // the same line, anchored elsewhere

    (void)read(clock, a, tsc);
    const uint64_t gen_after_first = floor.generation();
    REQUIRE(gen_after_first == 1); // one publication
    for (int i = 0; i < 1000; ++i) {
        tsc.now += 37;
        (void)read(clock, i % 2 ? a : b, tsc);
    }
    REQUIRE(floor.generation() == gen_after_first);
}

TEST_CASE("SystemClock: a record Xen rewrote backwards does not move that vCPU's clock back", "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a;
    a.record.write(tsc.now, 7'000'000);
    tsc.now += 1000;
    const uint64_t before = read(clock, a, tsc);
    a.record.write(tsc.now, 6'999'000); // recalibrated 2 us lower
    uint64_t prev = before;
    for (int i = 0; i < 100; ++i) {
        tsc.now += 50;
        const uint64_t t = read(clock, a, tsc);
        REQUIRE(t >= prev);
        prev = t;
    }
}

TEST_CASE("SystemClock: a floor far ahead of every record is slewed back without a backward step", "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a;
    a.record.write(tsc.now, 1'000'000'000);
    const uint64_t first = read(clock, a, tsc); // publishes A's record
    // Xen corrects A's record 100 us down: the floor is now 100 us ahead.
    a.record.write(tsc.now, 1'000'000'000 - 100'000);
    uint64_t prev = first;
    uint64_t lead = 0;
    bool slewed = false;
    for (int i = 0; i < 2000; ++i) {
        tsc.now += 1'000'000; // 1 ms per read
        const uint64_t t = read(clock, a, tsc);
        REQUIRE(t >= prev);
        prev = t;
        const uint64_t own = xen::pvclock_time_at(
            {a.record.area.value.tsc_timestamp, a.record.area.value.system_time, one_ns_mul, one_ns_shift, 0}, tsc.now);
        slewed = slewed || floor.slewing();
        lead = t > own ? t - own : 0;
    }
    REQUIRE(slewed);
    // After 2 s at 1/4096 the 100 us lead is gone: the clock follows Xen's record again.
    REQUIRE(lead <= xen::clock_snap_ns);
}

TEST_CASE("SystemClock: XEN_PVCLOCK_GUEST_STOPPED is reported once per record", "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a;
    a.record.write(tsc.now, 3'000'000, xen::abi::pvclock_guest_stopped);
    auto r1 = clock.read(a.cpu, tsc);
    auto r2 = clock.read(a.cpu, tsc);
    REQUIRE(r1->guest_stopped);
    REQUIRE_FALSE(r2->guest_stopped);
    a.record.write(tsc.now, 3'000'000, xen::abi::pvclock_guest_stopped); // paused again
    REQUIRE(clock.read(a.cpu, tsc)->guest_stopped);
    a.record.write(tsc.now, 3'000'000, 0);
    REQUIRE_FALSE(clock.read(a.cpu, tsc)->guest_stopped);
}

TEST_CASE("SystemClock: reports XEN_PVCLOCK_TSC_STABLE_BIT of the record it read", "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a;
    a.record.write(tsc.now, 3'000'000, xen::abi::pvclock_tsc_stable);
    REQUIRE(clock.read(a.cpu, tsc)->tsc_stable);
    a.record.write(tsc.now, 3'000'000, 0);
    REQUIRE_FALSE(clock.read(a.cpu, tsc)->tsc_stable);
}

TEST_CASE("SystemClock: readings under the stable bit never undercut earlier readings without it", "[clock]")
{
    // While the bit was clear A's record led by 5 us and was published. Xen
    // then sets the bit and writes agreeing records (true time): a reader
    // that skipped the floor would now go back by 5 us.
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a, b;
    a.record.write(tsc.now, 2'005'000);
    b.record.write(tsc.now, 2'000'000);
    const uint64_t before = read(clock, a, tsc);
    tsc.now += 10;
    a.record.write(tsc.now, 2'000'010, xen::abi::pvclock_tsc_stable);
    b.record.write(tsc.now, 2'000'010, xen::abi::pvclock_tsc_stable);
    tsc.now += 10;
    REQUIRE(read(clock, b, tsc) >= before);
    REQUIRE(read(clock, a, tsc) >= before);
}

TEST_CASE("SystemClock: a version left odd gives busy_retry, not a hang", "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a;
    a.record.write(tsc.now, 3'000'000);
    a.record.area.value.version += 1; // a writer that never finishes
    auto r = clock.read(a.cpu, tsc);
    REQUIRE_FALSE(r.has_value());
    REQUIRE(r.error() == Errc::busy_retry);
    ClockCpu none;
    REQUIRE(clock.read(none, tsc).error() == Errc::invalid_argument);
}

TEST_CASE("SystemClock: a publication under way holds no reader up and raises the bound to what they return", "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a;
    a.record.write(tsc.now, 3'000'000);
    const uint64_t first = read(clock, a, tsc);
    floor.word |= 1; // as if a vCPU (or the code this NMI interrupted) were publishing
    tsc.now += 1000;
    REQUIRE(read(clock, a, tsc) == first + 1000); // the clock goes on
    REQUIRE(floor.bound == first + 1000);
    tsc.now += 1000;
    REQUIRE(read(clock, a, tsc) == first + 2000);
    REQUIRE(floor.bound == first + 2000);
    floor.word &= ~uint64_t{1};
    tsc.now += 1000;
    REQUIRE(read(clock, a, tsc) == first + 3000);
    REQUIRE(floor.bound == first + 2000); // no publication: the line is only read
}

TEST_CASE("SystemClock: a publisher preempted between its TSC read and its flip cannot make a later reading smaller",
          "[clock]")
{
    // The failure seen on real Xen: vCPU P locks the floor to publish its
    // record and is descheduled; other vCPUs read meanwhile, and a reading
    // taken after theirs, from P's new record, must not be below them. P's
    // record here runs at half the rate, so at later TSCs it is below the
    // record the others used.
    ClockFloor floor{};
    SystemClock clock(floor);
    std::atomic<uint64_t> shared_tsc{1'000'000};
    Vcpu a, b, c, p;
    a.record.write(1'000'000, 5'000'000);
    b.record.write(1'000'000, 5'000'000);
    c.record.write(1'000'000, 4'999'000); // C's pCPU runs 1 us behind: C follows the floor
    const auto tsc_at = [&] { return shared_tsc.load(); };
    REQUIRE(clock.read(a.cpu, tsc_at)->ns == 5'000'000);     // A's record is the floor
    p.record.write(1'000'000, 5'000'100, 0, one_ns_mul / 2); // 100 ns ahead, half the rate

    std::atomic<int> p_calls{0};
    std::atomic<bool> in_window{false}, release{false};
    uint64_t p_reading = 0;
    std::thread publisher([&] {
        auto stalling = [&] {
            const uint64_t now = shared_tsc.load();
            if (p_calls.fetch_add(1) == 1) { // the TSC inside publish_floor, after the lock
                in_window = true;
                while (!release.load())
                    std::this_thread::yield(); // "descheduled by Xen"
            }
            return now;
        };
        p_reading = clock.read(p.cpu, stalling)->ns;
    });
    while (!in_window.load())
        std::this_thread::yield();
    REQUIRE((floor.word & 1) == 1);

    // While P is stalled: B reads 10 us later (not held up), then C reads
    // after seeing B's value.
    shared_tsc += 10'000;
    const uint64_t tb = clock.read(b.cpu, tsc_at)->ns;
    REQUIRE(tb == 5'010'000);
    release = true;
    publisher.join();
    REQUIRE(floor.generation() == 2); // P's record went in
    shared_tsc += 10;
    const uint64_t tc = clock.read(c.cpu, tsc_at)->ns;
    INFO("P returned " << p_reading << ", B " << tb << ", C after B " << tc);
    REQUIRE(floor.bound == tb);
    // Without the bound C would read P's record: 5'000'100 + 5'005 ns.
    REQUIRE(tc == tb);
}

TEST_CASE("SystemClock: TSCs out of sync break the floor; share_every_reading keeps readings in order", "[clock]")
{
    // vCPU A's TSC runs 20 us ahead of B's, and Xen stamps each record in
    // its own vCPU's TSC (as a PV dom0 on a host with unsynced TSCs sees).
    for (const bool shared : {false, true}) {
        ClockFloor floor{};
        SystemClock clock(floor);
        clock.share_every_reading(shared);
        REQUIRE(clock.shares_every_reading() == shared);
        Tsc tsc_a, tsc_b;
        tsc_a.now = 1'020'000;
        tsc_b.now = 1'000'000;
        Vcpu a, b;
        a.record.write(tsc_a.now, 5'000'000);
        b.record.write(tsc_b.now, 5'000'000);
        (void)read(clock, b, tsc_b); // B's record is the floor, in B's TSC
        tsc_a.now += 100;
        tsc_b.now += 100;
        const uint64_t ta = read(clock, a, tsc_a); // the floor at A's TSC: 20 us ahead
        tsc_b.now += 100;
        const uint64_t tb = read(clock, b, tsc_b); // after seeing A's reading
        INFO("shared " << shared << ": A " << ta << ", B after A " << tb);
        if (shared)
            REQUIRE(tb >= ta);
        else
            REQUIRE(tb < ta); // the assumption broken, the guarantee gone
    }
}

TEST_CASE("SystemClock: reset_floor forgets the lead after resume", "[clock]")
{
    ClockFloor floor{};
    SystemClock clock(floor);
    Tsc tsc;
    Vcpu a;
    a.record.write(tsc.now, 900'000'000);
    (void)read(clock, a, tsc);
    // Restored on a host whose system time is lower.
    clock.reset_floor();
    a.cpu.last_ns = 0;
    a.record.write(tsc.now, 1'000);
    REQUIRE(read(clock, a, tsc) == 1'000);
    REQUIRE((floor.word & 1) == 0);
}
