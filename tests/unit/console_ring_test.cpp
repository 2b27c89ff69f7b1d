// ConsoleRing against the simulated Xen (event channel) and a simulated
// xenconsoled that moves only when the test says so.
#include <xen/console.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <sim/rings.hpp>
#include <xen/hypercall.hpp>

#include <memory>
#include <string>

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
