// xen::Smp on the simulated Xen: discovery, preparation, bring-up of 1..128
// vCPUs (PV and PVH, serial and parallel), the 32-vCPU line, APs that never
// check in, and a failure injected at each hypercall of the sequence.
#include <algorithm>

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

sim::Config domain(sim::GuestType guest, uint32_t vcpus, sim::Version version = sim::xen_4_17_7)
{
    sim::Config c;
    c.version = version;
    c.guest = guest;
    c.vcpus = vcpus;
    return c;
}

const char* name(sim::GuestType g) { return g == sim::GuestType::pv ? "PV" : "PVH"; }
const char* name(BringUpMode m) { return m == BringUpMode::serial ? "serial" : "parallel"; }

} // namespace

TEST_CASE("discover: counts vCPUs with is_up until ENOENT; vCPU 0 is the boot vCPU, every other keeps its vcpu_id",
          "[smp]")
{
    STATIC_REQUIRE(xen::boot_vcpu == VcpuId{0});
    for (uint32_t n : {1u, 2u, 33u, 128u}) {
        Rig rig(domain(sim::GuestType::pv, n));
        const auto count = rig.discover();
        REQUIRE(count.has_value());
        CHECK(*count == n);
        CHECK(rig.domain->vcpu_count() == n);
        CHECK(rig.smp->count() == n);
        CHECK(rig.hv.calls(abi::vcpuop::is_up) == n + 1); // n answers, then -ENOENT
        // The boot vCPU runs the kernel: online since boot, one check-in.
        CHECK(rig.smp->state(xen::boot_vcpu) == CpuState::online);
        CHECK(rig.smp->part(xen::boot_vcpu).handshake.generation == 1);
        for (uint32_t id = 1; id < n; ++id) {
            // Slot `id` is vCPU `id`'s: its SMP part and handshake name it.
            CHECK(rig.smp->part(VcpuId{id}).vcpu == VcpuId{id});
            CHECK(rig.smp->part(VcpuId{id}).handshake.vcpu == id);
            CHECK(rig.smp->state(VcpuId{id}) == CpuState::down);
        }
        CHECK(rig.smp->state(VcpuId{n}) == CpuState::absent);
        CHECK(rig.domain->slot(VcpuId{n}).error() == Errc::vcpu_out_of_range);
    }
}

TEST_CASE("discover: with slots for fewer vCPUs than the domain has it manages the first ones and says how many exist",
          "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 40), 8);
    // Discovery counts the domain's vCPUs; the slots bound what is managed.
    REQUIRE(rig.discover().value() == 40);
    CHECK(rig.domain->vcpu_count() == 40);
    CHECK(rig.domain->managed() == 8);
    CHECK(rig.smp->count() == 8);
    CHECK(rig.smp->state(VcpuId{7}) == CpuState::down);
    CHECK(rig.smp->state(VcpuId{8}) == CpuState::absent);
}

TEST_CASE("discover: the probe is bounded: a limit below the count is no_space", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 16));
    CHECK(rig.discover(8).error() == Errc::no_space);
    CHECK(rig.hv.calls(abi::vcpuop::is_up) == 9); // ids 0..8: vCPU 8 exists, so there are more than 8
}

TEST_CASE("discover: a domain of exactly `limit` vCPUs is counted (one probe past the limit says ENOENT)", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 16));
    CHECK(rig.discover(16).value() == 16);
    CHECK(rig.hv.calls(abi::vcpuop::is_up) == 17);
}

TEST_CASE("bring_up: every vCPU from 1 to 128 comes online, PV and PVH, serial and parallel", "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        for (auto mode : {BringUpMode::parallel, BringUpMode::serial}) {
            for (uint32_t n : {1u, 2u, 8u, 31u, 32u, 33u, 64u, 128u}) {
                DYNAMIC_SECTION(name(guest) << " " << name(mode) << " " << n << " vCPUs")
                {
                    Rig rig(domain(guest, n));
                    const auto report = rig.bring_up(mode);
                    CHECK(report.online == n);
                    CHECK(report.failed == 0);
                    CHECK(report.first_error == Errc{});
                    CHECK(rig.smp->online_count() == n);
                    CHECK(rig.hv.calls(abi::vcpuop::initialise) == n - 1);
                    CHECK(rig.hv.calls(abi::vcpuop::up) == n - 1);
                    for (uint32_t id = 1; id < n; ++id) {
                        const auto view = rig.hv.vcpu(VcpuId{id});
                        CHECK(rig.smp->state(VcpuId{id}) == CpuState::online);
                        // Up and really woken: no VGCF_online wake trap.
                        CHECK((view.initialised && !view.down && view.woken));
                        CHECK(view.vcpu_info_registered);
                        CHECK(rig.domain->vcpu_info(VcpuId{id}) == &rig.hv.vcpu_info(VcpuId{id}));
                        CHECK(rig.smp->part(VcpuId{id}).handshake.generation == 1);
                        CHECK(xen::ap_stage(rig.smp->part(VcpuId{id}).handshake) == xen::ApStage::online);
                        CHECK(rig.smp->part(VcpuId{id}).bringup_ns > 0);
                    }
                    CHECK_FALSE(rig.hv.shutdown_reason().has_value());
                }
            }
        }
    }
}

TEST_CASE("bring_up: each AP's timeline says when it was prepared, upped and seen online, in the mode's order", "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        for (auto mode : {BringUpMode::parallel, BringUpMode::serial}) {
            DYNAMIC_SECTION(name(guest) << " " << name(mode))
            {
                constexpr uint32_t n = 6;
                Rig rig(domain(guest, n));
                const auto report = rig.bring_up(mode);
                REQUIRE(report.online == n);
                CHECK(report.start_ns > 0);
                // The boot vCPU is never brought up: no stamps.
                const xen::SmpTimeline& boot = rig.smp->part(xen::boot_vcpu).timeline;
                CHECK((boot.prepare_begin_ns == 0 && boot.up_ns == 0 && boot.online_ns == 0));
                uint64_t last_prepared = 0, first_up = ~uint64_t{0}, last_up = 0, first_seen = ~uint64_t{0};
                for (uint32_t id = 1; id < n; ++id) {
                    const xen::SmpTimeline& t = rig.smp->part(VcpuId{id}).timeline;
                    // Every step stamped, in order, within the call.
                    CHECK(report.start_ns <= t.prepare_begin_ns);
                    CHECK(t.prepare_begin_ns <= t.prepare_end_ns);
                    CHECK(t.prepare_end_ns <= t.up_ns);
                    CHECK(t.up_ns < t.online_ns); // the check-in takes the AP's steps
                    CHECK(t.online_ns <= report.start_ns + report.total_ns);
                    // The check-in was seen after the AP stamped it.
                    CHECK(rig.smp->part(VcpuId{id}).handshake.online_ns <= t.online_ns);
                    if (mode == BringUpMode::serial && id > 1) {
                        // One AP at a time: the next is prepared only after
                        // the previous one was seen online.
                        CHECK(rig.smp->part(VcpuId{id - 1}).timeline.online_ns <= t.prepare_begin_ns);
                    }
                    last_prepared = std::max(last_prepared, t.prepare_end_ns);
                    first_up = std::min(first_up, t.up_ns);
                    last_up = std::max(last_up, t.up_ns);
                    first_seen = std::min(first_seen, t.online_ns);
                }
                if (mode == BringUpMode::parallel) {
                    // All prepared before any is upped, all upped before any is awaited.
                    CHECK(last_prepared <= first_up);
                    CHECK(last_up < first_seen);
                    CHECK(report.prepare_phase_ns <= first_up - report.start_ns);
                }
            }
        }
    }
}

TEST_CASE("prepare, start and await_online one by one: each stamps its own step of the timeline", "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 3));
    REQUIRE(rig.discover().has_value());
    REQUIRE(rig.smp->prepare(VcpuId{1}).has_value());
    const xen::SmpTimeline& t = rig.smp->part(VcpuId{1}).timeline;
    CHECK(t.prepare_begin_ns > 0);
    CHECK(t.prepare_end_ns >= t.prepare_begin_ns);
    CHECK((t.up_ns == 0 && t.online_ns == 0));
    // Preparing a prepared vCPU again is a no-op: the stamps stay.
    const xen::SmpTimeline before = t;
    rig.relax();
    REQUIRE(rig.smp->prepare(VcpuId{1}).has_value());
    CHECK((t.prepare_begin_ns == before.prepare_begin_ns && t.prepare_end_ns == before.prepare_end_ns));
    REQUIRE(rig.smp->start(VcpuId{1}).has_value());
    CHECK(t.up_ns >= t.prepare_end_ns);
    CHECK(t.online_ns == 0); // not awaited yet
    REQUIRE(rig.smp->await_online(VcpuId{1}).has_value());
    CHECK(t.online_ns > t.up_ns);
}

TEST_CASE("bring_up: on Xen 4.20 too (register_vcpu_info's 4.18+ rules)", "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        Rig rig(domain(guest, 48, sim::xen_4_20));
        const auto report = rig.bring_up(BringUpMode::parallel);
        CHECK(report.online == 48);
        CHECK(report.failed == 0);
    }
}

TEST_CASE("prepare: masks upcalls in the vcpu_info the AP will use and binds its call IPI to it", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 4));
    REQUIRE(rig.discover().has_value());
    REQUIRE(rig.smp->prepare(VcpuId{2}).has_value());
    const auto& c = rig.smp->part(VcpuId{2});
    CHECK(rig.smp->state(VcpuId{2}) == CpuState::prepared);
    CHECK(rig.slots[2].vcpu_info_registered);
    CHECK(rig.domain->vcpu_info(VcpuId{2})->evtchn_upcall_mask == 1);
    REQUIRE(c.ipi_bound);
    CHECK(rig.hv.port_state(c.ipi_port.value) == abi::evtchn_stat::ipi);
    CHECK(rig.prepared_by_hook == std::vector<uint32_t>{2});
    // Idempotent: a second prepare calls nothing.
    const auto calls = rig.hv.total_calls();
    REQUIRE(rig.smp->prepare(VcpuId{2}).has_value());
    CHECK(rig.hv.total_calls() == calls);
}

TEST_CASE("prepare: the boot vCPU and vCPUs beyond the count are refused", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 4));
    REQUIRE(rig.discover().has_value());
    CHECK(rig.smp->prepare(VcpuId{0}).error() == Errc::invalid_argument);
    CHECK(rig.smp->prepare(VcpuId{4}).error() == Errc::vcpu_out_of_range);
    CHECK(rig.smp->start(VcpuId{4}).error() == Errc::vcpu_out_of_range);
}

TEST_CASE("the 32-vCPU line: Xen refuses to initialise a PV vCPU >= 32 without its own vcpu_info", "[smp]")
{
    // What Xen does (common VCPUOP_initialise: still on dummy_vcpu_info).
    Rig rig(domain(sim::GuestType::pv, 40));
    REQUIRE(rig.discover().has_value());
    CHECK(xen::hc::vcpu_initialise(VcpuId{33}, rig.scratch->pv).error() == Errc::einval);
    // Below the line it has a shared_info slot and no such rule.
    CHECK(rig.hv.vcpu_info(VcpuId{31}).evtchn_upcall_mask == 1);
}

TEST_CASE("the 32-vCPU line: beyond_legacy placement registers vcpu_info only from vCPU 32 up, and all come online",
          "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        Rig rig(domain(guest, 40), Rig::max_cpus, xen::VcpuInfoPlacement::beyond_legacy);
        const auto report = rig.bring_up(BringUpMode::parallel);
        CHECK(report.online == 40);
        for (uint32_t id = 1; id < 40; ++id)
            CHECK(rig.hv.vcpu(VcpuId{id}).vcpu_info_registered == (id >= 32));
        CHECK(rig.domain->vcpu_info(VcpuId{5}) == &rig.hv.shared_info().vcpu_info[5]);
        CHECK(rig.domain->vcpu_info(VcpuId{35}) == &rig.hv.vcpu_info(VcpuId{35}));
    }
}

TEST_CASE("the 32-vCPU line: when placing vcpu_info fails for a vCPU >= 32 it is never initialised; the rest come up",
          "[smp]")
{
    for (auto placement : {xen::VcpuInfoPlacement::every_ap, xen::VcpuInfoPlacement::beyond_legacy}) {
        Rig rig(domain(sim::GuestType::pv, 40), Rig::max_cpus, placement);
        rig.hv.inject({abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::register_vcpu_info), 36u, 1u,
                       Errc::enomem, 0u});
        const auto report = rig.bring_up(BringUpMode::parallel);
        CHECK(report.online == 39);
        CHECK(report.failed == 1);
        CHECK(report.first_error == Errc::enomem);
        CHECK(rig.smp->state(VcpuId{36}) == CpuState::down);
        CHECK(rig.smp->part(VcpuId{36}).last_error == Errc::enomem);
        CHECK_FALSE(rig.hv.vcpu(VcpuId{36}).initialised);
        CHECK(rig.hv.calls(abi::vcpuop::initialise) == 38);
        // start() refuses it too, without a hypercall.
        const auto calls = rig.hv.total_calls();
        CHECK(rig.smp->start(VcpuId{36}).error() == Errc::invalid_argument);
        CHECK(rig.hv.total_calls() == calls);
    }
}

TEST_CASE("an AP that never checks in: timed_out for it while the others come online", "[smp]")
{
    for (auto mode : {BringUpMode::parallel, BringUpMode::serial}) {
        DYNAMIC_SECTION(name(mode))
        {
            Rig rig(domain(sim::GuestType::pvh, 8));
            REQUIRE(rig.discover().has_value());
            rig.aps[3].silent = true;
            const auto report = rig.smp->bring_up(mode, Rig::within(50'000'000));
            CHECK(report.online == 7);
            CHECK(report.failed == 1);
            CHECK(report.first_error == Errc::timed_out);
            CHECK(rig.smp->state(VcpuId{3}) == CpuState::starting);
            CHECK(rig.smp->part(VcpuId{3}).last_error == Errc::timed_out);
            // It never ran a single instruction: the stub never wrote its stage.
            CHECK(xen::ap_stage(rig.smp->part(VcpuId{3}).handshake) == xen::ApStage::idle);
            for (uint32_t id : {1u, 2u, 4u, 7u})
                CHECK(rig.smp->state(VcpuId{id}) == CpuState::online);

            // Late is not never: once it runs, a later await sees it.
            rig.aps[3].silent = false;
            CHECK(rig.smp->await_online(VcpuId{3}, Rig::within(1'000'000)).has_value());
            CHECK(rig.smp->state(VcpuId{3}) == CpuState::online);
            CHECK(rig.smp->online_count() == 8);
        }
    }
}

TEST_CASE("await_online: the bound holds even when the clock does not move", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 2));
    REQUIRE(rig.discover().has_value());
    rig.aps[1].silent = true;
    rig.step_ns = 0; // a stopped clock
    REQUIRE(rig.smp->prepare(VcpuId{1}).has_value());
    REQUIRE(rig.smp->start(VcpuId{1}).has_value());
    CHECK(rig.smp->await_online(VcpuId{1}, xen::WaitBound{1'000'000, 500}).error() == Errc::timed_out);
    CHECK(rig.relaxes <= 500);
}

TEST_CASE("parallel bring-up waits for all APs at once: far less virtual time than serial", "[smp]")
{
    uint64_t total[2] = {};
    for (auto mode : {BringUpMode::serial, BringUpMode::parallel}) {
        Rig rig(domain(sim::GuestType::pv, 64));
        REQUIRE(rig.discover().has_value());
        for (auto& ap : rig.aps)
            ap.entry_delay = 20; // each AP takes 20 steps to reach its entry
        const auto report = rig.smp->bring_up(mode);
        REQUIRE(report.online == 64);
        total[mode == BringUpMode::parallel] = report.total_ns;
    }
    CHECK(total[1] * 2 <= total[0]);
}

TEST_CASE("fault injection: a failure at each hypercall of the sequence fails that AP only, with Xen's error", "[smp]")
{
    struct Case {
        const char* what;
        sim::Fault fault;
        CpuState left;
    };
    const int32_t bind_ipi = static_cast<int32_t>(abi::evtchnop::bind_ipi);
    const Case cases[] = {
        {"register_vcpu_info",
         {abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::register_vcpu_info), 2u, 1u, Errc::eacces, 1u},
         CpuState::down},
        // bind_ipi of vCPU 2 is the second bind_ipi (vCPU 1 goes first).
        {"bind_ipi", {abi::hypercall::event_channel_op, bind_ipi, std::nullopt, 2u, Errc::enospc, 1u}, CpuState::down},
        {"initialise",
         {abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::initialise), 2u, 1u, Errc::enomem, 1u},
         CpuState::prepared},
        {"up",
         {abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::up), 2u, 1u, Errc::einval, 1u},
         CpuState::parked},
    };
    for (const auto& k : cases) {
        for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
            DYNAMIC_SECTION(k.what << " " << name(guest))
            {
                Rig rig(domain(guest, 4));
                rig.hv.inject(k.fault);
                const auto report = rig.bring_up(BringUpMode::parallel);
                CHECK(report.online == 3);
                CHECK(report.failed == 1);
                CHECK(report.first_error == k.fault.error);
                CHECK(rig.smp->part(VcpuId{2}).last_error == k.fault.error);
                CHECK(rig.smp->state(VcpuId{2}) == k.left);
                CHECK(rig.hv.faults_pending() == 0);

                // Nothing leaked, nothing done twice: a retry completes it.
                if (k.left == CpuState::parked) {
                    REQUIRE(rig.smp->online(VcpuId{2}).has_value());
                } else {
                    REQUIRE(rig.smp->prepare(VcpuId{2}).has_value());
                    REQUIRE(rig.smp->start(VcpuId{2}).has_value());
                    REQUIRE(rig.smp->await_online(VcpuId{2}).has_value());
                }
                CHECK(rig.smp->online_count() == 4);
                CHECK(rig.hv.calls(abi::vcpuop::register_vcpu_info) ==
                      3 + (k.fault.subop == static_cast<int32_t>(abi::vcpuop::register_vcpu_info) ? 1 : 0));
            }
        }
    }
}

TEST_CASE("fault injection: a failing prepare hook closes the IPI port it bound; the retry binds a fresh one", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.discover().has_value());
    rig.prepare_hook_error = Errc::eagain;
    CHECK(rig.smp->prepare(VcpuId{1}).error() == Errc::eagain);
    CHECK(rig.smp->state(VcpuId{1}) == CpuState::down);
    CHECK_FALSE(rig.smp->part(VcpuId{1}).ipi_bound);
    for (uint32_t port = 1; port < 8; ++port)
        CHECK(rig.hv.port_state(port) == abi::evtchn_stat::closed);
    rig.prepare_hook_error = Errc{};
    REQUIRE(rig.smp->prepare(VcpuId{1}).has_value());
    CHECK(rig.hv.calls(abi::vcpuop::register_vcpu_info) == 1); // registered once only
}

TEST_CASE("start: never a second VCPUOP_initialise: already_initialised without asking Xen", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    const auto calls = rig.hv.total_calls();
    CHECK(rig.smp->start(VcpuId{1}).error() == Errc::already_initialised);
    CHECK(rig.hv.total_calls() == calls);
}

TEST_CASE("start: an EEXIST from Xen (initialised behind the library's back) is already_initialised", "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        Rig rig(domain(guest, 3));
        REQUIRE(rig.discover().has_value());
        REQUIRE(rig.smp->prepare(VcpuId{1}).has_value());
        // Someone else initialises vCPU 1 first, with a valid context.
        REQUIRE(rig.smp->prepare(VcpuId{2}).has_value());
        REQUIRE(rig.smp->start(VcpuId{2}).has_value());
        const auto init = guest == sim::GuestType::pv ? xen::hc::vcpu_initialise(VcpuId{1}, rig.scratch->pv)
                                                      : xen::hc::vcpu_initialise(VcpuId{1}, rig.scratch->hvm);
        REQUIRE(init.has_value());
        CHECK(rig.smp->start(VcpuId{1}).error() == Errc::already_initialised);
        CHECK(rig.smp->part(VcpuId{1}).initialised);
        CHECK(rig.smp->part(VcpuId{1}).last_error == Errc::already_initialised);
    }
}

TEST_CASE("start: an AP that is not prepared is refused before any hypercall", "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 3));
    REQUIRE(rig.discover().has_value());
    const auto calls = rig.hv.total_calls();
    CHECK(rig.smp->start(VcpuId{1}).error() == Errc::invalid_argument);
    CHECK(rig.hv.total_calls() == calls);
}

TEST_CASE("the handshake carries the launch: the AP's stack, entry and data, and the time of the start", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 2));
    REQUIRE(rig.bring_up(BringUpMode::serial).online == 2);
    const xen::ApHandshake& hs = rig.smp->part(VcpuId{1}).handshake;
    CHECK(hs.reserved0 == 0); // no kernel CPU index any more: the vcpu_id is the key
    CHECK(hs.vcpu == 1);
    CHECK(hs.stack_top == 0x4000'0000 + 2 * 0x4000);
    CHECK(hs.arg == 0x5000'0001);
    CHECK(hs.entry != 0);
    CHECK(hs.online_ns > hs.start_ns);
    CHECK(rig.smp->part(VcpuId{1}).bringup_ns == hs.online_ns - hs.start_ns);
}

TEST_CASE("parallel bring-up batches through multicall: vcpu_info, IPIs, initialises and ups on PVH, ups only on PV; "
          "serial none",
          "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        for (uint32_t n : {2u, 17u, 18u, 64u, 128u}) {
            DYNAMIC_SECTION(name(guest) << " " << n << " vCPUs")
            {
                STATIC_REQUIRE(xen::Domain::up_batch == 16);
                STATIC_REQUIRE(xen::Domain::place_batch == 16);
                STATIC_REQUIRE(xen::EventChannels::bind_batch == 16);
                STATIC_REQUIRE(xen::SmpScratch::hvm_batch_size == 16);
                const uint32_t batches = (n - 1 + 15) / 16;
                // Per batch of 16 APs: on PVH one multicall each of
                // vcpu_info registrations, IPI bindings, initialises and
                // ups; on PV, where a hypercall is no VM exit, of ups only.
                const uint32_t kinds = guest == sim::GuestType::pvh ? 4 : 1;
                Rig par(domain(guest, n));
                REQUIRE(par.bring_up(BringUpMode::parallel).online == n);
                CHECK(par.hv.calls(abi::hypercall::multicall) == kinds * batches);
                // Each entry counted as the call it is.
                CHECK(par.hv.calls(abi::vcpuop::register_vcpu_info) == n - 1);
                CHECK(par.hv.calls(abi::vcpuop::up) == n - 1);
                CHECK(par.hv.calls(abi::vcpuop::initialise) == n - 1);

                Rig ser(domain(guest, n));
                REQUIRE(ser.bring_up(BringUpMode::serial).online == n);
                CHECK(ser.hv.calls(abi::hypercall::multicall) == 0);
                CHECK(ser.hv.calls(abi::vcpuop::up) == n - 1);
                CHECK(ser.hv.calls(abi::vcpuop::register_vcpu_info) == n - 1);
            }
        }
    }
}

TEST_CASE("parallel bring-up stamps once per batch: the APs of a PVH batch share their prepare, initialise and up "
          "stamps",
          "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        DYNAMIC_SECTION(name(guest))
        {
            Rig rig(domain(guest, 40));
            rig.read_ns = 1000; // every clock read a moment later: two stamps are equal only if one read
            REQUIRE(rig.bring_up(BringUpMode::parallel).online == 40);
            for (uint32_t id = 2; id < 40; ++id) {
                const xen::SmpCpu& c = rig.smp->part(VcpuId{id});
                const xen::SmpCpu& prev = rig.smp->part(VcpuId{id - 1});
                const bool same_batch = (id - 1) / 16 == (id - 2) / 16; // APs 1..16, 17..32, 33..39
                if (same_batch) {
                    CHECK(c.timeline.up_ns == prev.timeline.up_ns); // PV too: the ups are batched
                    if (guest == sim::GuestType::pvh) {
                        CHECK(c.timeline.prepare_begin_ns == prev.timeline.prepare_begin_ns);
                        CHECK(c.timeline.prepare_end_ns == prev.timeline.prepare_end_ns);
                        CHECK(c.handshake.start_ns == prev.handshake.start_ns);
                    }
                }
                if (!same_batch || guest == sim::GuestType::pv) {
                    // A new batch, or PV's one AP at a time: after the previous one.
                    CHECK(c.timeline.prepare_begin_ns > prev.timeline.prepare_end_ns);
                    CHECK(c.handshake.start_ns > prev.handshake.start_ns);
                }
                CHECK(c.handshake.start_ns > rig.smp->part(VcpuId{39}).timeline.prepare_end_ns);
                CHECK(c.timeline.prepare_begin_ns < c.timeline.prepare_end_ns);
                CHECK(c.bringup_ns == c.handshake.online_ns - c.handshake.start_ns);
            }
        }
    }
}

TEST_CASE("parallel bring-up initialises every AP before it ups any", "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 40));
    REQUIRE(rig.discover().has_value());
    // The first up fails: by then every AP must have been initialised.
    rig.hv.inject({abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::up), std::nullopt, 1u, Errc::einval, 1u});
    const auto report = rig.smp->bring_up(BringUpMode::parallel);
    CHECK(report.online == 39);
    CHECK(rig.smp->state(VcpuId{1}) == CpuState::parked);
    CHECK(rig.smp->part(VcpuId{1}).last_error == Errc::einval);
    CHECK(rig.smp->part(VcpuId{1}).timeline.up_ns == 0);
    for (uint32_t id = 1; id < 40; ++id)
        CHECK(rig.hv.vcpu(VcpuId{id}).initialised);
}

TEST_CASE("parallel bring-up on an HVM Xen without multicall (4.15): every batched call made alone instead, all online",
          "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 64, sim::Version{4, 15, 0}));
    const auto report = rig.bring_up(BringUpMode::parallel);
    CHECK(report.online == 64);
    CHECK(report.first_error == Errc{});
    // 4 batches of 16 APs, each with a multicall of vcpu_infos, IPIs,
    // initialises and ups: every one answered -ENOSYS, each entry then made alone.
    CHECK(rig.hv.calls(abi::hypercall::multicall) == 16);
    CHECK(rig.hv.calls(abi::vcpuop::register_vcpu_info) == 63);
    CHECK(rig.hv.calls(abi::vcpuop::initialise) == 63);
    CHECK(rig.hv.calls(abi::vcpuop::up) == 63);
    for (uint32_t id = 1; id < 64; ++id)
        CHECK(rig.smp->part(VcpuId{id}).ipi_bound);
}

namespace {

xen::abi::vcpu_hvm_context hvm_context()
{
    xen::abi::vcpu_hvm_context ctx{};
    ctx.mode = static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_64b);
    ctx.cpu_regs.x86_64.cr0 = 1ull << 31;
    ctx.cpu_regs.x86_64.cr4 = 1ull << 5;
    ctx.cpu_regs.x86_64.efer = 1ull << 8;
    ctx.cpu_regs.x86_64.rip = 0x100800;
    return ctx;
}

} // namespace

TEST_CASE("Domain::up_many: every vCPU gets its own outcome, whatever the others' in its batch", "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 40));
    REQUIRE(rig.discover().has_value());
    for (auto& ap : rig.aps)
        ap.silent = true; // woken without Smp: nothing to enter
    const xen::abi::vcpu_hvm_context ctx = hvm_context();
    // vCPUs 1..20 initialised, 21 not (Xen: -EINVAL), 99 beyond the domain.
    for (uint32_t id = 1; id <= 20; ++id)
        REQUIRE(rig.domain->initialise(VcpuId{id}, ctx).has_value());
    rig.hv.inject({abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::up), 5u, 1u, Errc::enomem, 1u});
    VcpuId vs[22];
    for (uint32_t i = 0; i < 20; ++i)
        vs[i] = VcpuId{i + 1};
    vs[20] = VcpuId{21};
    vs[21] = VcpuId{99};
    Errc errors[22];
    const uint32_t failed = rig.domain->up_many(vs, 22, errors);
    CHECK(failed == 3);
    for (uint32_t i = 0; i < 20; ++i)
        CHECK(errors[i] == (i + 1 == 5 ? Errc::enomem : Errc{}));
    CHECK(errors[20] == Errc::einval);
    CHECK(errors[21] == Errc::vcpu_out_of_range);
    CHECK(rig.hv.calls(abi::hypercall::multicall) == 2); // 16 + 5 entries; 99 never sent
    CHECK(rig.hv.calls(abi::vcpuop::up) == 21);
    CHECK(rig.hv.vcpu(VcpuId{1}).woken);
    CHECK_FALSE(rig.hv.vcpu(VcpuId{5}).woken);
}

TEST_CASE("Domain::initialise_many: every vCPU gets its own outcome, a failure in mid-batch included", "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 40));
    REQUIRE(rig.discover().has_value());
    // vCPU 3 initialised before (Xen: -EEXIST), vCPU 5's entry fails in Xen
    // (-ENOMEM), item 7's context is malformed (refused first), 99 is beyond
    // the domain (refused first).
    REQUIRE(rig.domain->initialise(VcpuId{3}, hvm_context()).has_value());
    rig.hv.inject({abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::initialise), 5u, 1u, Errc::enomem, 1u});
    VcpuId vs[22];
    xen::abi::vcpu_hvm_context ctxs[22];
    for (uint32_t i = 0; i < 21; ++i) {
        vs[i] = VcpuId{i + 1};
        ctxs[i] = hvm_context();
    }
    ctxs[6].pad = 1; // vCPU 7
    vs[21] = VcpuId{99};
    ctxs[21] = hvm_context();
    rig.hv.reset_counters();
    Errc errors[22];
    const uint32_t failed = rig.domain->initialise_many(vs, ctxs, 22, errors);
    CHECK(failed == 4);
    for (uint32_t i = 0; i < 21; ++i) {
        const uint32_t id = i + 1;
        const Errc want = id == 3 ? Errc::eexist : id == 5 ? Errc::enomem : id == 7 ? Errc::invalid_argument : Errc{};
        CHECK(errors[i] == want);
        CHECK(rig.hv.vcpu(VcpuId{id}).initialised == (id != 5 && id != 7));
    }
    CHECK(errors[21] == Errc::vcpu_out_of_range);
    CHECK(rig.hv.calls(abi::hypercall::multicall) == 2); // 15 + 5 entries
    CHECK(rig.hv.calls(abi::vcpuop::initialise) == 20);  // 7 and 99 never sent
    CHECK_FALSE(rig.hv.vcpu(VcpuId{1}).woken);           // initialise leaves them down
}

TEST_CASE("Domain::initialise_many on an HVM Xen without multicall (4.15): one initialise each", "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 20, sim::Version{4, 15, 0}));
    REQUIRE(rig.discover().has_value());
    VcpuId vs[19];
    xen::abi::vcpu_hvm_context ctxs[19];
    for (uint32_t i = 0; i < 19; ++i) {
        vs[i] = VcpuId{i + 1};
        ctxs[i] = hvm_context();
    }
    rig.hv.inject({abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::initialise), 18u, 1u, Errc::enomem, 1u});
    Errc errors[19];
    CHECK(rig.domain->initialise_many(vs, ctxs, 19, errors) == 1);
    for (uint32_t i = 0; i < 19; ++i)
        CHECK(errors[i] == (i + 1 == 18 ? Errc::enomem : Errc{}));
    CHECK(rig.hv.calls(abi::hypercall::multicall) == 2); // both -ENOSYS
    CHECK(rig.hv.calls(abi::vcpuop::initialise) == 19);
}

TEST_CASE("Domain::place_vcpu_info_many: registers each slot area once, every vCPU its own outcome", "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 40));
    REQUIRE(rig.discover().has_value());
    REQUIRE(rig.domain->place_vcpu_info(VcpuId{2}).has_value()); // nothing to send for it
    rig.hv.inject(
        {abi::hypercall::vcpu_op, static_cast<int32_t>(abi::vcpuop::register_vcpu_info), 9u, 1u, Errc::eacces, 1u});
    VcpuId vs[20];
    for (uint32_t i = 0; i < 19; ++i)
        vs[i] = VcpuId{i + 1};
    vs[19] = VcpuId{99};
    Errc errors[20];
    CHECK(rig.domain->place_vcpu_info_many(vs, 20, errors) == 2);
    for (uint32_t i = 0; i < 19; ++i) {
        const uint32_t id = i + 1;
        CHECK(errors[i] == (id == 9 ? Errc::eacces : Errc{}));
        CHECK(rig.domain->find(VcpuId{id})->vcpu_info_registered == (id != 9));
        if (id != 9) // the clock follows the new area, as place_vcpu_info has it
            CHECK(rig.domain->vcpu_info(VcpuId{id}) == rig.domain->find(VcpuId{id})->vcpu_info.get());
    }
    CHECK(errors[19] == Errc::vcpu_out_of_range);
    CHECK(rig.hv.calls(abi::hypercall::multicall) == 2);
    CHECK(rig.hv.calls(abi::vcpuop::register_vcpu_info) == 1 + 18); // vCPU 2's own, then 18 entries
    // Again: every registered one is left alone, vCPU 9 is retried.
    CHECK(rig.domain->place_vcpu_info_many(vs, 19, errors) == 0);
    CHECK(rig.hv.calls(abi::vcpuop::register_vcpu_info) == 1 + 18 + 1);
}

TEST_CASE("EventChannels::bind_ipi_many: a port each, published and unmasked; a failure in mid-batch is that vCPU's",
          "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 40));
    REQUIRE(rig.discover().has_value());
    const int32_t bind_ipi = static_cast<int32_t>(abi::evtchnop::bind_ipi);
    rig.hv.inject({abi::hypercall::event_channel_op, bind_ipi, std::nullopt, 5u, Errc::enospc, 1u});
    VcpuId vs[20];
    int ctx[20];
    void* ctxs[20];
    for (uint32_t i = 0; i < 20; ++i) {
        vs[i] = VcpuId{i < 19 ? i + 1 : 999}; // 999: beyond the slots, no cursor
        ctxs[i] = &ctx[i];
    }
    auto handler = [](xen::Port, VcpuId, void*) noexcept {};
    xen::Port ports[20]{};
    Errc errors[20];
    CHECK(rig.events().bind_ipi_many(vs, 20, handler, ctxs, ports, errors) == 2);
    std::set<uint32_t> seen;
    for (uint32_t i = 0; i < 19; ++i) {
        if (i == 4) {
            CHECK(errors[i] == Errc::enospc);
            continue;
        }
        REQUIRE(errors[i] == Errc{});
        CHECK(seen.insert(ports[i].value).second);
        CHECK_FALSE(rig.hv.port_masked(ports[i].value));
        CHECK(rig.events().find(handler, &ctx[i], vs[i]).value() == ports[i]);
    }
    CHECK(errors[19] == Errc::vcpu_out_of_range);
    CHECK(rig.hv.calls(abi::hypercall::multicall) == 2);

    // Refused before any call: no handler.
    const auto calls = rig.hv.total_calls();
    CHECK(rig.events().bind_ipi_many(vs, 3, nullptr, ctxs, ports, errors) == 3);
    CHECK(errors[0] == Errc::invalid_argument);
    CHECK(rig.hv.total_calls() == calls); // an empty batch makes no multicall
}
