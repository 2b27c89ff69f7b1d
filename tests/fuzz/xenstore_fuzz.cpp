// libFuzzer target: the xenstore client (xen/xenstore.hpp) against a
// xenstored that the input bytes play. The backend acts whenever the client
// waits (its WaitFn) and between the client's calls: it consumes requests,
// sends replies and watch events whose every header field (type, req_id,
// tx_id, len) and payload byte is the input's, and sets any of the four
// ring indices to any value.
//
// What must hold, whatever the backend does:
// - the client touches only its own side of the page: request bytes in the
//   free slots it publishes with req_prod (never more than the room the
//   indices showed), rsp_cons moved forward over bytes that were there, and
//   nothing else (checked at every hand-over between the two ends);
// - buffers the caller passed are written only within their size
//   (AddressSanitizer: every buffer, and the ring page itself, is a heap
//   block of exactly its size);
// - every call returns, with a value or a typed error from the documented
//   set, and gives up after max_waits waits in a row without progress.
// In honest mode the backend is a correct xenstored whose pace alone is the
// input's: then no error may blame it, a read returns the value it sent, and
// once it answers promptly again a read succeeds (the stream is in step).
//
// Input: byte 0 is the shape (bits 0-2 max_waits, bit 3 indices near the
// wrap, bit 4 honest mode); then each byte with its top bit clear is one
// backend step, each with it set one client call (op % 7), both followed
// by their arguments.
//
//   xenstore_fuzz -max_total_time=600 SCRATCH_DIR tests/fuzz/corpus/xenstore_fuzz
#include <xen/xenstore.hpp>

#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_input.hpp"

namespace abi = xen::abi;
using xen::Errc;

namespace {

constexpr uint32_t ring_size = abi::xenstore_ring_size;

[[noreturn]] void fail(const char* what, unsigned long long a = 0, unsigned long long b = 0)
{
    fuzz::fail("xenstore_fuzz", what, a, b);
}

// XENSTORE_FUZZ_TRACE set: print each call, xenstored step and result (to
// read a crash input's story).
bool trace()
{
    static const bool on = std::getenv("XENSTORE_FUZZ_TRACE") != nullptr;
    return on;
}

// The errors a call may return when the backend misbehaves or refuses.
bool allowed(Errc e, bool request_api)
{
    switch (e) {
    case Errc::timed_out:
    case Errc::ring_corrupt:
    case Errc::eio:
    case Errc::emsgsize:
    // What XS_ERROR may name (error_from_name).
    case Errc::einval:
    case Errc::eacces:
    case Errc::eexist:
    case Errc::eisdir:
    case Errc::enoent:
    case Errc::enomem:
    case Errc::enospc:
    case Errc::enotempty:
    case Errc::enosys:
    case Errc::erofs:
    case Errc::ebusy:
    case Errc::eagain:
    case Errc::eisconn:
    case Errc::eperm: return true;
    case Errc::e2big: // XS_ERROR "E2BIG", or request()'s own refusal
        return true;
    case Errc::invalid_argument: return request_api;
    default: return false;
    }
}

struct Backend {
    abi::xenstore_domain_interface* page = nullptr;
    fuzz::Input* in = nullptr;
    // What the guest left the page as at the last hand-over.
    abi::xenstore_domain_interface seen{};
    std::deque<char> out;     // reply bytes not yet in the ring
    std::vector<char> reqs;   // request bytes consumed, not yet parsed
    uint32_t last_req_id = 0; // of the last whole request parsed
    // Honest mode: a slow but correct xenstored. It answers every request
    // (XS_READ with the path as the value, a path starting with 'E' with
    // XS_ERROR "ENOENT", anything else with "OK"), sends well-formed watch
    // events, and only its pace is the input's.
    bool honest = false;
    bool full_service = false; // every wait: read all requests, send all replies
    unsigned waits_in_call = 0;
    unsigned idle_waits = 0;
    uint32_t max_waits = 0;

    // The guest ran since `seen`: check what it changed.
    void check_guest()
    {
        const auto& a = seen;
        const auto& b = *page;
        if (std::memcmp(a.rsp, b.rsp, ring_size) != 0)
            fail("the guest wrote into the reply ring");
        if (a.req_cons != b.req_cons)
            fail("the guest moved req_cons", a.req_cons, b.req_cons);
        if (a.rsp_prod != b.rsp_prod)
            fail("the guest moved rsp_prod", a.rsp_prod, b.rsp_prod);
        if (a.server_features != b.server_features || a.connection != b.connection || a.error != b.error)
            fail("the guest wrote the page's trailing fields");
        const uint32_t wrote = b.req_prod - a.req_prod;
        if (wrote != 0) {
            const uint32_t used = a.req_prod - a.req_cons;
            if (used > ring_size)
                fail("the guest produced into a corrupt request ring", a.req_prod, a.req_cons);
            if (wrote > ring_size - used)
                fail("the guest produced more than the room", wrote, ring_size - used);
        }
        for (uint32_t i = 0; i < ring_size; ++i) {
            const uint32_t from_prod = (i - a.req_prod) & (ring_size - 1);
            if (from_prod >= wrote && a.req[i] != b.req[i])
                fail("the guest wrote a request slot it did not publish", i);
        }
        const uint32_t took = b.rsp_cons - a.rsp_cons;
        if (took != 0) {
            const uint32_t avail = a.rsp_prod - a.rsp_cons;
            if (avail > ring_size || took > avail)
                fail("the guest consumed more than the reply ring held", took, avail);
        }
    }

    void hand_back() { seen = *page; }

    // Honest consumption of up to `k` request bytes, parsing headers to learn
    // the request ids (for replies that match).
    void consume_requests(uint32_t k)
    {
        const uint32_t used = page->req_prod - page->req_cons;
        if (used > ring_size)
            return;
        const uint32_t n = k < used ? k : used;
        for (uint32_t i = 0; i < n; ++i)
            reqs.push_back(page->req[(page->req_cons + i) & (ring_size - 1)]);
        page->req_cons += n;
        while (reqs.size() >= sizeof(abi::xsd_sockmsg)) {
            abi::xsd_sockmsg h;
            std::memcpy(&h, reqs.data(), sizeof(h));
            if (h.len > abi::xenstore_payload_max) {
                reqs.clear(); // lost track; the guest never sends this
                break;
            }
            if (reqs.size() < sizeof(h) + h.len)
                break;
            last_req_id = h.req_id;
            if (honest)
                answer(h, std::string(reqs.data() + sizeof(h), h.len));
            reqs.erase(reqs.begin(), reqs.begin() + static_cast<long>(sizeof(h) + h.len));
        }
    }

    // Honest production of up to `k` queued reply bytes.
    void push_replies(uint32_t k)
    {
        const uint32_t used = page->rsp_prod - page->rsp_cons;
        if (used > ring_size)
            return;
        uint32_t n = ring_size - used;
        if (k < n)
            n = k;
        if (out.size() < n)
            n = static_cast<uint32_t>(out.size());
        for (uint32_t i = 0; i < n; ++i) {
            page->rsp[(page->rsp_prod + i) & (ring_size - 1)] = out.front();
            out.pop_front();
        }
        page->rsp_prod += n;
    }

    void put(uint32_t type, uint32_t req_id, const std::string& body)
    {
        const abi::xsd_sockmsg h{type, req_id, 0, static_cast<uint32_t>(body.size())};
        const char* hp = reinterpret_cast<const char*>(&h);
        out.insert(out.end(), hp, hp + sizeof(h));
        out.insert(out.end(), body.begin(), body.end());
    }

    void answer(const abi::xsd_sockmsg& h, const std::string& body)
    {
        const std::string path = body.substr(0, body.find('\0'));
        if (trace())
            std::fprintf(stderr, "  xenstored: request type %u id %u len %u\n", h.type, h.req_id, h.len);
        const auto error = static_cast<uint32_t>(abi::xsd_sockmsg_type::error);
        if (h.type == error || h.type == static_cast<uint32_t>(abi::xsd_sockmsg_type::watch_event))
            put(error, h.req_id, std::string("EINVAL", 7)); // not a request xenstored serves
        else if (!path.empty() && path[0] == 'E')
            put(error, h.req_id, std::string("ENOENT", 7));
        else if (h.type == static_cast<uint32_t>(abi::xsd_sockmsg_type::read))
            put(h.type, h.req_id, path);
        else
            put(h.type, h.req_id, std::string("OK", 3));
    }

    void honest_step(uint8_t op)
    {
        if (trace())
            std::fprintf(stderr, "  xenstored step %u\n", op % 5);
        switch (op % 5) {
        case 0: break;
        case 1: consume_requests(in->u16() % (2 * ring_size)); break;
        case 2: push_replies(in->u16() % (2 * ring_size)); break;
        case 3: {
            std::string body = "cpu/" + std::to_string(in->u8()) + "/availability";
            body += '\0';
            body += "tok" + std::to_string(in->u8() % 4);
            body += '\0';
            put(static_cast<uint32_t>(abi::xsd_sockmsg_type::watch_event), 0, body);
            break;
        }
        default:
            consume_requests(2 * ring_size);
            for (int i = 0; i < 8 && !out.empty(); ++i)
                push_replies(2 * ring_size);
            break;
        }
    }

    void queue_message()
    {
        const uint8_t shape = in->u8();
        abi::xsd_sockmsg h{};
        switch (shape & 3) {
        case 0: h.type = static_cast<uint32_t>(abi::xsd_sockmsg_type::watch_event); break;
        case 1: h.type = static_cast<uint32_t>(abi::xsd_sockmsg_type::error); break;
        case 2: h.type = in->u8() % 24; break;
        default: h.type = in->u32(); break;
        }
        switch ((shape >> 2) & 3) {
        case 0: h.req_id = last_req_id; break;
        case 1: h.req_id = 0; break;
        case 2: h.req_id = last_req_id + 1; break;
        default: h.req_id = in->u32(); break;
        }
        if ((shape & 0x10) != 0)
            h.tx_id = in->u32();
        std::vector<char> body;
        static const char* const names[] = {"ENOENT", "EINVAL", "EQUOTA", "E2BIG", "EIO", "", "EAGAIN\0x"};
        if ((shape & 0x60) == 0x20) {
            // An errno name, with or without its NUL.
            const char* n = names[in->u8() % (sizeof(names) / sizeof(names[0]))];
            body.assign(n, n + std::strlen(n) + (in->u8() & 1));
        } else {
            body.resize(in->u16() % 600);
            body.resize(in->bytes(body.data(), body.size()));
        }
        const uint8_t len_mode = in->u8();
        if ((len_mode & 7) == 0)
            h.len = in->u32(); // a lie, maybe beyond XENSTORE_PAYLOAD_MAX
        else if ((len_mode & 7) == 1)
            h.len = static_cast<uint32_t>(body.size()) + (in->u16() % 5000); // more than follows
        else
            h.len = static_cast<uint32_t>(body.size());
        const char* hp = reinterpret_cast<const char*>(&h);
        out.insert(out.end(), hp, hp + sizeof(h));
        out.insert(out.end(), body.begin(), body.end());
        if ((len_mode & 8) != 0) // a long payload, to make the message span the ring
            out.insert(out.end(), in->u16() % 4200, 'x');
    }

    uint32_t hostile_index(uint32_t other)
    {
        const uint8_t how = in->u8();
        switch (how & 7) {
        case 0: return in->u32();
        case 1: return other + ring_size + 1 + in->u8();
        case 2: return other - 1 - in->u8();
        case 3: return other + ring_size;
        case 4: return 0xffffffffu - in->u8();
        default: return other + (in->u16() % (2 * ring_size));
        }
    }

    // One step of xenstored, as the input says.
    void step()
    {
        if (in->empty())
            return;
        const uint8_t op = in->u8();
        if (honest) {
            honest_step(op);
            return;
        }
        switch (op % 9) {
        case 0: break;
        case 1: consume_requests(in->u16() % (2 * ring_size)); break;
        case 2: queue_message(); break;
        case 3: push_replies(in->u16() % (2 * ring_size)); break;
        case 4: {
            switch (in->u8() & 3) {
            case 0: page->req_cons = hostile_index(page->req_prod); break;
            case 1: page->req_prod = hostile_index(page->req_cons); break;
            case 2: page->rsp_cons = hostile_index(page->rsp_prod); break;
            default: page->rsp_prod = hostile_index(page->rsp_cons); break;
            }
            break;
        }
        case 5: {
            // Raw bytes into the reply ring at rsp_prod, published unchecked.
            const uint32_t n = in->u16() % (2 * ring_size);
            for (uint32_t i = 0; i < n && !in->empty(); ++i)
                page->rsp[(page->rsp_prod + i) & (ring_size - 1)] = static_cast<char>(in->u8());
            page->rsp_prod += n;
            break;
        }
        case 6: {
            // Scribble over the request ring (the backend may write anything).
            const uint32_t at = in->u16() & (ring_size - 1);
            page->req[at] = static_cast<char>(in->u8());
            break;
        }
        case 7:
            // Put everything back in order: indices sane, the queue flushed.
            page->req_cons = page->req_prod;
            page->rsp_cons = page->rsp_prod;
            reqs.clear();
            break;
        default:
            consume_requests(2 * ring_size);
            for (int i = 0; i < 8 && !out.empty(); ++i)
                push_replies(2 * ring_size);
            break;
        }
    }

    static void wait(void* ctx) noexcept
    {
        auto* b = static_cast<Backend*>(ctx);
        b->check_guest();
        ++b->waits_in_call;
        if (b->in->empty()) {
            // The script is over: the client must give up soon. Each wait
            // may follow progress (at most a ring of bytes each way), so
            // bound by that; anything beyond is an endless wait.
            if (++b->idle_waits > (2 * ring_size + 2) * (b->max_waits + 1))
                fail("the client waits without end on a silent backend", b->idle_waits);
        }
        if (b->full_service)
            b->serve_all();
        else
            b->step();
        b->hand_back();
    }

    void serve_all()
    {
        consume_requests(2 * ring_size);
        for (int i = 0; i < 8 && !out.empty(); ++i)
            push_replies(2 * ring_size);
    }
};

struct World {
    xen::sim::Hypervisor hv;
    xen::sim::Scope scope{hv, xen::VcpuId{0}};
    xen::hc::Port port = xen::hc::evtchn_alloc_unbound(0).value();
};

World& world()
{
    static World w;
    return w;
}

template <typename T>
void check_result(const xen::Result<T>& r, bool request_api, bool honest)
{
    if (trace())
        std::fprintf(stderr, "  -> %s\n", r.has_value() ? "ok" : xen::errc_name(r.error()));
    if (r.has_value())
        return;
    if (!allowed(r.error(), request_api))
        fail("an error outside the documented set", static_cast<unsigned long long>(r.error()));
    // A slow but correct xenstored: only its slowness, its ENOENT and the
    // caller's own mistakes may show.
    const Errc e = r.error();
    if (honest && e != Errc::timed_out && e != Errc::enoent && e != Errc::einval && e != Errc::emsgsize &&
        e != Errc::invalid_argument && e != Errc::e2big)
        fail("a correct (slow) xenstored got an error that blames it", static_cast<unsigned long long>(e));
}

void nul_terminated(const char* s, size_t cap, const char* what)
{
    if (std::memchr(s, '\0', cap) == nullptr)
        fail(what);
}

// A NUL-terminated string of up to 40 bytes from the input, in its own heap block.
std::unique_ptr<char[]> text(fuzz::Input& in)
{
    const size_t n = in.u8() % 41;
    auto s = std::make_unique<char[]>(n + 1);
    const size_t got = in.bytes(s.get(), n);
    for (size_t i = 0; i < got; ++i)
        if (s[i] == '\0')
            s[i] = 'a';
    s[got] = '\0';
    return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    World& w = world();
    fuzz::Input in(data, size);
    auto page = std::make_unique<abi::xenstore_domain_interface>();
    Backend be;
    be.page = page.get();
    be.in = &in;
    const uint8_t shape = in.u8();
    be.max_waits = shape & 7;
    be.honest = (shape & 0x10) != 0;
    if ((shape & 8) != 0) {
        // Start from indices near the wrap.
        const uint32_t base = 0xffffffffu - in.u16();
        page->req_cons = page->req_prod = base;
        page->rsp_cons = page->rsp_prod = base - in.u16() % 3;
        page->rsp_cons = page->rsp_prod;
    }
    be.hand_back();
    xen::XenStore xs(page.get(), w.port, &Backend::wait, &be, be.max_waits);

    constexpr unsigned max_ops = 64;
    for (unsigned ops = 0; ops < max_ops && !in.empty(); ++ops) {
        const uint8_t op = in.u8();
        if ((op & 0x80) == 0) {
            be.check_guest();
            be.step();
            be.hand_back();
            continue;
        }
        if (trace())
            std::fprintf(stderr, "op %u: req %u/%u rsp %u/%u\n", op % 6, page->req_cons, page->req_prod, page->rsp_cons,
                         page->rsp_prod);
        be.check_guest();
        be.waits_in_call = 0;
        be.idle_waits = 0;
        switch (op % 7) {
        case 0: {
            auto path = text(in);
            const size_t cap = 1 + in.u8() % 64;
            auto buf = std::make_unique<char[]>(cap);
            auto r = xs.read(path.get(), buf.get(), cap);
            be.check_guest();
            check_result(r, false, be.honest);
            if (r.has_value() && (*r >= cap || buf[*r] != '\0'))
                fail("read: the value is not NUL-terminated within the buffer", *r, cap);
            if (!r.has_value())
                nul_terminated(buf.get(), cap, "read: a failed read left no NUL in the buffer");
            if (be.honest && r.has_value() && std::strcmp(buf.get(), path.get()) != 0)
                fail("read: a correct xenstored's value came back wrong", *r);
            break;
        }
        case 1: {
            auto path = text(in);
            auto value = text(in);
            auto r = xs.write(path.get(), value.get());
            be.check_guest();
            check_result(r, false, be.honest);
            break;
        }
        case 2:
        case 3: {
            auto path = text(in);
            auto token = text(in);
            auto r = op % 7 == 2 ? xs.watch(path.get(), token.get()) : xs.unwatch(path.get(), token.get());
            be.check_guest();
            check_result(r, false, be.honest);
            break;
        }
        case 6:
            if (be.honest && be.max_waits > 0) {
                // A correct xenstored that now answers at once: whatever
                // earlier calls gave up on, the client is back in step.
                be.full_service = true;
                char buf[8];
                auto r = xs.read("sync", buf, sizeof(buf));
                be.full_service = false;
                be.check_guest();
                if (!r.has_value())
                    fail("honest xenstored, prompt again: read failed", static_cast<unsigned long long>(r.error()));
                if (std::strcmp(buf, "sync") != 0)
                    fail("honest xenstored, prompt again: read returned another value");
                break;
            }
            [[fallthrough]];
        case 4: {
            for (unsigned i = 0; i < 12; ++i) {
                xen::XenStoreWatchEvent ev;
                std::memset(&ev, 0x55, sizeof(ev));
                auto r = xs.next_watch_event(ev);
                be.check_guest();
                check_result(r, false, be.honest);
                if (!r.has_value() || !*r)
                    break;
                nul_terminated(ev.path, sizeof(ev.path), "watch event: path not NUL-terminated");
                nul_terminated(ev.token, sizeof(ev.token), "watch event: token not NUL-terminated");
            }
            break;
        }
        default: {
            // request(): any type, up to max_parts + 1 parts, lengths that
            // may pass XENSTORE_PAYLOAD_MAX, any reply capacity.
            const auto type = static_cast<abi::xsd_sockmsg_type>(in.u8() % 24);
            const unsigned count = in.u8() % (xen::XenStore::max_parts + 2);
            std::vector<std::vector<char>> store(count);
            const char* parts[xen::XenStore::max_parts + 1] = {};
            size_t lens[xen::XenStore::max_parts + 1] = {};
            for (unsigned i = 0; i < count; ++i) {
                const uint16_t l = in.u16();
                lens[i] = (l & 0x8000) != 0 ? (l & 0x1fff) : (l % 64);
                store[i].resize(lens[i] + 1);
                in.bytes(store[i].data(), lens[i]);
                parts[i] = store[i].data();
            }
            const size_t cap = in.u8() % 200;
            auto body = std::make_unique<char[]>(cap + 1); // cap + 1: non-null even for 0
            auto r = xs.request(type, parts, lens, count, body.get(), cap);
            be.check_guest();
            check_result(r, true, be.honest);
            if (r.has_value() && *r > cap)
                fail("request: a reply longer than the buffer reported as success", *r, cap);
            break;
        }
        }
        be.hand_back();
    }
    return 0;
}
