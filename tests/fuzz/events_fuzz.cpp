// libFuzzer target: event dispatch (xen/events.hpp, EventChannels::dispatch)
// over pending and mask bitmaps, selector words and upcall flags that the
// input bytes set, with port tables of any size up to the 2-level ABI's
// 4096 ports (and past it: init clamps), ports bound to any vCPU or to
// none, attach attempts at ports out of range (>= the table, >= 4096,
// 32-bit values), dispatch on vCPUs with and without a cursor, any budget
// (0 included). Handlers may act while dispatch runs: raise_local, mask,
// or play Xen and raise any port with its selector bit, or write a
// selector word of any value.
//
// What must hold:
// - a handler runs only for a port below the table's capacity that is
//   bound to the dispatching vCPU, with its own ctx, after its pending bit
//   was cleared, and while it is unmasked; no more than `budget` of them;
// - dispatch clears no pending bit but those of the handlers it called and
//   never writes a mask bit; with nothing raised during the call and the
//   budget not spent, every pending, unmasked port of the vCPU in a word
//   the selector named is handled, and the vCPU's flags are left clear;
//   with the budget spent, `more` is set and the upcall flag raised again;
// - the table calls (attach, mask, raise_local) give the typed error the
//   table's state calls for; nothing reads or writes outside the slots,
//   the cursors or shared_info (AddressSanitizer: each is a heap block of
//   exactly its size; UBSan: array bounds), and every call returns.
//
// Input: 2 bytes table size, 1 byte vCPU count, the attaches (a count, then
// port and vCPU for each), mask_all or not; then up to 16 rounds, each the
// pending and mask words, the dispatching vCPU, the selector, the budget
// and the handlers' actions.
//
//   events_fuzz -max_total_time=600 SCRATCH_DIR tests/fuzz/corpus/events_fuzz
#include <xen/events.hpp>

#include <xen/event/bitmap.hpp>

#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_input.hpp"

namespace abi = xen::abi;
using xen::Errc;
using xen::Port;
using xen::VcpuId;

namespace {

constexpr uint32_t max_vcpus = 48; // vCPUs the input may name (some beyond the cursors)

[[noreturn]] void fail(const char* what, unsigned long long a = 0, unsigned long long b = 0)
{
    fuzz::fail("events_fuzz", what, a, b);
}

void* token(uint32_t port) { return reinterpret_cast<void*>(uintptr_t{0x10000} + port); }

struct State {
    fuzz::Input* in = nullptr;
    xen::EventChannels* ev = nullptr;
    abi::shared_info* shared = nullptr;
    std::vector<int> bound; // per slot: the vCPU, or -1
    uint32_t capacity = 0;
    uint32_t nr_vcpus = 0;
    // The dispatch under way.
    uint32_t self = 0;
    abi::vcpu_info* vi = nullptr;
    uint32_t budget = 0;
    uint32_t actions_left = 0;
    bool acted = false;
    std::vector<uint32_t> calls;

    Errc expected(uint64_t port, uint32_t vcpu) const
    {
        if (port >= capacity)
            return Errc::port_out_of_range;
        if (bound[port] < 0)
            return Errc::port_not_bound;
        if (static_cast<uint32_t>(bound[port]) != vcpu)
            return Errc::not_current_vcpu;
        return Errc{};
    }

    void act()
    {
        if (actions_left == 0)
            return;
        --actions_left;
        const uint8_t what = in->u8();
        switch (what % 5) {
        case 0: break;
        case 1: { // raise_local: of our own port, or any
            acted = true;
            const uint32_t port = (what & 0x80) != 0 && !calls.empty() ? calls.back() : in->u16();
            const uint32_t as = (what & 0x40) != 0 ? in->u8() % max_vcpus : self;
            auto r = ev->raise_local(Port{port}, VcpuId{as}, *vi);
            const Errc want = expected(port, as);
            if (r.has_value() != (want == Errc{}) || (!r.has_value() && r.error() != want))
                fail("raise_local: wrong result", port, static_cast<unsigned long long>(want));
            break;
        }
        case 2: { // mask any port
            acted = true;
            const uint32_t port = in->u16();
            auto r = ev->mask(Port{port});
            if (r.has_value() != (port < capacity) || (!r.has_value() && r.error() != Errc::port_out_of_range))
                fail("mask: wrong result", port, capacity);
            break;
        }
        case 3: { // Xen raises any port on this vCPU (as if bound here)
            acted = true;
            const uint32_t port = in->u16() % xen::evtchn_max_ports;
            xen::EventChannels::raise_unowned(*shared, Port{port}, *vi);
            break;
        }
        default: // a selector word of any value, and the flag
            acted = true;
            __atomic_fetch_or(&vi->evtchn_pending_sel, in->u64(), __ATOMIC_SEQ_CST);
            vi->evtchn_upcall_pending = 1;
            break;
        }
    }
};

State* g_state = nullptr;

void handler(Port port, VcpuId vcpu, void* ctx) noexcept
{
    State& s = *g_state;
    const uint32_t p = port.value;
    if (p >= s.capacity)
        fail("a handler ran for a port beyond the table", p, s.capacity);
    if (s.bound[p] < 0 || static_cast<uint32_t>(s.bound[p]) != s.self)
        fail("a handler ran for a port not bound to the dispatching vCPU", p, s.self);
    if (vcpu.value != s.self)
        fail("a handler was told the wrong vCPU", vcpu.value, s.self);
    if (ctx != token(p))
        fail("a handler got another port's ctx", p);
    if (xen::event::test(s.shared->evtchn_pending, p))
        fail("a handler ran before its pending bit was cleared", p);
    if (xen::event::test(s.shared->evtchn_mask, p))
        fail("a handler ran for a masked port", p);
    s.calls.push_back(p);
    if (s.calls.size() > s.budget)
        fail("more handlers than the budget", s.calls.size(), s.budget);
    s.act();
}

void set_words(fuzz::Input& in, uint64_t* words)
{
    const uint8_t mode = in.u8();
    switch (mode & 3) {
    case 0: break; // as they are
    case 1: std::memset(words, 0, abi::evtchn_words * 8); break;
    case 2: std::memset(words, 0xff, abi::evtchn_words * 8); break;
    default: break;
    }
    const unsigned n = (mode >> 2) % 12;
    for (unsigned i = 0; i < n; ++i) {
        const uint8_t k = in.u8();
        if ((k & 0x80) != 0)
            words[k % abi::evtchn_words] = in.u64();
        else
            words[in.u8() % abi::evtchn_words] ^= uint64_t{1} << (k % 64);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz::Input in(data, size);
    State s;
    s.in = &in;
    g_state = &s;

    // Up to 4200 slots: a table larger than the ABI's 4096 ports is clamped.
    const uint32_t nr_slots = 1 + in.u16() % 4200;
    s.nr_vcpus = 1 + in.u8() % 40;
    s.capacity = nr_slots < xen::evtchn_max_ports ? nr_slots : xen::evtchn_max_ports;
    s.bound.assign(s.capacity, -1);

    auto shared = std::make_unique<abi::shared_info>();
    s.shared = shared.get();
    auto slots = std::make_unique<xen::EventSlot[]>(nr_slots);
    auto cursors = std::make_unique<xen::EventCursor[]>(s.nr_vcpus);
    std::vector<std::unique_ptr<abi::vcpu_info>> own_vi;
    for (uint32_t v = 0; v < max_vcpus; ++v)
        own_vi.push_back(std::make_unique<abi::vcpu_info>());
    xen::EventChannels ev(*shared, slots.get(), nr_slots, xen::PerVcpu<xen::EventCursor>(cursors.get(), s.nr_vcpus));
    s.ev = &ev;
    if (ev.capacity() != s.capacity)
        fail("capacity is not the table clamped to 4096", ev.capacity(), s.capacity);

    // Bindings, some refused.
    const unsigned attaches = in.u8() % 64;
    for (unsigned i = 0; i < attaches; ++i) {
        const uint8_t how = in.u8();
        uint64_t port = (how & 0x80) != 0 ? in.u32() : in.u16() % (s.capacity + 64);
        if ((how & 0x40) != 0)
            port = s.capacity - 1 - (port % s.capacity); // the table's top ports
        const uint32_t vcpu = in.u8() % max_vcpus;
        auto r = ev.attach(Port{static_cast<uint32_t>(port)}, VcpuId{vcpu}, &handler,
                           token(static_cast<uint32_t>(port)));
        Errc want{};
        if (port >= s.capacity)
            want = Errc::port_out_of_range;
        else if (vcpu >= s.nr_vcpus)
            want = Errc::vcpu_out_of_range;
        if (r.has_value() != (want == Errc{}) || (!r.has_value() && r.error() != want))
            fail("attach: wrong result", port, vcpu);
        if (r.has_value())
            s.bound[port] = static_cast<int>(vcpu);
    }
    if ((in.u8() & 1) != 0)
        ev.mask_all();

    for (unsigned round = 0; round < 16 && !in.empty(); ++round) {
        set_words(in, shared->evtchn_pending);
        set_words(in, shared->evtchn_mask);
        const uint8_t who = in.u8();
        s.self = who % max_vcpus;
        s.vi = (who & 0x80) != 0 && s.self < abi::legacy_max_vcpus ? &shared->vcpu_info[s.self] : own_vi[s.self].get();
        if (who % 64 == 63)
            s.self = 0xffffffffu; // no vCPU: the largest id (its "+ 1" wraps to 0)
        const uint8_t sel_mode = in.u8();
        uint64_t sel;
        if ((sel_mode & 3) == 0) {
            sel = in.u64(); // any value: words with nothing pending too
        } else {
            sel = 0; // what Xen would have set: words with an unmasked pending port
            for (uint32_t w = 0; w < abi::evtchn_words; ++w)
                if ((shared->evtchn_pending[w] & ~shared->evtchn_mask[w]) != 0)
                    sel |= uint64_t{1} << w;
        }
        s.vi->evtchn_pending_sel = sel;
        s.vi->evtchn_upcall_pending = (sel_mode & 4) != 0 ? 0 : 1;
        s.budget = (sel_mode & 8) != 0 ? in.u8() % 8 : in.u16() % 300;
        s.actions_left = (sel_mode & 0x10) != 0 ? in.u8() % 8 : 0;
        s.acted = false;
        s.calls.clear();

        uint64_t pending_before[abi::evtchn_words], mask_before[abi::evtchn_words];
        std::memcpy(pending_before, shared->evtchn_pending, sizeof(pending_before));
        std::memcpy(mask_before, shared->evtchn_mask, sizeof(mask_before));

        const xen::DispatchResult r = ev.dispatch(VcpuId{s.self}, *s.vi, s.budget);

        if (r.handled != s.calls.size())
            fail("handled is not the handlers called", r.handled, s.calls.size());
        if (r.more && r.handled != s.budget)
            fail("more set with budget left", r.handled, s.budget);
        if (r.more && s.vi->evtchn_upcall_pending == 0)
            fail("more set but the upcall flag left clear");
        if (s.acted)
            continue; // the bitmaps moved under dispatch: the safety checks above are what holds
        if (std::memcmp(mask_before, shared->evtchn_mask, sizeof(mask_before)) != 0)
            fail("dispatch wrote a mask bit");
        std::vector<uint8_t> handled(xen::evtchn_max_ports, 0);
        for (uint32_t p : s.calls) {
            if (handled[p]++ != 0)
                fail("a port handled twice in one dispatch with nothing raised again", p);
            if (!xen::event::test(pending_before, p))
                fail("a handler ran for a port that was not pending", p);
        }
        for (uint32_t p = 0; p < xen::evtchn_max_ports; ++p) {
            const bool was = xen::event::test(pending_before, p);
            const bool is = xen::event::test(shared->evtchn_pending, p);
            if (was && !is && handled[p] == 0)
                fail("dispatch cleared a pending bit without handling the port", p);
            if (!was && is)
                fail("dispatch set a pending bit", p);
            if (r.more)
                continue;
            const uint32_t w = xen::event::word_of(p);
            const bool ours = p < s.capacity && s.bound[p] >= 0 && static_cast<uint32_t>(s.bound[p]) == s.self;
            const bool ready = was && !xen::event::test(mask_before, p);
            if (ours && ready && ((sel >> w) & 1) != 0 && handled[p] == 0)
                fail("a pending, unmasked, selected port of this vCPU was left unhandled", p, s.self);
        }
        if (!r.more && (s.vi->evtchn_upcall_pending != 0 || s.vi->evtchn_pending_sel != 0))
            fail("dispatch returned without more but left the vCPU's flags set", s.vi->evtchn_upcall_pending,
                 s.vi->evtchn_pending_sel);
    }
    g_state = nullptr;
    return 0;
}
