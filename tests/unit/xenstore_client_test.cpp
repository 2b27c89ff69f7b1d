// XenStore against the simulated Xen (event channel) and a simulated
// xenstored stepped from the client's WaitFn, with limits on how many bytes
// move per step: partial reads and writes, a full ring, a silent server.
#include <xen/xenstore.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <sim/rings.hpp>
#include <xen/hypercall.hpp>

#include <cstring>
#include <memory>
#include <string>

using xen::Errc;
using xen::VcpuId;
using xen::XenStore;
using xen::XenStoreWatchEvent;
namespace abi = xen::abi;
namespace sim = xen::sim;

namespace {

struct Rig {
    sim::Hypervisor hv;
    sim::Scope scope{hv, VcpuId{0}};
    std::unique_ptr<abi::xenstore_domain_interface> page = std::make_unique<abi::xenstore_domain_interface>();
    sim::XenStoreBackend backend{*page, "/local/domain/1"};
    size_t max_in = 0, max_out = 0;
    bool silent = false;
    int steps_left = -1; // >= 0: steps the server still takes before it falls silent
    unsigned waits = 0;
    xen::hc::Port port = xen::hc::evtchn_alloc_unbound(0).value();
    XenStore xs{page.get(), port, step, this, 500};

    static void step(void* ctx) noexcept
    {
        auto* r = static_cast<Rig*>(ctx);
        ++r->waits;
        if (r->steps_left == 0)
            return;
        if (r->steps_left > 0)
            --r->steps_left;
        if (!r->silent)
            r->backend.step(r->max_in, r->max_out);
    }
};

} // namespace

TEST_CASE("xenstore read: a relative path is under the domain's home; the value comes NUL-terminated",
          "[xenstore][sim]")
{
    Rig r;
    r.backend.set("/local/domain/1/name", "domu");
    char buf[32];
    auto n = r.xs.read("name", buf, sizeof(buf));
    REQUIRE(n);
    CHECK(*n == 4);
    CHECK(std::string(buf) == "domu");
}

TEST_CASE("xenstore read: a missing node is ENOENT from xenstored's XS_ERROR", "[xenstore][sim]")
{
    Rig r;
    char buf[8];
    auto n = r.xs.read("cpu/7/availability", buf, sizeof(buf));
    REQUIRE_FALSE(n);
    CHECK(n.error() == Errc::enoent);
}

TEST_CASE("xenstore read: a value longer than the buffer is emsgsize and the ring stays in step", "[xenstore][sim]")
{
    Rig r;
    r.backend.set("long", std::string(100, 'a'));
    r.backend.set("short", "b");
    char buf[16];
    auto n = r.xs.read("long", buf, sizeof(buf));
    REQUIRE_FALSE(n);
    CHECK(n.error() == Errc::emsgsize);
    auto m = r.xs.read("short", buf, sizeof(buf));
    REQUIRE(m);
    CHECK(std::string(buf) == "b");
}

TEST_CASE("xenstore write: the node is set and watches on it fire", "[xenstore][sim]")
{
    Rig r;
    REQUIRE(r.xs.watch("control/shutdown", "shutdown"));
    XenStoreWatchEvent e{};
    auto initial = r.xs.next_watch_event(e);
    REQUIRE(initial);
    CHECK(*initial); // xenstored fires each new watch once
    CHECK(std::string(e.token) == "shutdown");
    REQUIRE(r.xs.write("control/shutdown", "poweroff"));
    CHECK(r.backend.get("/local/domain/1/control/shutdown") == "poweroff");
    auto fired = r.xs.next_watch_event(e);
    REQUIRE(fired);
    CHECK(*fired);
    CHECK(std::string(e.path) == "control/shutdown");
}

TEST_CASE("xenstore: requests and replies longer than the ring move in pieces of 7 bytes", "[xenstore][sim]")
{
    Rig r;
    r.max_in = 7;
    r.max_out = 7;
    const std::string value(1500, 'v'); // more than the 1024-byte ring each way
    REQUIRE(r.xs.write("data/big", value.c_str()));
    CHECK(r.backend.get("data/big") == value);
    std::string buf(2000, '\0');
    auto n = r.xs.read("data/big", buf.data(), buf.size());
    REQUIRE(n);
    CHECK(*n == value.size());
    CHECK(std::string(buf.c_str()) == value);
}

TEST_CASE("xenstore: a request fills the ring while the server reads nothing, then completes", "[xenstore][sim]")
{
    Rig r;
    r.page->req_prod = r.page->req_cons = 0xfffffe00u; // indices wrap during the test
    r.page->rsp_prod = r.page->rsp_cons = 0xfffffff0u;
    r.silent = true;
    const std::string value(2000, 'f');
    // With a silent server the write fills the ring and gives up.
    auto res = r.xs.write("full", value.c_str());
    REQUIRE_FALSE(res);
    CHECK(res.error() == Errc::timed_out);
    CHECK(r.page->req_prod - r.page->req_cons == abi::xenstore_ring_size);
}

TEST_CASE("xenstore: watch events that arrive before a reply are queued, not taken for it", "[xenstore][sim]")
{
    Rig r;
    REQUIRE(r.xs.watch("cpu", "cpu"));
    r.backend.set("cpu/1/availability", "offline"); // event queued before the next reply
    r.backend.set("cpu/2/availability", "offline");
    r.backend.set("name", "domu");
    char buf[16];
    auto n = r.xs.read("name", buf, sizeof(buf));
    REQUIRE(n);
    CHECK(std::string(buf) == "domu");
    XenStoreWatchEvent e{};
    std::string seen;
    while (*r.xs.next_watch_event(e))
        seen += std::string(e.path) + ";";
    CHECK(seen == "cpu;cpu/1/availability;cpu/2/availability;");
}

TEST_CASE("xenstore: more watch events than the queue holds keep the newest and count the dropped", "[xenstore][sim]")
{
    Rig r;
    REQUIRE(r.xs.watch("cpu", "cpu"));
    for (int i = 0; i < 12; ++i)
        r.backend.set("cpu/" + std::to_string(i) + "/availability", "online");
    char buf[8];
    r.backend.set("x", "1");
    REQUIRE(r.xs.read("x", buf, sizeof(buf))); // pulls all 13 events through
    XenStoreWatchEvent e{};
    unsigned count = 0;
    std::string last;
    while (*r.xs.next_watch_event(e)) {
        ++count;
        last = e.path;
    }
    CHECK(count == 8);
    CHECK(r.xs.dropped_events() == 5);
    CHECK(last == "cpu/11/availability");
}

TEST_CASE("xenstore: a silent xenstored makes a read time out after max_waits", "[xenstore][sim]")
{
    Rig r;
    r.silent = true;
    char buf[8];
    auto n = r.xs.read("name", buf, sizeof(buf));
    REQUIRE_FALSE(n);
    CHECK(n.error() == Errc::timed_out);
    CHECK(r.waits == 500); // max_waits calls, then it gives up
}

TEST_CASE("xenstore unwatch: a removed watch fires no more; an unknown one is ENOENT", "[xenstore][sim]")
{
    Rig r;
    REQUIRE(r.xs.watch("control", "c"));
    REQUIRE(r.xs.unwatch("control", "c"));
    XenStoreWatchEvent e{};
    while (*r.xs.next_watch_event(e)) {
    }
    r.backend.set("control/shutdown", "reboot");
    char buf[8];
    REQUIRE(r.xs.read("control/shutdown", buf, sizeof(buf)));
    CHECK_FALSE(*r.xs.next_watch_event(e));
    auto bad = r.xs.unwatch("control", "c");
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == Errc::enoent);
}

TEST_CASE("xenstore: a xenstored that moves req_cons past req_prod is ring_corrupt; nothing sent", "[xenstore][sim]")
{
    Rig r;
    r.page->req_cons = 2000; // req_prod is 0: 2^32 - 2000 bytes "in" a 1024-byte ring
    char buf[8];
    auto n = r.xs.read("name", buf, sizeof(buf));
    REQUIRE_FALSE(n);
    CHECK(n.error() == Errc::ring_corrupt);
    CHECK(r.page->req_prod == 0);
    CHECK(r.waits == 0); // failed at once, did not wait for room
}

TEST_CASE("xenstore: a xenstored that moves rsp_prod too far ahead is ring_corrupt; nothing taken", "[xenstore][sim]")
{
    Rig r;
    r.page->rsp_prod = 4096; // rsp_cons is 0
    XenStoreWatchEvent e{};
    auto ev = r.xs.next_watch_event(e);
    REQUIRE_FALSE(ev);
    CHECK(ev.error() == Errc::ring_corrupt);
    CHECK(r.page->rsp_cons == 0);
}

TEST_CASE("xenstore request: more than max_parts parts is invalid_argument before anything is written",
          "[xenstore][sim]")
{
    Rig r;
    // XS_WRITE of "data/multi" = "abcd", the value in four parts: five in all,
    // one more than XenStore::max_parts.
    const char* parts[] = {"data/multi", "a", "b", "c", "d"};
    const size_t lens[] = {sizeof("data/multi"), 1, 1, 1, 1};
    char reply[8];
    const uint32_t prod = r.page->req_prod;
    auto n = r.xs.request(abi::xsd_sockmsg_type::write, parts, lens, 5, reply, sizeof(reply));
    REQUIRE_FALSE(n);
    CHECK(n.error() == Errc::invalid_argument);
    CHECK(r.page->req_prod == prod); // no header, no part: the stream stays in step
    CHECK(r.waits == 0);
    // The next request goes through as if nothing had been tried.
    const size_t four[] = {sizeof("data/multi"), 1, 1, 1};
    REQUIRE(r.xs.request(abi::xsd_sockmsg_type::write, parts, four, 4, reply, sizeof(reply)));
    CHECK(r.backend.get("data/multi") == "abc");
}

// Found by tests/fuzz/xenstore_fuzz: write(), watch() and unwatch() read the
// reply into 8 bytes, and an XS_ERROR name was read into the same buffer,
// so "ENOTEMPTY" (10 bytes with its NUL) was cut, unknown, and reported as eio.
TEST_CASE("xenstore: an error name longer than the caller's reply buffer is still named", "[xenstore][sim]")
{
    Rig r;
    r.backend.push_message(static_cast<uint32_t>(abi::xsd_sockmsg_type::error), 1, std::string("ENOTEMPTY", 10));
    auto w = r.xs.write("data/x", "1"); // request id 1: the queued XS_ERROR answers it
    REQUIRE_FALSE(w);
    CHECK(w.error() == Errc::enotempty);
}

// Found by tests/fuzz/xenstore_fuzz: a read that gave up with half a reply
// header taken left the rest of that message in the ring, and the next call
// read it as a header (eio, or worse), for good.
TEST_CASE("xenstore: a read that times out mid-reply leaves the stream in step for the next one", "[xenstore][sim]")
{
    Rig r;
    r.backend.set("a", std::string(40, 'a'));
    r.backend.set("b", "bee");
    r.max_out = 8;
    r.steps_left = 1; // the request is read and 8 bytes of the reply's header sent; then silence
    char buf[64];
    auto a = r.xs.read("a", buf, sizeof(buf));
    REQUIRE_FALSE(a);
    CHECK(a.error() == Errc::timed_out);
    r.steps_left = -1; // xenstored catches up
    r.max_out = 0;
    auto b = r.xs.read("b", buf, sizeof(buf));
    REQUIRE(b);
    CHECK(std::string(buf) == "bee");
    // The same with the reply cut in its payload.
    r.max_out = 20;
    r.steps_left = 1;
    a = r.xs.read("a", buf, sizeof(buf));
    REQUIRE_FALSE(a);
    CHECK(a.error() == Errc::timed_out);
    r.steps_left = -1;
    r.max_out = 0;
    b = r.xs.read("b", buf, sizeof(buf));
    REQUIRE(b);
    CHECK(std::string(buf) == "bee");
}

// Found by tests/fuzz/xenstore_fuzz: a request that gave up with only part
// of it in the ring left xenstored waiting for the rest, and it took the
// next request's bytes for it.
TEST_CASE("xenstore: a request that times out half sent is finished by the next call", "[xenstore][sim]")
{
    Rig r;
    r.backend.set("name", "domu");
    const std::string value(2000, 'v');
    r.max_in = 512;
    r.steps_left = 1; // xenstored reads 512 bytes, then nothing
    auto w = r.xs.write("big", value.c_str());
    REQUIRE_FALSE(w);
    CHECK(w.error() == Errc::timed_out);
    r.steps_left = -1;
    r.max_in = 0;
    char buf[16];
    auto n = r.xs.read("name", buf, sizeof(buf));
    REQUIRE(n);
    CHECK(std::string(buf) == "domu");
    CHECK(r.backend.get("big") == value); // the abandoned write took effect, whole
}

// A header that announces more than XENSTORE_PAYLOAD_MAX: where the next
// message starts is unknown, so the client stops reading at all.
TEST_CASE("xenstore: after an oversized reply header every call is eio", "[xenstore][sim]")
{
    Rig r;
    r.backend.push_message(static_cast<uint32_t>(abi::xsd_sockmsg_type::read), 1, "");
    // Rewrite the queued header's len once it is in the ring: 16 bytes at rsp_prod - 16.
    r.backend.step();
    abi::xsd_sockmsg h{};
    const uint32_t at = (r.page->rsp_prod - 16) % abi::xenstore_ring_size;
    std::memcpy(&h, &r.page->rsp[at], sizeof(h));
    h.len = abi::xenstore_payload_max + 1;
    std::memcpy(&r.page->rsp[at], &h, sizeof(h));
    char buf[8];
    auto a = r.xs.read("a", buf, sizeof(buf));
    REQUIRE_FALSE(a);
    CHECK(a.error() == Errc::eio);
    r.backend.set("b", "1");
    auto b = r.xs.read("b", buf, sizeof(buf));
    REQUIRE_FALSE(b);
    CHECK(b.error() == Errc::eio);
    XenStoreWatchEvent e{};
    auto ev = r.xs.next_watch_event(e);
    REQUIRE_FALSE(ev);
    CHECK(ev.error() == Errc::eio);
}
