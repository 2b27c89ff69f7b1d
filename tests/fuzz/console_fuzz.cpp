// libFuzzer target: the console ring (xen/console.hpp over
// ring/byte_ring.hpp) against a backend the input bytes play, which drains
// and feeds the rings honestly or sets any of the four indices to any
// value: out_cons beyond out_prod, indices about to wrap, gaps of up to
// 2^32 - 1.
//
// Each call is checked against what the indices it found allow (computed
// here from the page before the call, independently of ByteRing):
// - fill <= size: the call moves exactly min(asked, room or fill) bytes,
//   they are the caller's bytes in the slots after the producer index (or
//   the ring's bytes after the consumer index), and it moves only its own
//   index by that much;
// - fill > size: Errc::ring_corrupt, nothing copied, no index moved;
// - nothing outside the ring page or the caller's buffer is touched
//   (AddressSanitizer: both are heap blocks of exactly their size), and
//   write() gives up after max_waits waits in a row without progress.
//
// Input: byte 0 is the shape (bit 0 indices near the wrap, bits 1-3
// max_waits); then each byte with its top bit clear is one backend step,
// each with it set one call (op % 5), both followed by their arguments.
//
//   console_fuzz -max_total_time=600 SCRATCH_DIR tests/fuzz/corpus/console_fuzz
#include <xen/console.hpp>

#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_input.hpp"

namespace abi = xen::abi;
using xen::Errc;

namespace {

constexpr uint32_t out_size = sizeof(abi::xencons_interface::out);
constexpr uint32_t in_size = sizeof(abi::xencons_interface::in);

[[noreturn]] void fail(const char* what, unsigned long long a = 0, unsigned long long b = 0)
{
    fuzz::fail("console_fuzz", what, a, b);
}

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

uint32_t hostile_index(fuzz::Input& in, uint32_t other, uint32_t size)
{
    switch (in.u8() & 7) {
    case 0: return in.u32();
    case 1: return other + size + 1 + in.u8(); // just past a full ring
    case 2: return other - 1 - in.u8();        // consumer ahead of producer
    case 3: return other + size;               // exactly full: legal
    case 4: return 0xffffffffu - in.u8();      // about to wrap
    case 5: return other + 0x80000000u;        // the largest gap
    default: return other + (in.u16() % (2 * size));
    }
}

struct Backend {
    abi::xencons_interface* page = nullptr;
    fuzz::Input* in = nullptr;
    unsigned waits_in_row = 0;
    uint32_t max_waits = 0;
    // write(): what the caller asked to write, and how far it got.
    const char* text = nullptr;
    size_t text_len = 0;
    size_t written = 0;
    abi::xencons_interface seen{};

    // The guest ran since `seen` inside write(): it may only have produced
    // the next bytes of `text` into the room the indices showed.
    void check_writer()
    {
        const auto& a = seen;
        const auto& b = *page;
        if (std::memcmp(a.in, b.in, in_size) != 0 || a.in_cons != b.in_cons || a.in_prod != b.in_prod ||
            a.out_cons != b.out_cons)
            fail("write: touched something besides out and out_prod");
        const uint32_t n = b.out_prod - a.out_prod;
        const uint32_t used = a.out_prod - a.out_cons;
        if (n != 0 && (used > out_size || n > out_size - used))
            fail("write: produced beyond the room", n, used);
        if (n > text_len - written)
            fail("write: produced more than asked", n, text_len - written);
        for (uint32_t i = 0; i < out_size; ++i) {
            const uint32_t k = (i - a.out_prod) & (out_size - 1);
            const char want = k < n ? text[written + k] : a.out[i];
            if (b.out[i] != want)
                fail("write: a slot holds the wrong byte", i, k);
        }
        written += n;
    }

    void step()
    {
        const uint8_t op = in->u8();
        switch (op % 6) {
        case 0: break;
        case 1: { // drain honestly
            const uint32_t used = page->out_prod - page->out_cons;
            if (used <= out_size) {
                const uint32_t k = in->u16() % (out_size + 1);
                page->out_cons += k < used ? k : used;
            }
            break;
        }
        case 2: { // feed input honestly
            const uint32_t used = page->in_prod - page->in_cons;
            if (used <= in_size) {
                uint32_t k = in->u16() % (in_size + 1);
                if (k > in_size - used)
                    k = in_size - used;
                for (uint32_t i = 0; i < k; ++i)
                    page->in[(page->in_prod + i) & (in_size - 1)] = static_cast<char>(in->u8());
                page->in_prod += k;
            }
            break;
        }
        case 3:
            switch (in->u8() & 3) {
            case 0: page->out_cons = hostile_index(*in, page->out_prod, out_size); break;
            case 1: page->out_prod = hostile_index(*in, page->out_cons, out_size); break;
            case 2: page->in_cons = hostile_index(*in, page->in_prod, in_size); break;
            default: page->in_prod = hostile_index(*in, page->in_cons, in_size); break;
            }
            break;
        case 4: // back in order
            page->out_cons = page->out_prod;
            page->in_prod = page->in_cons;
            break;
        default: { // scribble in the rings (the backend may write anything there)
            const uint16_t at = in->u16();
            page->out[at & (out_size - 1)] = static_cast<char>(in->u8());
            page->in[at & (in_size - 1)] = static_cast<char>(in->u8());
            break;
        }
        }
    }

    static void wait(void* ctx) noexcept
    {
        auto* b = static_cast<Backend*>(ctx);
        const size_t before = b->written;
        b->check_writer();
        if (b->written != before)
            b->waits_in_row = 0; // the client made progress since its last wait: its count restarts
        if (++b->waits_in_row > b->max_waits)
            fail("write: waited beyond max_waits without progress", b->waits_in_row, b->max_waits);
        b->step();
        b->seen = *b->page;
    }
};

void expect_unchanged(const abi::xencons_interface& a, const abi::xencons_interface& b, const char* what)
{
    if (std::memcmp(&a, &b, sizeof(a)) != 0)
        fail(what);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    World& w = world();
    fuzz::Input in(data, size);
    auto page = std::make_unique<abi::xencons_interface>();
    const uint8_t shape = in.u8();
    if ((shape & 1) != 0) {
        page->out_cons = page->out_prod = 0xffffffffu - in.u16();
        page->in_cons = page->in_prod = 0xffffffffu - in.u16();
    }
    xen::ConsoleRing ring(page.get(), w.port);
    Backend be;
    be.page = page.get();
    be.in = &in;
    be.max_waits = (shape >> 1) & 7;

    for (unsigned ops = 0; ops < 96 && !in.empty(); ++ops) {
        const uint8_t op = in.u8();
        if ((op & 0x80) == 0) {
            be.step();
            continue;
        }
        const abi::xencons_interface before = *page;
        const uint32_t out_used = before.out_prod - before.out_cons;
        const uint32_t in_used = before.in_prod - before.in_cons;
        switch (op % 5) {
        case 0: { // write_some
            const size_t len = in.u16() % (2 * out_size + 64);
            auto text = std::make_unique<char[]>(len + 1);
            for (size_t i = 0; i < len; ++i)
                text[i] = static_cast<char>('a' + (i * 7 + ops) % 26);
            auto r = ring.write_some(text.get(), len);
            if (out_used > out_size) {
                if (r.has_value() || r.error() != Errc::ring_corrupt)
                    fail("write_some: corrupt indices not reported as ring_corrupt", out_used);
                expect_unchanged(before, *page, "write_some: ring_corrupt but the page changed");
                break;
            }
            if (!r.has_value())
                fail("write_some: an error on a sane ring", static_cast<unsigned long long>(r.error()));
            const size_t room = out_size - out_used;
            const size_t want = len < room ? len : room;
            if (*r != want)
                fail("write_some: copied the wrong amount", *r, want);
            be.seen = before;
            be.text = text.get();
            be.text_len = len;
            be.written = 0;
            be.check_writer();
            break;
        }
        case 1: { // write, waiting on the backend
            const size_t len = in.u16() % (3 * out_size);
            auto text = std::make_unique<char[]>(len + 1);
            for (size_t i = 0; i < len; ++i)
                text[i] = static_cast<char>('A' + (i * 5 + ops) % 26);
            be.seen = before;
            be.text = text.get();
            be.text_len = len;
            be.written = 0;
            be.waits_in_row = 0;
            auto r = ring.write(text.get(), len, &Backend::wait, &be, be.max_waits);
            be.check_writer();
            if (r.has_value()) {
                if (be.written != len)
                    fail("write: success with bytes missing", be.written, len);
            } else if (r.error() != Errc::timed_out && r.error() != Errc::ring_corrupt) {
                fail("write: an error outside the documented set", static_cast<unsigned long long>(r.error()));
            } else if (r.error() == Errc::ring_corrupt && page->out_prod - page->out_cons <= out_size) {
                fail("write: ring_corrupt on sane indices", page->out_prod, page->out_cons);
            }
            break;
        }
        case 2: { // read
            const size_t cap = in.u16() % (2 * in_size);
            auto buf = std::make_unique<char[]>(cap == 0 ? 1 : cap);
            auto r = ring.read(buf.get(), cap);
            if (in_used > in_size) {
                if (r.has_value() || r.error() != Errc::ring_corrupt)
                    fail("read: corrupt indices not reported as ring_corrupt", in_used);
                expect_unchanged(before, *page, "read: ring_corrupt but the page changed");
                break;
            }
            if (!r.has_value())
                fail("read: an error on a sane ring", static_cast<unsigned long long>(r.error()));
            const size_t want = cap < in_used ? cap : in_used;
            if (*r != want)
                fail("read: took the wrong amount", *r, want);
            for (size_t i = 0; i < want; ++i)
                if (buf[i] != before.in[(before.in_cons + i) & (in_size - 1)])
                    fail("read: a byte differs from the ring's", i);
            abi::xencons_interface expect = before;
            expect.in_cons += static_cast<uint32_t>(want);
            expect_unchanged(expect, *page, "read: changed more than in_cons");
            break;
        }
        case 3: {
            auto r = ring.input_pending();
            if (in_used > in_size ? (r.has_value() || r.error() != Errc::ring_corrupt) : (!r || *r != in_used))
                fail("input_pending: wrong", in_used);
            expect_unchanged(before, *page, "input_pending changed the page");
            break;
        }
        default: {
            auto r = ring.output_pending();
            if (out_used > out_size ? (r.has_value() || r.error() != Errc::ring_corrupt) : (!r || *r != out_used))
                fail("output_pending: wrong", out_used);
            expect_unchanged(before, *page, "output_pending changed the page");
            break;
        }
        }
    }
    return 0;
}
