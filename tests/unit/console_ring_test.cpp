// ConsoleRing against the simulated Xen (event channel) and a simulated
// xenconsoled that moves only when the test says so.
#include <xen/console.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <sim/rings.hpp>
#include <support/pace.hpp>
#include <xen/hypercall.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using xen::ConsoleRing;
using xen::Errc;
using xen::VcpuId;
namespace abi = xen::abi;
namespace sim = xen::sim;

namespace {

struct Rig {
    sim::Hypervisor hv;
    sim::Scope scope{hv, VcpuId{0}};
    std::unique_ptr<abi::xencons_interface> page = std::make_unique<abi::xencons_interface>();
    sim::ConsoleBackend backend{*page};
    xen::hc::Port port = xen::hc::evtchn_alloc_unbound(0).value();
    ConsoleRing ring{page.get(), port};

    uint64_t sends() const { return hv.calls(abi::hypercall::event_channel_op); }
};

void drain_some(void* ctx) noexcept { static_cast<sim::ConsoleBackend*>(ctx)->drain(100); }
void stuck(void*) noexcept {}

} // namespace

TEST_CASE("console write_some: the text lands in out and the backend is notified once", "[console][sim]")
{
    Rig r;
    const uint64_t before = r.sends();
    auto n = r.ring.write_some("ok 1 - hello\n", 13);
    REQUIRE(n);
    CHECK(*n == 13);
    CHECK(r.sends() == before + 1);
    CHECK(r.ring.output_pending().value() == 13);
    r.backend.drain();
    CHECK(r.backend.output() == "ok 1 - hello\n");
    CHECK(r.ring.output_pending().value() == 0);
}

TEST_CASE("console write_some: a full ring takes nothing and sends no event", "[console][sim]")
{
    Rig r;
    std::string big(3000, 'x');
    auto n = r.ring.write_some(big.data(), big.size());
    REQUIRE(n);
    CHECK(*n == 2048); // sizeof(out)
    const uint64_t before = r.sends();
    auto again = r.ring.write_some("y", 1);
    REQUIRE(again);
    CHECK(*again == 0);
    CHECK(r.sends() == before);
}

TEST_CASE("console write: wraps the ring while a slow backend drains it in pieces", "[console][sim]")
{
    Rig r;
    // Start near the top of the index space so the counters wrap too.
    r.page->out_prod = r.page->out_cons = 0xffffff00u;
    std::string text;
    for (int i = 0; i < 500; ++i)
        text += "line " + std::to_string(i) + "\n";
    REQUIRE(r.ring.write(text.data(), text.size(), drain_some, &r.backend, 10));
    r.backend.drain();
    CHECK(r.backend.output() == text);
}

TEST_CASE("console write: a backend that never drains gives timed_out after max_waits", "[console][sim]")
{
    Rig r;
    std::string big(5000, 'z');
    auto res = r.ring.write(big.data(), big.size(), stuck, nullptr, 3);
    REQUIRE_FALSE(res);
    CHECK(res.error() == Errc::timed_out);
    CHECK(r.ring.output_pending().value() == 2048);
}

TEST_CASE("console read: input arrives in pieces and is consumed in order", "[console][sim]")
{
    Rig r;
    char buf[16];
    auto none = r.ring.read(buf, sizeof(buf));
    REQUIRE(none);
    CHECK(*none == 0);
    r.backend.type("hello, guest\n");
    r.backend.step_input(5);
    CHECK(r.ring.input_pending().value() == 5);
    auto a = r.ring.read(buf, sizeof(buf));
    REQUIRE(a);
    CHECK(std::string(buf, *a) == "hello");
    r.backend.step_input();
    auto b = r.ring.read(buf, 4);
    REQUIRE(b);
    CHECK(std::string(buf, *b) == ", gu");
    auto c = r.ring.read(buf, sizeof(buf));
    REQUIRE(c);
    CHECK(std::string(buf, *c) == "est\n");
}

TEST_CASE("console: a backend that moves out_cons past out_prod is ring_corrupt; nothing written, no event",
          "[console][sim]")
{
    Rig r;
    r.page->out_cons = 5000; // out_prod is 0: used = 2^32 - 5000 > 2048
    const uint64_t before = r.sends();
    auto n = r.ring.write_some("x", 1);
    REQUIRE_FALSE(n);
    CHECK(n.error() == Errc::ring_corrupt);
    CHECK(r.page->out_prod == 0);
    CHECK(r.sends() == before);
    // write() gives up at once instead of waiting for room that never comes.
    auto w = r.ring.write("x", 1, stuck, nullptr, 1000);
    REQUIRE_FALSE(w);
    CHECK(w.error() == Errc::ring_corrupt);
    CHECK(r.ring.output_pending().error() == Errc::ring_corrupt);
}

TEST_CASE("console: a backend that moves in_prod too far ahead is ring_corrupt; nothing read", "[console][sim]")
{
    Rig r;
    r.page->in_prod = 1025; // in_cons is 0: more than the 1024-byte ring holds
    char buf[8] = {};
    auto n = r.ring.read(buf, sizeof(buf));
    REQUIRE_FALSE(n);
    CHECK(n.error() == Errc::ring_corrupt);
    CHECK(r.page->in_cons == 0);
    CHECK(r.ring.input_pending().error() == Errc::ring_corrupt);
}

// --- several writers at once ----------------------------------------------------

namespace {

/// A line of writer `w`, number `i`: its fields twice, so a line that lost
/// or gained bytes does not parse.
std::string flood_line(unsigned w, unsigned i)
{
    const std::string id = std::to_string(w) + "." + std::to_string(i);
    return "w" + id + " " + std::string(20 + (i * 7 + w) % 50, static_cast<char>('a' + w)) + " end " + id + "\n";
}

/// What a check of the drained output found.
struct FloodCount {
    std::vector<unsigned> lines; ///< whole lines of each writer, in order
    unsigned broken = 0;         ///< lines that are not some writer's next line
    unsigned switches = 0;       ///< neighbouring lines from different writers
};

FloodCount count_flood(const std::string& out, unsigned writers)
{
    FloodCount c;
    c.lines.assign(writers, 0);
    size_t at = 0;
    unsigned last = ~0u;
    while (at < out.size()) {
        const size_t nl = out.find('\n', at);
        if (nl == std::string::npos) {
            ++c.broken; // a tail without its newline
            break;
        }
        const std::string line = out.substr(at, nl + 1 - at);
        at = nl + 1;
        unsigned w = 0;
        bool ok = false;
        for (; w < writers; ++w)
            if (line == flood_line(w, c.lines[w])) {
                ok = true;
                break;
            }
        if (!ok) {
            ++c.broken;
            continue;
        }
        ++c.lines[w];
        if (last != ~0u && last != w)
            ++c.switches;
        last = w;
    }
    return c;
}

void yield_thread(void*) noexcept { std::this_thread::yield(); }

} // namespace

TEST_CASE("console write: lines from several vCPUs at once arrive whole, each writer's in order", "[console][sim]")
{
    constexpr unsigned writers = 4;
    constexpr unsigned per_round = 300;
    Rig r;
    // Writers and a consumer running at once; a consumer that takes 37
    // bytes at a time keeps the 2 KiB ring full, so writers wait for room
    // while holding the lock and for the lock while another waits. Rounds
    // go on until the writers' lines have interleaved often (at most 20
    // rounds). That a run has interleavings to judge is the test's doing,
    // not the host's: a writer that has written max_alone lines while no
    // other writer finished one waits (between lines, not holding the lock)
    // until another does or all others are through their round, so a busy
    // host that runs the writer threads one after the other cannot make a
    // round of four separate blocks.
    constexpr unsigned max_alone = 16;
    std::atomic<unsigned> written[writers] = {};
    std::atomic<unsigned> writing{0}; // writers not yet through this round
    const auto others = [&](unsigned self) {
        unsigned n = 0;
        for (unsigned w = 0; w < writers; ++w)
            n += w == self ? 0 : written[w].load();
        return n;
    };
    std::atomic<bool> stop{false};
    std::thread consumer([&] {
        sim::Scope scope(r.hv, VcpuId{0});
        while (!stop.load())
            if (r.backend.drain(37) == 0)
                std::this_thread::yield();
        r.backend.drain();
    });
    std::atomic<unsigned> failures{0};
    unsigned rounds = 0;
    FloodCount seen;
    do {
        std::vector<std::thread> threads;
        writing = writers;
        for (unsigned w = 0; w < writers; ++w)
            threads.emplace_back([&, w] {
                sim::Scope scope(r.hv, VcpuId{w});
                unsigned alone = 0, others_then = others(w);
                for (unsigned i = rounds * per_round; i < (rounds + 1) * per_round; ++i) {
                    const std::string line = flood_line(w, i);
                    if (!r.ring.write(line.data(), line.size(), yield_thread, nullptr, 1'000'000))
                        ++failures;
                    ++written[w];
                    if (++alone < max_alone)
                        continue;
                    xen::test::wait_until([&] { return others(w) != others_then || writing.load() == 1; });
                    alone = 0;
                    others_then = others(w);
                }
                --writing;
            });
        for (auto& t : threads)
            t.join();
        ++rounds;
        // The consumer catches up before we look.
        while (r.ring.output_pending().value() != 0)
            std::this_thread::yield();
        seen = count_flood(r.backend.output(), writers);
    } while (seen.switches < 64 && rounds < 20);
    stop = true;
    consumer.join();
    seen = count_flood(r.backend.output(), writers);
    CHECK(failures.load() == 0);
    CHECK(seen.broken == 0);
    for (unsigned w = 0; w < writers; ++w)
        CHECK(seen.lines[w] == rounds * per_round);
    CHECK(seen.switches >= 64);
}

TEST_CASE("console write: a writer that finds the lock held waits, and its line follows the holder's text whole",
          "[console][sim]")
{
    Rig r;
    // A holds the lock with a text larger than the ring, so it must wait
    // for room; its first wait starts B and returns only once B has waited
    // on the lock. Without the lock B's line would land inside A's text.
    std::string a_text;
    for (int i = 0; a_text.size() < 3000; ++i)
        a_text += "A line " + std::to_string(i) + "\n";
    const std::string b_line = "B's line\n";
    struct Ctx {
        Rig* r;
        const std::string* b_line;
        std::thread b;
        std::atomic<unsigned> b_waits{0};
        bool b_ok = false;
    } ctx{&r, &b_line, {}, {}, false};
    auto b_wait = [](void* p) noexcept {
        auto* c = static_cast<Ctx*>(p);
        ++c->b_waits;
        std::this_thread::yield();
    };
    auto a_wait = [](void* p) noexcept {
        auto* c = static_cast<Ctx*>(p);
        if (!c->b.joinable()) {
            c->b = std::thread([c] {
                sim::Scope scope(c->r->hv, VcpuId{1});
                c->b_ok = static_cast<bool>(c->r->ring.write(
                    c->b_line->data(), c->b_line->size(),
                    +[](void* q) noexcept {
                        auto* cc = static_cast<Ctx*>(q);
                        ++cc->b_waits;
                        std::this_thread::yield();
                    },
                    c, 1'000'000));
            });
            while (c->b_waits.load() == 0)
                std::this_thread::yield();
        }
        c->r->backend.drain(100);
    };
    (void)b_wait;
    REQUIRE(r.ring.write(a_text.data(), a_text.size(), a_wait, &ctx, 1000));
    // B may take the lock now; drain until it has written.
    while (!ctx.b.joinable() || ctx.b_waits.load() == 0)
        std::this_thread::yield();
    for (;;) {
        r.backend.drain();
        if (r.backend.output().size() == a_text.size() + b_line.size())
            break;
        std::this_thread::yield();
    }
    ctx.b.join();
    CHECK(ctx.b_ok);
    CHECK(ctx.b_waits.load() >= 1);
    CHECK(r.backend.output() == a_text + b_line);
}

TEST_CASE("console write: a writer waiting on a lock held over a ring that never moves gives up after max_waits, "
          "writing nothing",
          "[console][sim]")
{
    Rig r;
    std::string big(2048, 'z'); // fills the ring: the holder then waits for room forever
    struct Ctx {
        Rig* r;
        std::atomic<bool> b_done{false};
        bool b_timed_out = false;
        std::thread b;
    } ctx{&r, {}, false, {}};
    auto a_wait = [](void* p) noexcept {
        auto* c = static_cast<Ctx*>(p);
        if (!c->b.joinable())
            c->b = std::thread([c] {
                sim::Scope scope(c->r->hv, VcpuId{1});
                const auto res = c->r->ring.write("late\n", 5, stuck, nullptr, 3);
                c->b_timed_out = !res && res.error() == Errc::timed_out;
                c->b_done = true;
            });
        // Hold the lock (the ring full, nothing drained) until B gave up.
        while (!c->b_done.load())
            std::this_thread::yield();
    };
    const std::string rest = "x\n";
    std::string text = big + rest;
    const auto res = r.ring.write(text.data(), text.size(), a_wait, &ctx, 1);
    ctx.b.join();
    CHECK(ctx.b_timed_out);
    // A itself timed out too (its second wait without room), with the ring
    // holding its first 2048 bytes and nothing of B's.
    REQUIRE_FALSE(res);
    CHECK(res.error() == Errc::timed_out);
    r.backend.drain();
    CHECK(r.backend.output() == big);
}
