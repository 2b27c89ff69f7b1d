// Upcall masking and safe_halt for PV against the simulated Xen: the
// vcpu_info mask, the one hypercall that delivers an event pending at
// unmask, guards that nest, and a block that neither loses an event nor
// leaves upcalls on. (PVH is RFLAGS.IF: target build only.)
#include <xen/event/upcall.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/events.hpp>
#include <xen/hypercall.hpp>

using namespace xen;

namespace {

struct Pv {
    sim::Hypervisor hv;
    sim::Scope scope{hv, VcpuId{0}};
    abi::vcpu_info& vi = hv.vcpu_info(VcpuId{0});

    uint8_t mask() const { return __atomic_load_n(&vi.evtchn_upcall_mask, __ATOMIC_SEQ_CST); }
    uint64_t forced() const { return hv.calls(abi::hypercall::xen_version); }
    uint64_t blocks() const { return hv.calls(abi::hypercall::sched_op); }
};

void ignore(Port, VcpuId, void*) noexcept {}

} // namespace

TEST_CASE("upcalls_off on PV sets evtchn_upcall_mask and says whether upcalls were on", "[upcall][sim]")
{
    Pv d;
    d.vi.evtchn_upcall_mask = 0;
    CHECK(upcalls_off(GuestKind::pv, d.vi));
    CHECK(d.mask() == 1);
    CHECK_FALSE(upcalls_off(GuestKind::pv, d.vi)); // already off
    CHECK(d.mask() == 1);
}

TEST_CASE("upcalls_on on PV clears the mask and makes no hypercall when nothing is pending", "[upcall][sim]")
{
    Pv d;
    d.vi.evtchn_upcall_mask = 1;
    d.vi.evtchn_upcall_pending = 0;
    const uint64_t before = d.hv.total_calls();
    CHECK_FALSE(upcalls_on(GuestKind::pv, d.vi));
    CHECK(d.mask() == 0);
    CHECK(d.hv.total_calls() == before);
    CHECK(upcalls_on(GuestKind::pv, d.vi)); // already on
}

TEST_CASE("upcalls_on on PV with an event pending enters Xen once (XENVER_version) to have it delivered",
          "[upcall][sim]")
{
    Pv d;
    d.vi.evtchn_upcall_mask = 1;
    d.vi.evtchn_upcall_pending = 1; // arrived while masked: Xen waits for our next exit
    const uint64_t forced = d.forced(), total = d.hv.total_calls();
    (void)upcalls_on(GuestKind::pv, d.vi);
    CHECK(d.mask() == 0);
    CHECK(d.forced() == forced + 1);
    CHECK(d.hv.total_calls() == total + 1);
}

TEST_CASE("UpcallGuard: holds upcalls off and restores what it found; nested guards leave them off until the "
          "outermost ends",
          "[upcall][sim]")
{
    Pv d;
    d.vi.evtchn_upcall_mask = 0;
    {
        UpcallGuard outer(GuestKind::pv, d.vi);
        CHECK(outer.was_on());
        CHECK(d.mask() == 1);
        {
            UpcallGuard inner(GuestKind::pv, d.vi);
            CHECK_FALSE(inner.was_on());
            CHECK(d.mask() == 1);
        }
        CHECK(d.mask() == 1); // the inner guard found them off and leaves them off
        d.vi.evtchn_upcall_pending = 1;
    }
    CHECK(d.mask() == 0);
    CHECK(d.forced() == 1); // the outer guard's end delivered what came meanwhile

    d.vi.evtchn_upcall_mask = 1; // a caller that already holds them off
    {
        UpcallGuard g(GuestKind::pv, d.vi);
        CHECK_FALSE(g.was_on());
    }
    CHECK(d.mask() == 1);
}

TEST_CASE("safe_halt on PV: an event already pending ends the block at once; upcalls are off again after",
          "[upcall][sim]")
{
    Pv d;
    d.vi.evtchn_upcall_mask = 1;
    d.vi.evtchn_upcall_pending = 1; // came after the caller's last check
    const uint64_t t = d.hv.now(), blocks = d.blocks();
    REQUIRE(safe_halt(GuestKind::pv, d.vi));
    CHECK(d.hv.now() == t); // did not sleep through it
    CHECK(d.blocks() == blocks + 1);
    CHECK(d.mask() == 1);
}

TEST_CASE("safe_halt on PV: sleeps until an event arrives, then holds upcalls off again", "[upcall][sim]")
{
    Pv d;
    EventStorage<64, 4> storage{};
    EventChannels ev(d.hv.shared_info(), storage);
    ev.mask_all();
    REQUIRE(ev.bind_virq(abi::virq::timer, VcpuId{0}, ignore, nullptr));
    REQUIRE(hc::stop_periodic_timer(VcpuId{0}));
    const uint64_t deadline = d.hv.now() + 5'000'000;
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, deadline));
    d.vi.evtchn_upcall_mask = 1;
    REQUIRE(safe_halt(GuestKind::pv, d.vi));
    CHECK(d.hv.now() == deadline);
    CHECK(d.vi.evtchn_upcall_pending == 1); // the timer's event, for the dispatcher
    CHECK(d.mask() == 1);
}

TEST_CASE("safe_halt for PVH is unsupported in the host build (it cannot halt)", "[upcall][sim]")
{
    sim::Hypervisor hv(sim::Config{.guest = sim::GuestType::pvh});
    sim::Scope s(hv);
    CHECK(safe_halt(GuestKind::pvh, hv.vcpu_info(VcpuId{0})).error() == Errc::unsupported);
}
