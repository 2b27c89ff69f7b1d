// xen::Smp hotplug on the simulated Xen: the AP parks itself with
// VCPUOP_down, the controller polls VCPUOP_is_up, VCPUOP_up brings it back
// without a second VCPUOP_initialise; the last vCPU is never taken down; a
// park or a remote down that lands late is waited for, within a bound.
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include <catch2/catch.hpp>

#include "smp_rig.hpp"

using namespace smp_test;
using xen::BringUpMode;
using xen::CpuState;
using xen::Errc;
namespace abi = xen::abi;

namespace {

sim::Config domain(sim::GuestType guest, uint32_t vcpus, uint32_t deferred_down_polls = 0)
{
    sim::Config c;
    c.guest = guest;
    c.vcpus = vcpus;
    c.deferred_down_polls = deferred_down_polls;
    return c;
}

} // namespace

TEST_CASE("hotplug: 20 cycles of every AP: it parks itself, is_up reads 0, VCPUOP_up brings it back, never initialise",
          "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        Rig rig(domain(guest, 8));
        REQUIRE(rig.bring_up(BringUpMode::parallel).online == 8);
        const uint64_t inits = rig.hv.calls(abi::vcpuop::initialise);
        for (uint32_t cycle = 1; cycle <= 20; ++cycle) {
            for (uint32_t id = 1; id < 8; ++id) {
                REQUIRE(rig.smp->offline(VcpuId{id}).has_value());
                CHECK(rig.smp->state(VcpuId{id}) == CpuState::parked);
                CHECK_FALSE(xen::hc::vcpu_is_up(VcpuId{id}).value());
                CHECK(xen::ap_stage(rig.smp->part(VcpuId{id}).handshake) == xen::ApStage::parked);
                REQUIRE(rig.smp->online(VcpuId{id}).has_value());
                CHECK(rig.smp->state(VcpuId{id}) == CpuState::online);
                CHECK(xen::hc::vcpu_is_up(VcpuId{id}).value());
                CHECK(rig.smp->part(VcpuId{id}).handshake.generation == cycle + 1);
                CHECK(rig.smp->part(VcpuId{id}).cycles == cycle);
            }
        }
        CHECK(rig.hv.calls(abi::vcpuop::initialise) == inits);
        for (uint32_t id = 1; id < 8; ++id)
            CHECK(rig.aps[id].resumes == 20); // it ran on after its own VCPUOP_down each time
        CHECK_FALSE(rig.hv.shutdown_reason().has_value());
    }
}

TEST_CASE("hotplug: after the cycles the AP still runs calls", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    REQUIRE(rig.smp->offline(VcpuId{2}).has_value());
    REQUIRE(rig.smp->online(VcpuId{2}).has_value());
    uint32_t ran_on = 99;
    REQUIRE(rig.smp
                ->call(
                    VcpuId{2}, [](void* arg) noexcept { *static_cast<uint32_t*>(arg) = sim::current_vcpu().value; },
                    &ran_on)
                .has_value());
    CHECK(ran_on == 2);
}

TEST_CASE("hotplug: a parked vCPU takes no calls, and a call to it is refused at once", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    REQUIRE(rig.smp->offline(VcpuId{1}).has_value());
    CHECK(rig.smp
              ->call(
                  VcpuId{1}, [](void*) noexcept {}, nullptr)
              .error() == Errc::unsupported);
}

TEST_CASE("hotplug: the caller's own vCPU is refused; as the last one online, with last_vcpu", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    CHECK(rig.smp->offline(VcpuId{0}).error() == Errc::invalid_argument);
    CHECK(rig.smp->offline_remote(VcpuId{0}).error() == Errc::invalid_argument);
    REQUIRE(rig.smp->offline(VcpuId{1}).has_value());
    REQUIRE(rig.smp->offline(VcpuId{2}).has_value());
    CHECK(rig.smp->offline(VcpuId{0}).error() == Errc::last_vcpu);
    CHECK(rig.smp->offline_remote(VcpuId{0}).error() == Errc::last_vcpu);
    CHECK_FALSE(rig.hv.shutdown_reason().has_value());
}

TEST_CASE("park_self: the last vCPU up refuses to park (Xen would power the domain off)", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 2));
    REQUIRE(rig.discover().has_value());
    const auto downs = rig.hv.calls(abi::vcpuop::down);
    CHECK(rig.smp->park_self(VcpuId{0}).error() == Errc::last_vcpu);
    CHECK(rig.hv.calls(abi::vcpuop::down) == downs);
    CHECK_FALSE(rig.hv.shutdown_reason().has_value());
    // The refusal is undone: it still reports itself online.
    CHECK(xen::ap_stage(rig.smp->part(VcpuId{0}).handshake) == xen::ApStage::online);
    CHECK(rig.smp->state(VcpuId{0}) == CpuState::online);
    // And on another vCPU's behalf it refuses too.
    CHECK(rig.smp->park_self(VcpuId{1}).error() == Errc::not_current_vcpu);
}

TEST_CASE("service: a park request makes the AP park itself (in the simulator VCPUOP_down on oneself returns at once)",
          "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 2));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 2);
    rig.smp->part(VcpuId{1}).mailbox.park = 1;
    sim::set_current_vcpu(VcpuId{1});
    const auto served = rig.smp->service(VcpuId{1});
    sim::set_current_vcpu(VcpuId{0});
    CHECK(served == xen::Smp::Served::parked);
    CHECK(rig.hv.vcpu(VcpuId{1}).down);                        // its own VCPUOP_down
    CHECK(rig.smp->part(VcpuId{1}).handshake.generation == 2); // it checked in after the (instant) resume
    CHECK(rig.smp->part(VcpuId{1}).mailbox.park == 0);
}

TEST_CASE("hotplug: a late park: the controller polls is_up until the AP gets there", "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        Rig rig(domain(guest, 4));
        REQUIRE(rig.bring_up(BringUpMode::parallel).online == 4);
        rig.aps[2].park_delay = 50;
        const uint64_t polls = rig.hv.calls(abi::vcpuop::is_up);
        REQUIRE(rig.smp->offline(VcpuId{2}).has_value());
        CHECK(rig.hv.calls(abi::vcpuop::is_up) - polls >= 50);
        CHECK(rig.smp->state(VcpuId{2}) == CpuState::parked);
        REQUIRE(rig.smp->online(VcpuId{2}).has_value());
    }
}

TEST_CASE("hotplug: an AP that does not park in time: timed_out, it stays parking, a later offline polls again",
          "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    rig.aps[1].park_delay = 1000;
    CHECK(rig.smp->offline(VcpuId{1}, Rig::within(1'000'000)).error() == Errc::timed_out);
    CHECK(rig.smp->state(VcpuId{1}) == CpuState::parking);
    CHECK(rig.smp->part(VcpuId{1}).last_error == Errc::timed_out);
    CHECK(rig.smp->online(VcpuId{1}).error() == Errc::invalid_argument); // not parked yet
    REQUIRE(rig.smp->offline(VcpuId{1}, Rig::within(100'000'000)).has_value());
    CHECK(rig.smp->state(VcpuId{1}) == CpuState::parked);
    REQUIRE(rig.smp->online(VcpuId{1}).has_value());
}

TEST_CASE("hotplug: a remote VCPUOP_down that lands late is polled with is_up until it lands", "[smp]")
{
    constexpr uint32_t late = 7;
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        Rig rig(domain(guest, 4, late));
        REQUIRE(rig.bring_up(BringUpMode::parallel).online == 4);
        const uint64_t polls = rig.hv.calls(abi::vcpuop::is_up);
        REQUIRE(rig.smp->offline_remote(VcpuId{3}).has_value());
        // One is_up before the down (Domain::down: vCPU 0 is up, so vCPU 3 is
        // not the last one), then the polls: 1 seven times, then 0.
        CHECK(rig.hv.calls(abi::vcpuop::is_up) - polls == 1 + late + 1);
        CHECK(rig.smp->state(VcpuId{3}) == CpuState::parked);
        CHECK(rig.hv.vcpu(VcpuId{3}).down);
        // Back up: no check-in comes from a vCPU stopped from outside; is_up says it runs.
        REQUIRE(rig.smp->online(VcpuId{3}).has_value());
        CHECK(rig.smp->state(VcpuId{3}) == CpuState::online);
        CHECK(rig.smp->part(VcpuId{3}).cycles == 1);
        CHECK(rig.hv.calls(abi::vcpuop::initialise) == 3);
    }
}

TEST_CASE("hotplug: a remote down that lands later than the bound: timed_out, then a longer poll sees it land", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3, 1000));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    CHECK(rig.smp->offline_remote(VcpuId{2}, xen::WaitBound{1'000'000'000, 100}).error() == Errc::timed_out);
    CHECK(rig.smp->state(VcpuId{2}) == CpuState::parking);
    CHECK(rig.hv.vcpu(VcpuId{2}).down_pending);
    REQUIRE(rig.smp->offline_remote(VcpuId{2}, xen::WaitBound{1'000'000'000'000, 10'000}).has_value());
    CHECK(rig.smp->state(VcpuId{2}) == CpuState::parked);
}

TEST_CASE("hotplug: online refuses a vCPU that is not parked; start refuses a parked one (already initialised)",
          "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    CHECK(rig.smp->online(VcpuId{1}).error() == Errc::invalid_argument);
    REQUIRE(rig.smp->offline(VcpuId{1}).has_value());
    const auto calls = rig.hv.total_calls();
    CHECK(rig.smp->start(VcpuId{1}).error() == Errc::already_initialised);
    CHECK(rig.smp->prepare(VcpuId{1}).error() == Errc::invalid_argument);
    CHECK(rig.hv.total_calls() == calls);
}

TEST_CASE("hotplug: VCPUOP_up failing leaves the vCPU parked with Xen's error; the retry brings it back", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    REQUIRE(rig.smp->offline(VcpuId{1}).has_value());
    rig.hv.inject(sim::Fault::vcpuop(abi::vcpuop::up, Errc::enomem));
    CHECK(rig.smp->online(VcpuId{1}).error() == Errc::enomem);
    CHECK(rig.smp->state(VcpuId{1}) == CpuState::parked);
    REQUIRE(rig.smp->online(VcpuId{1}).has_value());
    CHECK(rig.smp->state(VcpuId{1}) == CpuState::online);
}

TEST_CASE("hotplug: is_up failing while polling is reported, and the vCPU stays parking", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    rig.aps[1].park_delay = 5;
    rig.hv.inject(sim::Fault::vcpuop(abi::vcpuop::is_up, Errc::efault));
    CHECK(rig.smp->offline(VcpuId{1}).error() == Errc::efault);
    CHECK(rig.smp->state(VcpuId{1}) == CpuState::parking);
    REQUIRE(rig.smp->offline(VcpuId{1}).has_value());
}

TEST_CASE("hotplug: the remote down failing leaves the vCPU online", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    rig.hv.inject(sim::Fault::vcpuop(abi::vcpuop::down, Errc::eperm));
    CHECK(rig.smp->offline_remote(VcpuId{2}).error() == Errc::eperm);
    CHECK(rig.smp->state(VcpuId{2}) == CpuState::online);
}
