// EventChannels. First without Xen: dispatch, mask, raise_local and attach
// on a shared_info page the test owns, events raised the way Xen raises them
// (evtchn_2l_set_pending) from the test thread or a "Xen" thread. Then
// against the simulated Xen: bind, send, unmask, close and their errors.
#include <xen/events.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <support/pace.hpp>
#include <xen/hypercall.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using xen::DispatchResult;
using xen::Errc;
using xen::EventChannels;
using xen::Port;
using xen::VcpuId;

namespace {

constexpr uint32_t all_ports = xen::evtchn_max_ports;

/// A domain: its shared_info page, the kernel's event storage, the table.
struct Domain {
    xen::abi::shared_info shared{};
    xen::EventStorage<all_ports, 4> storage{};
    EventChannels ev{shared, storage};

    xen::abi::vcpu_info& vi(uint32_t vcpu) { return shared.vcpu_info[vcpu]; }
    bool pending(uint32_t port) const { return (shared.evtchn_pending[port / 64] >> (port % 64)) & 1; }
    bool masked(uint32_t port) const { return (shared.evtchn_mask[port / 64] >> (port % 64)) & 1; }

    /// What Xen does for an event on `port` notifying vCPU `vcpu`
    /// (evtchn_2l_set_pending): pending; if unmasked and newly pending, the
    /// selector bit; if that is new, evtchn_upcall_pending.
    void xen_raise(uint32_t port, uint32_t vcpu)
    {
        uint64_t bit = uint64_t{1} << (port % 64);
        if (__atomic_fetch_or(&shared.evtchn_pending[port / 64], bit, __ATOMIC_SEQ_CST) & bit)
            return;
        if (__atomic_load_n(&shared.evtchn_mask[port / 64], __ATOMIC_SEQ_CST) & bit)
            return;
        uint64_t sel = uint64_t{1} << (port / 64);
        if ((__atomic_fetch_or(&vi(vcpu).evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel) == 0)
            __atomic_store_n(&vi(vcpu).evtchn_upcall_pending, uint8_t{1}, __ATOMIC_SEQ_CST);
    }
};

/// Records every call: port and vCPU, in order.
struct Log {
    struct Call {
        uint32_t port;
        uint32_t vcpu;
    };
    std::vector<Call> calls;
    Domain* domain = nullptr;
    bool pending_seen_during_call = false;
};

void record(Port port, VcpuId vcpu, void* ctx) noexcept
{
    auto* log = static_cast<Log*>(ctx);
    if (log->domain != nullptr && log->domain->pending(port.value))
        log->pending_seen_during_call = true;
    log->calls.push_back({port.value, vcpu.value});
}

std::vector<uint32_t> ports_of(const Log& log)
{
    std::vector<uint32_t> out;
    for (auto& c : log.calls)
        out.push_back(c.port);
    return out;
}

void attach(Domain& d, uint32_t port, uint32_t vcpu, xen::EventHandler h, void* ctx)
{
    REQUIRE(d.ev.attach(Port{port}, VcpuId{vcpu}, h, ctx).has_value());
}

} // namespace

TEST_CASE("dispatch: calls the handler of each pending unmasked port of this vCPU once, in port order", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log;
    for (uint32_t p : {3u, 64u, 200u, 4095u})
        attach(*d, p, 0, record, &log);
    for (uint32_t p : {4095u, 200u, 3u, 64u})
        d->xen_raise(p, 0);

    DispatchResult r = d->ev.dispatch(VcpuId{0}, d->vi(0));

    REQUIRE(r.handled == 4);
    REQUIRE_FALSE(r.more);
    REQUIRE(ports_of(log) == std::vector<uint32_t>{3, 64, 200, 4095});
    for (auto& c : log.calls)
        REQUIRE(c.vcpu == 0);
    for (uint32_t p : {3u, 64u, 200u, 4095u})
        REQUIRE_FALSE(d->pending(p));
    REQUIRE(d->vi(0).evtchn_upcall_pending == 0);
    REQUIRE(d->vi(0).evtchn_pending_sel == 0);
}

TEST_CASE("dispatch: the pending bit is already clear when the handler runs", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log;
    log.domain = d.get();
    attach(*d, 77, 0, record, &log);
    d->xen_raise(77, 0);
    REQUIRE(d->ev.dispatch(VcpuId{0}, d->vi(0)).handled == 1);
    REQUIRE_FALSE(log.pending_seen_during_call);
}

TEST_CASE("dispatch: a masked port is not called and stays pending", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log;
    attach(*d, 5, 0, record, &log);
    attach(*d, 6, 0, record, &log);
    REQUIRE(d->ev.mask(Port{5}).has_value());
    d->xen_raise(5, 0); // masked: Xen sets pending only, no selector bit
    d->xen_raise(6, 0);

    REQUIRE(d->ev.dispatch(VcpuId{0}, d->vi(0)).handled == 1);
    REQUIRE(ports_of(log) == std::vector<uint32_t>{6});
    REQUIRE(d->pending(5));

    // Even with the word selected (e.g. the spurious ~0 selector Xen sets on
    // VCPUOP_register_vcpu_info), a masked port is skipped.
    d->vi(0).evtchn_pending_sel = ~uint64_t{0};
    d->vi(0).evtchn_upcall_pending = 1;
    REQUIRE(d->ev.dispatch(VcpuId{0}, d->vi(0)).handled == 0);
    REQUIRE(d->pending(5));
}

TEST_CASE("dispatch: a spurious upcall with every selector bit set calls nothing and acknowledges", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log;
    attach(*d, 9, 0, record, &log);
    d->vi(0).evtchn_pending_sel = ~uint64_t{0};
    d->vi(0).evtchn_upcall_pending = 1;
    DispatchResult r = d->ev.dispatch(VcpuId{0}, d->vi(0));
    REQUIRE(r.handled == 0);
    REQUIRE_FALSE(r.more);
    REQUIRE(d->vi(0).evtchn_pending_sel == 0);
    REQUIRE(d->vi(0).evtchn_upcall_pending == 0);
}

TEST_CASE("dispatch: ports of another vCPU in the same word are left pending for their owner", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log0, log1;
    attach(*d, 10, 0, record, &log0);
    attach(*d, 11, 1, record, &log1);
    d->xen_raise(11, 1);
    d->xen_raise(10, 0);

    // vCPU 0's selector names word 0, which also holds vCPU 1's port 11.
    REQUIRE(d->ev.dispatch(VcpuId{0}, d->vi(0)).handled == 1);
    REQUIRE(ports_of(log0) == std::vector<uint32_t>{10});
    REQUIRE(log1.calls.empty());
    REQUIRE(d->pending(11));

    REQUIRE(d->ev.dispatch(VcpuId{1}, d->vi(1)).handled == 1);
    REQUIRE(ports_of(log1) == std::vector<uint32_t>{11});
    REQUIRE(log1.calls[0].vcpu == 1);
}

TEST_CASE("dispatch: a pending port nobody bound is left pending and calls nothing", "[events]")
{
    auto d = std::make_unique<Domain>();
    d->xen_raise(42, 0);
    REQUIRE(d->ev.dispatch(VcpuId{0}, d->vi(0)).handled == 0);
    REQUIRE(d->pending(42));
    REQUIRE(d->vi(0).evtchn_upcall_pending == 0);
}

// Found by tests/fuzz/events_fuzz: the owner of a slot is the vCPU id + 1
// and 0 marks a free slot, so dispatch on vCPU id 2^32 - 1 took every
// unbound port for its own and called its null handler.
TEST_CASE("dispatch: on vCPU id 2^32 - 1 (no cursor) it calls nothing, not an unbound port's null handler", "[events]")
{
    auto d = std::make_unique<Domain>();
    d->xen_raise(42, 0);
    xen::abi::vcpu_info vi{};
    vi.evtchn_pending_sel = d->vi(0).evtchn_pending_sel;
    vi.evtchn_upcall_pending = 1;
    const DispatchResult r = d->ev.dispatch(VcpuId{0xffffffffu}, vi);
    CHECK(r.handled == 0);
    CHECK_FALSE(r.more);
    CHECK(d->pending(42));
    CHECK(vi.evtchn_upcall_pending == 0);
}

namespace {
struct Reraiser {
    Domain* d;
    uint32_t port;
    int times; // re-raise this many times from inside the handler
    int calls = 0;
};

void reraise(Port port, VcpuId vcpu, void* ctx) noexcept
{
    auto* r = static_cast<Reraiser*>(ctx);
    ++r->calls;
    if (r->times-- > 0)
        r->d->xen_raise(port.value, vcpu.value);
}
} // namespace

TEST_CASE("dispatch: an event raised by its own handler is delivered again in the same dispatch", "[events]")
{
    auto d = std::make_unique<Domain>();
    Reraiser rr{d.get(), 130, 3};
    attach(*d, 130, 0, reraise, &rr);
    d->xen_raise(130, 0);
    DispatchResult r = d->ev.dispatch(VcpuId{0}, d->vi(0));
    REQUIRE(r.handled == 4);
    REQUIRE(rr.calls == 4);
    REQUIRE_FALSE(d->pending(130));
}

TEST_CASE("dispatch: an event raised while the budget is spent is delivered by the next dispatch", "[events]")
{
    auto d = std::make_unique<Domain>();
    Reraiser rr{d.get(), 130, 1};
    attach(*d, 130, 0, reraise, &rr);
    d->xen_raise(130, 0);

    DispatchResult first = d->ev.dispatch(VcpuId{0}, d->vi(0), 1);
    REQUIRE(first.handled == 1);
    REQUIRE(first.more);
    // Handed back as Xen would have left it: selector and upcall flag set.
    REQUIRE(d->vi(0).evtchn_upcall_pending == 1);
    REQUIRE(d->vi(0).evtchn_pending_sel != 0);

    DispatchResult second = d->ev.dispatch(VcpuId{0}, d->vi(0), 1);
    REQUIRE(second.handled == 1);
    REQUIRE_FALSE(second.more);
    REQUIRE(rr.calls == 2);
}

TEST_CASE("dispatch: raise_local from a handler is delivered in the same dispatch", "[events]")
{
    struct Ctx {
        Domain* d;
        int calls = 0;
    };
    auto d = std::make_unique<Domain>();
    Ctx ctx{d.get()};
    auto handler = [](Port port, VcpuId vcpu, void* p) noexcept {
        auto* c = static_cast<Ctx*>(p);
        if (++c->calls == 1)
            CHECK(c->d->ev.raise_local(port, vcpu, c->d->vi(vcpu.value)).has_value());
    };
    attach(*d, 700, 2, handler, &ctx);
    d->xen_raise(700, 2);
    REQUIRE(d->ev.dispatch(VcpuId{2}, d->vi(2)).handled == 2);
    REQUIRE(ctx.calls == 2);
}

TEST_CASE("dispatch: loops while Xen raises evtchn_upcall_pending during the scan", "[events]")
{
    struct Ctx {
        Domain* d;
    };
    auto d = std::make_unique<Domain>();
    Ctx ctx{d.get()};
    Log log;
    // Port 4000's handler makes "Xen" raise port 1, in a word already
    // scanned: only the re-check of evtchn_upcall_pending finds it.
    auto raise_one = [](Port, VcpuId, void* p) noexcept { static_cast<Ctx*>(p)->d->xen_raise(1, 0); };
    attach(*d, 4000, 0, raise_one, &ctx);
    attach(*d, 1, 0, record, &log);
    d->xen_raise(4000, 0);
    REQUIRE(d->ev.dispatch(VcpuId{0}, d->vi(0)).handled == 2);
    REQUIRE(ports_of(log) == std::vector<uint32_t>{1});
}

TEST_CASE("dispatch: resumes after the last port handled, so a busy low port cannot starve high ports", "[events]")
{
    auto d = std::make_unique<Domain>();
    Reraiser busy{d.get(), 1, 1'000'000}; // port 1 re-raises itself every time
    Log log;
    attach(*d, 1, 0, reraise, &busy);
    attach(*d, 63, 0, record, &log);   // same word, above it
    attach(*d, 4094, 0, record, &log); // last word
    d->xen_raise(1, 0);
    d->xen_raise(63, 0);
    d->xen_raise(4094, 0);

    // Within one call: 1, 63, 4094, then 1 again after the wrap.
    DispatchResult r = d->ev.dispatch(VcpuId{0}, d->vi(0), 4);
    REQUIRE(r.handled == 4);
    REQUIRE(r.more);
    REQUIRE(busy.calls == 2);
    REQUIRE(ports_of(log) == std::vector<uint32_t>{63, 4094});

    // Across calls with a budget of one: the cursor persists, so the busy
    // port takes every other turn, not every turn.
    d->xen_raise(63, 0);
    int before = busy.calls;
    d->ev.dispatch(VcpuId{0}, d->vi(0), 1); // port 1: the cursor had wrapped to 0
    d->ev.dispatch(VcpuId{0}, d->vi(0), 1); // port 63 next, not port 1 again
    REQUIRE(log.calls.size() == 3);
    REQUIRE(log.calls.back().port == 63);
    REQUIRE(busy.calls - before == 1);
}

TEST_CASE("dispatch: every port in 0..4095 is delivered exactly once, in order, across bounded calls", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log;
    for (uint32_t p = 0; p < all_ports; ++p)
        attach(*d, p, 0, record, &log);
    for (uint32_t p = 0; p < all_ports; ++p)
        d->xen_raise(p, 0);

    uint32_t calls = 0;
    DispatchResult r{};
    do {
        r = d->ev.dispatch(VcpuId{0}, d->vi(0), 100);
        REQUIRE(r.handled <= 100);
        ++calls;
    } while (r.more && calls < 100);
    REQUIRE(log.calls.size() == all_ports);
    for (uint32_t p = 0; p < all_ports; ++p)
        REQUIRE(log.calls[p].port == p);
    REQUIRE(calls == (all_ports + 99) / 100);
    for (auto w : d->shared.evtchn_pending)
        REQUIRE(w == 0);
}

TEST_CASE("dispatch: each single port in 0..4095 reaches its handler with its own number", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log;
    for (uint32_t p = 0; p < all_ports; ++p)
        attach(*d, p, p % 4, record, &log);
    for (uint32_t p = 0; p < all_ports; ++p) {
        d->xen_raise(p, p % 4);
        REQUIRE(d->ev.dispatch(VcpuId{p % 4}, d->vi(p % 4)).handled == 1);
        REQUIRE(log.calls.back().port == p);
        REQUIRE(log.calls.back().vcpu == p % 4);
    }
    REQUIRE(log.calls.size() == all_ports);
}

TEST_CASE("attach: refuses a null handler, a port beyond the table and a vCPU without a cursor", "[events]")
{
    xen::abi::shared_info shared{};
    xen::EventStorage<128, 2> storage;
    EventChannels ev{shared, storage};
    Log log;
    REQUIRE(ev.capacity() == 128);
    REQUIRE(ev.attach(Port{3}, VcpuId{0}, nullptr, nullptr).error() == Errc::invalid_argument);
    REQUIRE(ev.attach(Port{128}, VcpuId{0}, record, &log).error() == Errc::port_out_of_range);
    REQUIRE(ev.attach(Port{3}, VcpuId{2}, record, &log).error() == Errc::vcpu_out_of_range);
    REQUIRE(ev.attach(Port{127}, VcpuId{1}, record, &log).has_value());
}

TEST_CASE("mask: sets the mask bit of a port in the table; refuses one beyond it", "[events]")
{
    xen::abi::shared_info shared{};
    xen::EventStorage<128, 1> storage;
    EventChannels ev{shared, storage};
    REQUIRE(ev.mask(Port{70}).has_value());
    REQUIRE(shared.evtchn_mask[1] == (uint64_t{1} << 6));
    REQUIRE(ev.mask(Port{128}).error() == Errc::port_out_of_range);
    ev.mask_all();
    for (auto w : shared.evtchn_mask)
        REQUIRE(w == ~uint64_t{0});
}

TEST_CASE("raise_local: refuses a port of another vCPU, an unbound port and one beyond the table", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log;
    attach(*d, 20, 1, record, &log);
    REQUIRE(d->ev.raise_local(Port{20}, VcpuId{0}, d->vi(0)).error() == Errc::not_current_vcpu);
    REQUIRE(d->ev.raise_local(Port{21}, VcpuId{0}, d->vi(0)).error() == Errc::port_not_bound);
    REQUIRE(d->ev.raise_local(Port{all_ports}, VcpuId{0}, d->vi(0)).error() == Errc::port_out_of_range);
    REQUIRE_FALSE(d->pending(20));
    REQUIRE(d->vi(0).evtchn_upcall_pending == 0);
}

TEST_CASE("raise_local: follows Xen's order: a masked port gets only its pending bit", "[events]")
{
    auto d = std::make_unique<Domain>();
    Log log;
    attach(*d, 300, 0, record, &log);
    REQUIRE(d->ev.mask(Port{300}).has_value());
    REQUIRE(d->ev.raise_local(Port{300}, VcpuId{0}, d->vi(0)).has_value());
    REQUIRE(d->pending(300));
    REQUIRE(d->vi(0).evtchn_pending_sel == 0);
    REQUIRE(d->vi(0).evtchn_upcall_pending == 0);

    attach(*d, 301, 0, record, &log);
    REQUIRE(d->ev.raise_local(Port{301}, VcpuId{0}, d->vi(0)).has_value());
    REQUIRE(d->vi(0).evtchn_pending_sel == (uint64_t{1} << (301 / 64)));
    REQUIRE(d->vi(0).evtchn_upcall_pending == 1);
    REQUIRE(d->ev.dispatch(VcpuId{0}, d->vi(0)).handled == 1);
    REQUIRE(ports_of(log) == std::vector<uint32_t>{301});
}

namespace {
struct Mailbox {
    std::atomic<uint64_t> sent{0};
    std::atomic<uint64_t> seen{0};
};

void take_mail(Port, VcpuId, void* ctx) noexcept
{
    auto* m = static_cast<Mailbox*>(ctx);
    m->seen.store(m->sent.load(std::memory_order_acquire), std::memory_order_release);
}
} // namespace

TEST_CASE("dispatch: no event is lost while Xen raises ports from another pCPU during dispatch", "[events]")
{
    // "Xen" posts a new value, then raises the port; the vCPU dispatches
    // whenever evtchn_upcall_pending is set. Events coalesce (one pending
    // bit), but after the last raise the handler must have seen the last
    // value: a lost wake-up leaves it behind.
    constexpr uint32_t ports[] = {2, 65, 66, 1000, 4095};
    constexpr uint64_t rounds = 20000;
    auto d = std::make_unique<Domain>();
    Mailbox boxes[std::size(ports)];
    for (size_t i = 0; i < std::size(ports); ++i)
        attach(*d, ports[i], 0, take_mail, &boxes[i]);

    // Every 64 raises "Xen" waits for the vCPU to dispatch once before it
    // goes on, so raises and dispatches interleave however the host runs
    // the two threads (a busy host could otherwise run all 20,000 raises
    // before the vCPU thread dispatches once, and test nothing).
    constexpr uint64_t raises_per_dispatch = 64;
    std::atomic<bool> done{false};
    std::atomic<uint64_t> dispatches{0};
    std::thread xen([&] {
        for (uint64_t n = 1; n <= rounds; ++n) {
            size_t i = n % std::size(ports);
            const uint64_t before = dispatches.load();
            boxes[i].sent.store(n, std::memory_order_release);
            d->xen_raise(ports[i], 0);
            if (n % raises_per_dispatch == 0) // the raise left the upcall pending: a dispatch follows
                xen::test::wait_until([&] { return dispatches.load() > before; });
        }
        done.store(true, std::memory_order_release);
    });
    while (!done.load(std::memory_order_acquire) ||
           __atomic_load_n(&d->vi(0).evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0) {
        if (__atomic_load_n(&d->vi(0).evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0) {
            d->ev.dispatch(VcpuId{0}, d->vi(0));
            dispatches.fetch_add(1);
        }
    }
    xen.join();
    d->ev.dispatch(VcpuId{0}, d->vi(0));
    for (size_t i = 0; i < std::size(ports); ++i) {
        INFO("port " << ports[i]);
        REQUIRE(boxes[i].seen.load() == boxes[i].sent.load());
        REQUIRE_FALSE(d->pending(ports[i]));
    }
    CHECK(dispatches.load() >= rounds / raises_per_dispatch);
}

// --- against the simulated Xen ---------------------------------------------

namespace {

namespace abi = xen::abi;
namespace hc = xen::hc;
namespace sim = xen::sim;
using evtchnop = abi::evtchnop;

sim::Config sim_config(uint32_t vcpus = 2)
{
    sim::Config c;
    c.vcpus = vcpus;
    return c;
}

/// The library's view of a simulated domain: its shared_info, a table of
/// `Ports` slots and one cursor per vCPU.
template <uint32_t Ports = 64>
struct SimDomain {
    sim::Hypervisor hv;
    sim::Scope scope;
    std::unique_ptr<xen::EventStorage<Ports, 2>> storage = std::make_unique<xen::EventStorage<Ports, 2>>();
    EventChannels ev{hv.shared_info(), *storage};

    explicit SimDomain(uint32_t vcpus = 2) : hv(sim_config(vcpus)), scope(hv, VcpuId{0}) {}
    DispatchResult dispatch(uint32_t vcpu) { return ev.dispatch(VcpuId{vcpu}, hv.vcpu_info(VcpuId{vcpu})); }
    uint64_t evtchn_calls() const { return hv.calls(abi::hypercall::event_channel_op); }
};

} // namespace

TEST_CASE("bind_virq: VIRQ_TIMER is bound once per vCPU and each vCPU's timer reaches its own handler", "[events][sim]")
{
    SimDomain<> d;
    Log log0, log1;
    auto p0 = d.ev.bind_virq(abi::virq::timer, VcpuId{0}, record, &log0);
    auto p1 = d.ev.bind_virq(abi::virq::timer, VcpuId{1}, record, &log1);
    REQUIRE(p0.has_value());
    REQUIRE(p1.has_value());
    REQUIRE(*p0 != *p1);
    CHECK_FALSE(d.hv.port_masked(p0->value));

    d.hv.raise_virq(VcpuId{1}, abi::virq::timer);
    REQUIRE(d.dispatch(0).handled == 0); // not vCPU 0's event
    REQUIRE(d.dispatch(1).handled == 1);
    REQUIRE(log1.calls.size() == 1);
    CHECK(log1.calls[0].port == p1->value);
    CHECK(log1.calls[0].vcpu == 1);
    CHECK(log0.calls.empty());
}

TEST_CASE("bind_virq: a single-shot timer expiry runs the VIRQ_TIMER handler", "[events][sim]")
{
    SimDomain<> d;
    Log log;
    auto port = d.ev.bind_virq(abi::virq::timer, VcpuId{0}, record, &log);
    REQUIRE(port.has_value());
    REQUIRE(hc::stop_periodic_timer(VcpuId{0})); // PV's default 100 Hz tick
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, d.hv.now() + 1'000'000));
    d.hv.advance(999'999);
    REQUIRE(d.dispatch(0).handled == 0);
    d.hv.advance(1);
    REQUIRE(d.dispatch(0).handled == 1);
    CHECK(log.calls.at(0).port == port->value);
}

TEST_CASE("bind_virq: a second bind of a per-vCPU VIRQ on the same vCPU is EEXIST; the first keeps working",
          "[events][sim]")
{
    SimDomain<> d;
    Log first, second;
    auto p = d.ev.bind_virq(abi::virq::timer, VcpuId{0}, record, &first);
    REQUIRE(p.has_value());
    REQUIRE(d.ev.bind_virq(abi::virq::timer, VcpuId{0}, record, &second).error() == Errc::eexist);
    d.hv.raise_virq(VcpuId{0}, abi::virq::timer);
    REQUIRE(d.dispatch(0).handled == 1);
    CHECK(first.calls.size() == 1);
    CHECK(second.calls.empty());
}

TEST_CASE("bind_virq: Xen's errors come back typed: global VIRQ off vCPU 0 EINVAL, missing vCPU ENOENT",
          "[events][sim]")
{
    SimDomain<> d(1); // the domain has one vCPU; the table has cursors for two
    Log log;
    CHECK(d.ev.bind_virq(abi::virq::console, VcpuId{1}, record, &log).error() == Errc::einval);
    CHECK(d.ev.bind_virq(abi::virq::timer, VcpuId{1}, record, &log).error() == Errc::enoent);
    CHECK(d.ev.bind_ipi(VcpuId{1}, record, &log).error() == Errc::enoent);
    d.hv.inject(sim::Fault{abi::hypercall::event_channel_op, static_cast<int32_t>(evtchnop::bind_virq), std::nullopt, 1,
                           Errc::enospc, 1});
    CHECK(d.ev.bind_virq(abi::virq::timer, VcpuId{0}, record, &log).error() == Errc::enospc);
    // Nothing was left bound by the failures.
    for (uint32_t p = 1; p < 8; ++p)
        CHECK(d.hv.port_state(p) == abi::evtchn_stat::closed);
}

TEST_CASE("bind: a null handler or a vCPU without a cursor is refused before Xen is called", "[events][sim]")
{
    SimDomain<> d(4);
    Log log;
    CHECK(d.ev.bind_virq(abi::virq::timer, VcpuId{0}, nullptr, &log).error() == Errc::invalid_argument);
    CHECK(d.ev.bind_ipi(VcpuId{0}, nullptr, &log).error() == Errc::invalid_argument);
    CHECK(d.ev.bind_virq(abi::virq::timer, VcpuId{2}, record, &log).error() == Errc::vcpu_out_of_range);
    CHECK(d.ev.bind_ipi(VcpuId{3}, record, &log).error() == Errc::vcpu_out_of_range);
    CHECK(d.evtchn_calls() == 0);
}

TEST_CASE("bind: a port beyond the full table is closed again and reported as no_space", "[events][sim]")
{
    SimDomain<3> d; // slots for ports 0..2; Xen hands out 1, 2, 3, ...
    Log log;
    REQUIRE(d.ev.bind_ipi(VcpuId{0}, record, &log).value() == Port{1});
    REQUIRE(d.ev.bind_ipi(VcpuId{1}, record, &log).value() == Port{2});
    CHECK(d.ev.bind_ipi(VcpuId{0}, record, &log).error() == Errc::no_space);
    CHECK(d.hv.port_state(3) == abi::evtchn_stat::closed);
    CHECK(d.ev.bind_virq(abi::virq::timer, VcpuId{0}, record, &log).error() == Errc::no_space);
    CHECK(d.hv.virq_port(VcpuId{0}, abi::virq::timer) == 0); // so it can be bound again later
}

TEST_CASE("bind: clears a mask bit left over from the port's previous user", "[events][sim]")
{
    SimDomain<> d;
    d.ev.mask_all();
    Log log;
    auto p = d.ev.bind_ipi(VcpuId{0}, record, &log);
    REQUIRE(p.has_value());
    CHECK_FALSE(d.hv.port_masked(p->value));
    REQUIRE(d.ev.send(*p).has_value());
    REQUIRE(d.dispatch(0).handled == 1);
}

TEST_CASE("bind_ipi: an IPI sent from another vCPU runs the handler on the bound vCPU", "[events][sim]")
{
    SimDomain<> d;
    Log log;
    auto p = d.ev.bind_ipi(VcpuId{1}, record, &log);
    REQUIRE(p.has_value());
    REQUIRE(d.ev.send(*p).has_value()); // sent by vCPU 0
    CHECK(d.hv.vcpu_info(VcpuId{1}).evtchn_upcall_pending == 1);
    CHECK(d.hv.vcpu_info(VcpuId{0}).evtchn_upcall_pending == 0);
    REQUIRE(d.dispatch(1).handled == 1);
    CHECK(log.calls.at(0).vcpu == 1);
}

TEST_CASE("send: a VIRQ port is EINVAL from Xen; a port beyond the table is refused without a call", "[events][sim]")
{
    SimDomain<> d;
    Log log;
    auto p = d.ev.bind_virq(abi::virq::timer, VcpuId{0}, record, &log);
    REQUIRE(p.has_value());
    CHECK(d.ev.send(*p).error() == Errc::einval);
    const uint64_t calls = d.evtchn_calls();
    CHECK(d.ev.send(Port{64}).error() == Errc::port_out_of_range);
    CHECK(d.ev.unmask(Port{64}).error() == Errc::port_out_of_range);
    CHECK(d.evtchn_calls() == calls);
}

TEST_CASE("unmask: with nothing pending it clears the mask bit without a hypercall", "[events][sim]")
{
    SimDomain<> d;
    Log log;
    auto p = d.ev.bind_ipi(VcpuId{0}, record, &log);
    REQUIRE(p.has_value());
    REQUIRE(d.ev.mask(*p).has_value());
    CHECK(d.hv.port_masked(p->value));
    const uint64_t calls = d.evtchn_calls();
    REQUIRE(d.ev.unmask(*p).has_value());
    CHECK_FALSE(d.hv.port_masked(p->value));
    CHECK(d.evtchn_calls() == calls);
}

TEST_CASE("unmask: an event that arrived while masked is delivered through EVTCHNOP_unmask", "[events][sim]")
{
    SimDomain<> d;
    Log log;
    auto p = d.ev.bind_ipi(VcpuId{1}, record, &log);
    REQUIRE(p.has_value());
    REQUIRE(d.ev.mask(*p).has_value());
    REQUIRE(d.ev.send(*p).has_value());
    // Masked: pending only, no selector, no upcall (public xen.h: the edge is lost).
    CHECK(d.hv.port_pending(p->value));
    CHECK(d.hv.vcpu_info(VcpuId{1}).evtchn_upcall_pending == 0);
    REQUIRE(d.dispatch(1).handled == 0);

    const uint64_t calls = d.evtchn_calls();
    REQUIRE(d.ev.unmask(*p).has_value()); // from vCPU 0, for vCPU 1's port
    CHECK(d.evtchn_calls() == calls + 1);
    CHECK_FALSE(d.hv.port_masked(p->value));
    CHECK(d.hv.vcpu_info(VcpuId{1}).evtchn_upcall_pending == 1);
    REQUIRE(d.dispatch(1).handled == 1);
    CHECK(log.calls.size() == 1);
}

TEST_CASE("unmask: an event that came before its handler was attached is delivered once attached", "[events][sim]")
{
    // The window inside bind: Xen has the port and raises it before the
    // table knows it. Dispatch leaves it pending; unmask re-delivers it.
    SimDomain<> d;
    auto raw = hc::evtchn_bind_ipi(VcpuId{0});
    REQUIRE(raw.has_value());
    REQUIRE(hc::evtchn_send(*raw).has_value());
    REQUIRE(d.dispatch(0).handled == 0);
    CHECK(d.hv.port_pending(raw->value));
    CHECK(d.hv.vcpu_info(VcpuId{0}).evtchn_upcall_pending == 0);

    Log log;
    REQUIRE(d.ev.attach(*raw, VcpuId{0}, record, &log).has_value());
    REQUIRE(d.ev.unmask(*raw).has_value());
    CHECK(d.hv.vcpu_info(VcpuId{0}).evtchn_upcall_pending == 1);
    REQUIRE(d.dispatch(0).handled == 1);
    CHECK(log.calls.at(0).port == raw->value);
}

TEST_CASE("close: the handler is never called again and Xen can reuse the port for a new binding", "[events][sim]")
{
    SimDomain<> d;
    Log old_log, new_log;
    auto p = d.ev.bind_ipi(VcpuId{0}, record, &old_log);
    REQUIRE(p.has_value());
    REQUIRE(d.ev.send(*p).has_value());
    REQUIRE(d.ev.close(*p, VcpuId{0}).has_value());
    CHECK(d.hv.port_state(p->value) == abi::evtchn_stat::closed);
    CHECK_FALSE(d.hv.port_pending(p->value)); // Xen clears it on close
    REQUIRE(d.dispatch(0).handled == 0);
    CHECK(old_log.calls.empty());

    auto again = d.ev.bind_virq(abi::virq::timer, VcpuId{0}, record, &new_log);
    REQUIRE(again.value() == *p); // lowest free port
    d.hv.raise_virq(VcpuId{0}, abi::virq::timer);
    REQUIRE(d.dispatch(0).handled == 1);
    CHECK(new_log.calls.size() == 1);
    CHECK(old_log.calls.empty());
}

TEST_CASE("close: refuses another vCPU's port, an unbound port and one beyond the table before Xen", "[events][sim]")
{
    SimDomain<> d;
    Log log;
    auto p = d.ev.bind_ipi(VcpuId{1}, record, &log);
    REQUIRE(p.has_value());
    const uint64_t calls = d.evtchn_calls();
    CHECK(d.ev.close(*p, VcpuId{0}).error() == Errc::not_current_vcpu);
    CHECK(d.ev.close(Port{p->value + 1}, VcpuId{0}).error() == Errc::port_not_bound);
    CHECK(d.ev.close(Port{64}, VcpuId{0}).error() == Errc::port_out_of_range);
    CHECK(d.evtchn_calls() == calls);
    CHECK(d.hv.port_state(p->value) == abi::evtchn_stat::ipi);
}

TEST_CASE("close: when Xen refuses, the binding stays and the handler still runs", "[events][sim]")
{
    SimDomain<> d;
    Log log;
    auto p = d.ev.bind_ipi(VcpuId{0}, record, &log);
    REQUIRE(p.has_value());
    d.hv.inject(sim::Fault{abi::hypercall::event_channel_op, static_cast<int32_t>(evtchnop::close), std::nullopt, 1,
                           Errc::einval, 1});
    CHECK(d.ev.close(*p, VcpuId{0}).error() == Errc::einval);
    REQUIRE(d.ev.send(*p).has_value());
    REQUIRE(d.dispatch(0).handled == 1);
    CHECK(log.calls.size() == 1);
}

TEST_CASE("unmask: when Xen refuses EVTCHNOP_unmask, the error is typed and the port stays masked", "[events][sim]")
{
    SimDomain<> d;
    Log log;
    auto p = d.ev.bind_ipi(VcpuId{0}, record, &log);
    REQUIRE(p.has_value());
    REQUIRE(d.ev.mask(*p).has_value());
    REQUIRE(d.ev.send(*p).has_value()); // pending while masked: unmask needs Xen
    d.hv.inject(sim::Fault{abi::hypercall::event_channel_op, static_cast<int32_t>(evtchnop::unmask), std::nullopt, 1,
                           Errc::efault, 1});
    CHECK(d.ev.unmask(*p).error() == Errc::efault);
    CHECK(d.hv.port_masked(p->value));
    CHECK(d.hv.port_pending(p->value));
    REQUIRE(d.ev.unmask(*p).has_value()); // the retry delivers it
    REQUIRE(d.dispatch(0).handled == 1);
}
