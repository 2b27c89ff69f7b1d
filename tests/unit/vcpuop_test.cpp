// Every VCPUOP (0-15) through the hc:: wrappers and the Domain, against the
// simulated Xen: each success path, each error path Xen documents
// (docs/vcpuop.md), at Xen 4.17 and 4.20 where they differ, and the bad
// input the library refuses before Xen ever sees the call.
#include <xen/domain.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

#include <memory>

using namespace xen;
using xen::abi::runstate;
using xen::abi::vcpuop;

namespace {

/// A Domain over the simulator's shared_info, with slots for 8 vCPUs (more
/// than any domain below has, so the range is the domain's, once discovered).
struct TestDomain {
    explicit TestDomain(sim::Hypervisor& hv)
    {
        DomainConfig dc;
        dc.shared = &hv.shared_info();
        dc.hooks.current = [](void*) noexcept { return sim::current_vcpu(); };
        REQUIRE(domain.init(dc, *storage));
    }
    std::unique_ptr<DomainStorage<8, 16>> storage = std::make_unique<DomainStorage<8, 16>>();
    Domain domain;
};

constexpr VcpuId v0{0};
constexpr VcpuId v1{1};
constexpr VcpuId v2{2};

sim::Config config(sim::Version version, sim::GuestType guest = sim::GuestType::pv, uint32_t vcpus = 4)
{
    sim::Config c;
    c.version = version;
    c.guest = guest;
    c.vcpus = vcpus;
    return c;
}

abi::vcpu_guest_context pv_context(uint64_t flags = abi::vgcf_in_kernel)
{
    abi::vcpu_guest_context c{};
    c.flags = flags;
    c.event_callback_eip = 0xffff800000001000;
    c.failsafe_callback_eip = 0xffff800000002000;
    return c;
}

abi::vcpu_hvm_context hvm64_context()
{
    abi::vcpu_hvm_context c{};
    c.mode = static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_64b);
    c.cpu_regs.x86_64.cr0 = (1ull << 31) | 1;            // PG | PE
    c.cpu_regs.x86_64.cr4 = 1ull << 5;                   // PAE
    c.cpu_regs.x86_64.efer = (1ull << 8) | (1ull << 10); // LME | LMA
    c.cpu_regs.x86_64.rip = 0x100000;
    return c;
}

// Bring a never-initialised PV vCPU up the Linux way (no VGCF_online).
void bring_up_pv(VcpuId id)
{
    REQUIRE(hc::vcpu_initialise(id, pv_context()));
    REQUIRE(hc::vcpu_up(id));
}

// A raw vcpu_op, for Xen paths no typed wrapper can produce.
long raw_vcpu_op(vcpuop op, uint32_t id, const void* arg)
{
    return transport::host_hypercall(abi::hypercall::vcpu_op, static_cast<uint32_t>(op), id,
                                     reinterpret_cast<uintptr_t>(arg), 0, 0);
}

// A page-aligned buffer to place areas at chosen offsets.
struct alignas(4096) Page {
    unsigned char bytes[2 * 4096];
};

} // namespace

// --- op 0: initialise ------------------------------------------------------

TEST_CASE("VCPUOP_initialise (PV): succeeds once, leaves the vCPU down without VGCF_online")
{
    auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv);
    REQUIRE(hc::vcpu_initialise(v1, pv_context()));
    CHECK(hv.vcpu(v1).initialised);
    CHECK_FALSE(hc::vcpu_is_up(v1).value());
    CHECK(hc::vcpu_initialise(v1, pv_context()).error() == Errc::eexist);
}

TEST_CASE("VCPUOP_initialise: -EEXIST for a vCPU brought down, which stays initialised")
{
    auto guest = GENERATE(sim::GuestType::pv, sim::GuestType::pvh);
    sim::Hypervisor hv(config(sim::xen_4_20, guest));
    sim::Scope s(hv);
    if (guest == sim::GuestType::pv)
        REQUIRE(hc::vcpu_initialise(v1, pv_context()));
    else
        REQUIRE(hc::vcpu_initialise(v1, hvm64_context()));
    REQUIRE(hc::vcpu_up(v1));
    REQUIRE(hc::vcpu_down(v1));
    if (guest == sim::GuestType::pv)
        CHECK(hc::vcpu_initialise(v1, pv_context()).error() == Errc::eexist);
    else
        CHECK(hc::vcpu_initialise(v1, hvm64_context()).error() == Errc::eexist);
}

TEST_CASE("VCPUOP_initialise (PV): vCPU >= 32 is -EINVAL until its vcpu_info is registered")
{
    auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version, sim::GuestType::pv, 33));
    sim::Scope s(hv);
    const VcpuId v32{32};
    CHECK(hc::vcpu_initialise(v32, pv_context()).error() == Errc::einval);
    static Area<abi::vcpu_info> info;
    REQUIRE(hc::register_vcpu_info(v32, info, FrameNumber{info.address() >> 12}));
    CHECK(hc::vcpu_initialise(v32, pv_context()));
}

TEST_CASE("VCPUOP_initialise (PV): Xen refuses a bad context with -EINVAL")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    auto bad_callback = pv_context();
    bad_callback.event_callback_eip = 0x0000900000000000; // not canonical
    CHECK(hc::vcpu_initialise(v1, bad_callback).error() == Errc::einval);
    auto user_without_l4 = pv_context(0); // not VGCF_in_kernel, ctrlreg[1] == 0
    CHECK(hc::vcpu_initialise(v1, user_without_l4).error() == Errc::einval);
    auto huge_gdt = pv_context();
    huge_gdt.gdt_ents = 16 * 512 + 1;
    CHECK(hc::vcpu_initialise(v1, huge_gdt).error() == Errc::einval);
    CHECK_FALSE(hv.vcpu(v1).initialised);
}

TEST_CASE("VCPUOP_initialise (PV): VGCF_online marks the vCPU up without waking it")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    REQUIRE(hc::vcpu_initialise(v1, pv_context(abi::vgcf_in_kernel | abi::vgcf_online)));
    CHECK(hc::vcpu_is_up(v1).value());
    REQUIRE(hc::vcpu_up(v1)); // finds _VPF_down clear: no wake either
    CHECK_FALSE(hv.vcpu(v1).woken);
    CHECK(hc::vcpu_get_runstate_info(v1)->state == static_cast<int32_t>(runstate::offline));
}

TEST_CASE("VCPUOP_initialise (PVH): succeeds, leaves the vCPU down until VCPUOP_up")
{
    auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version, sim::GuestType::pvh));
    sim::Scope s(hv);
    REQUIRE(hc::vcpu_initialise(v1, hvm64_context()));
    CHECK(hv.vcpu(v1).initialised);
    CHECK_FALSE(hc::vcpu_is_up(v1).value());
    REQUIRE(hc::vcpu_up(v1));
    CHECK(hc::vcpu_get_runstate_info(v1)->state == static_cast<int32_t>(runstate::running));
}

TEST_CASE("VCPUOP_initialise (PVH): a 64-bit context without paging is -EINVAL from Xen")
{
    sim::Hypervisor hv(config(sim::xen_4_20, sim::GuestType::pvh));
    sim::Scope s(hv);
    auto ctx = hvm64_context();
    ctx.cpu_regs.x86_64.cr0 = 1;
    CHECK(hc::vcpu_initialise(v1, ctx).error() == Errc::einval);
}

TEST_CASE("VCPUOP_initialise (PVH): non-zero pad or an unknown mode is refused before calling Xen")
{
    sim::Hypervisor hv(config(sim::xen_4_20, sim::GuestType::pvh));
    sim::Scope s(hv);
    auto padded = hvm64_context();
    padded.pad = 1;
    auto bad_mode = hvm64_context();
    bad_mode.mode = 7;
    CHECK(hc::vcpu_initialise(v1, padded).error() == Errc::invalid_argument);
    CHECK(hc::vcpu_initialise(v1, bad_mode).error() == Errc::invalid_argument);
    CHECK(hv.total_calls() == 0);
}

// --- op 1: up ----------------------------------------------------------------

TEST_CASE("VCPUOP_up: -EINVAL for a vCPU never initialised")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    CHECK(hc::vcpu_up(v1).error() == Errc::einval);
}

TEST_CASE("VCPUOP_up: an initialised vCPU runs; up again is a no-op")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    bring_up_pv(v1);
    CHECK(hc::vcpu_is_up(v1).value());
    const auto before = hc::vcpu_get_runstate_info(v1).value();
    hv.advance(1000);
    REQUIRE(hc::vcpu_up(v1));
    const auto after = hc::vcpu_get_runstate_info(v1).value();
    CHECK(after.state == static_cast<int32_t>(runstate::running));
    CHECK(after.state_entry_time == before.state_entry_time);
    CHECK(TestDomain(hv).domain.up(v1));
}

// --- op 2: down ----------------------------------------------------------------

TEST_CASE("VCPUOP_down: another vCPU goes offline; downing it again is harmless")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    bring_up_pv(v1);
    REQUIRE(hc::vcpu_down(v1));
    CHECK_FALSE(hc::vcpu_is_up(v1).value());
    CHECK(hc::vcpu_get_runstate_info(v1)->state == static_cast<int32_t>(runstate::offline));
    CHECK(hc::vcpu_down(v1));
    CHECK_FALSE(hv.shutdown_reason().has_value());
}

TEST_CASE("VCPUOP_down: Xen powers the domain off when the last up vCPU goes down")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    REQUIRE(hc::vcpu_down(v0));
    CHECK(hv.shutdown_reason() == abi::shutdown_reason::poweroff);
}

TEST_CASE("Domain::down: a remote down may land late; is_up is polled until it reads 0")
{
    auto cfg = config(sim::xen_4_20);
    cfg.deferred_down_polls = 2;
    sim::Hypervisor hv(cfg);
    sim::Scope s(hv);
    bring_up_pv(v1);
    TestDomain td(hv);
    Domain& ops = td.domain;
    REQUIRE(ops.discover());
    REQUIRE(ops.down(v1));
    int polls = 0;
    while (ops.is_up(v1).value() && polls < 10)
        ++polls;
    CHECK(polls == 2);
}

// --- op 3: is_up ---------------------------------------------------------------

TEST_CASE("VCPUOP_is_up: 1 for up, 0 for down, -ENOENT past the last vCPU")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7, sim::GuestType::pv, 2));
    sim::Scope s(hv);
    CHECK(hc::vcpu_is_up(v0).value());
    CHECK_FALSE(hc::vcpu_is_up(v1).value());
    CHECK(hc::vcpu_is_up(v2).error() == Errc::enoent);
}

TEST_CASE("Domain::discover counts the vCPUs by probing is_up until -ENOENT")
{
    sim::Hypervisor hv(config(sim::xen_4_20, sim::GuestType::pvh, 5));
    sim::Scope s(hv);
    TestDomain td(hv);
    Domain& ops = td.domain;
    CHECK(ops.vcpu_count() == 8); // the slots, until discovered
    CHECK(ops.discover().value() == 5);
    CHECK(ops.vcpu_count() == 5);
    CHECK(hv.calls(vcpuop::is_up) == 6);
    hv.inject(sim::Fault::vcpuop(vcpuop::is_up, Errc::eagain, 3));
    CHECK(ops.discover().error() == Errc::eagain);
    CHECK(ops.discover(3).error() == Errc::no_space);
}

// --- op 4: get_runstate_info -------------------------------------------------

TEST_CASE("VCPUOP_get_runstate_info: any vCPU, time in the current state included")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    const uint64_t t0 = hv.now();
    hv.advance(2'000'000);
    auto self = hc::vcpu_get_runstate_info(v0).value();
    auto other = hc::vcpu_get_runstate_info(v1).value();
    CHECK(self.state == static_cast<int32_t>(runstate::running));
    CHECK(self.time[0] == 2'000'000);
    CHECK(other.state == static_cast<int32_t>(runstate::offline));
    CHECK(other.time[3] == hv.now() - t0);
    CHECK(hc::vcpu_get_runstate_info(VcpuId{4}).error() == Errc::enoent);
}

// --- op 5: register_runstate_memory_area --------------------------------------

TEST_CASE("VCPUOP_register_runstate_memory_area: written at once, for a down vCPU too, NULL stops it")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> area;
    area.value.state = 99;
    REQUIRE(hc::register_runstate_memory_area(v1, area));
    CHECK(area.value.state == static_cast<int32_t>(runstate::offline));
    hv.advance(10);
    bring_up_pv(v1);
    CHECK(area.value.state == static_cast<int32_t>(runstate::running));
    CHECK(area.value.time[3] == 10);
    REQUIRE(hc::unregister_runstate_memory_area(v1));
    REQUIRE(hc::vcpu_down(v1));
    CHECK(area.value.state == static_cast<int32_t>(runstate::running));
}

TEST_CASE("VCPUOP_register_runstate_memory_area: re-registering moves updates to the new area")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> first;
    Area<abi::vcpu_runstate_info> second;
    REQUIRE(hc::register_runstate_memory_area(v0, first));
    REQUIRE(hc::register_runstate_memory_area(v0, second));
    hv.preempt(v0, 100);
    CHECK(second.value.time[1] == 100);
    CHECK(first.value.time[1] == 0);
}

// --- ops 6, 7: periodic timer -----------------------------------------------

TEST_CASE("VCPUOP_set_periodic_timer: any vCPU, from exactly 1 ms; stop never fails")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    REQUIRE(hc::set_periodic_timer(v1, 1'000'000));
    CHECK(hv.vcpu(v1).periodic_period_ns == 1'000'000);
    REQUIRE(hc::set_periodic_timer(v0, abi::periodic_period_max_ns));
    REQUIRE(hc::stop_periodic_timer(v1));
    REQUIRE(hc::stop_periodic_timer(v1));
    CHECK(hv.vcpu(v1).periodic_period_ns == 0);
    CHECK(hc::stop_periodic_timer(VcpuId{9}).error() == Errc::enoent);
}

TEST_CASE("VCPUOP_set_periodic_timer: out-of-range periods are refused as Xen would refuse them")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    CHECK(hc::set_periodic_timer(v0, 999'999).error() == Errc::period_too_short);
    CHECK(hc::set_periodic_timer(v0, abi::periodic_period_max_ns + 1).error() == Errc::invalid_argument);
    CHECK(hv.total_calls() == 0);
    // What Xen itself answers for both.
    const abi::vcpu_set_periodic_timer short_period{999'999};
    const abi::vcpu_set_periodic_timer long_period{abi::periodic_period_max_ns + 1};
    CHECK(raw_vcpu_op(vcpuop::set_periodic_timer, 0, &short_period) == -22);
    CHECK(raw_vcpu_op(vcpuop::set_periodic_timer, 0, &long_period) == -22);
}

TEST_CASE("VCPUOP_set_periodic_timer: ticks raise VIRQ_TIMER while the vCPU runs")
{
    sim::Hypervisor hv(config(sim::xen_4_20, sim::GuestType::pvh));
    sim::Scope s(hv);
    auto port = hc::evtchn_bind_virq(abi::virq::timer, v0);
    REQUIRE(port);
    REQUIRE(hc::set_periodic_timer(v0, 2'000'000));
    hv.advance(1'999'999);
    CHECK_FALSE(hv.port_pending(port->value));
    hv.advance(1);
    CHECK(hv.port_pending(port->value));
}

// --- ops 8, 9: single-shot timer ---------------------------------------------

TEST_CASE("VCPUOP_set_singleshot_timer: arms the calling vCPU's timer, which raises VIRQ_TIMER")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    auto port = hc::evtchn_bind_virq(abi::virq::timer, v0);
    REQUIRE(port);
    const uint64_t deadline = hv.now() + 500'000;
    REQUIRE(hc::set_singleshot_timer(v0, deadline));
    CHECK(hv.vcpu(v0).singleshot_ns == deadline);
    hv.advance_to(deadline);
    CHECK(hv.port_pending(port->value));
    CHECK_FALSE(hv.vcpu(v0).singleshot_ns);
}

TEST_CASE("VCPUOP_set_singleshot_timer: a past deadline without flags fires at once on every version")
{
    auto version = GENERATE(sim::xen_4_17_2, sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv);
    auto port = hc::evtchn_bind_virq(abi::virq::timer, v0);
    REQUIRE(port);
    REQUIRE(hc::set_singleshot_timer(v0, hv.now() - 1));
    CHECK(hv.port_pending(port->value));
}

TEST_CASE("set_singleshot_timer: past deadline with VCPU_SSHOTTMR_future is -ETIME before Xen 4.17.3")
{
    sim::Hypervisor hv(config(sim::xen_4_17_2));
    sim::Scope s(hv);
    auto port = hc::evtchn_bind_virq(abi::virq::timer, v0);
    REQUIRE(port);
    CHECK(hc::set_singleshot_timer(v0, hv.now() - 1, abi::sshottmr_future).error() == Errc::etime);
    CHECK_FALSE(hv.port_pending(port->value));
    CHECK_FALSE(hv.vcpu(v0).singleshot_ns);
}

TEST_CASE("set_singleshot_timer: past deadline fires at once on Xen >= 4.17.3, the flag ignored")
{
    auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv);
    auto port = hc::evtchn_bind_virq(abi::virq::timer, v0);
    REQUIRE(port);
    REQUIRE(hc::set_singleshot_timer(v0, hv.now() - 1, abi::sshottmr_future));
    CHECK(hv.port_pending(port->value));
}

TEST_CASE("VCPUOP_set/stop_singleshot_timer: Xen answers -EINVAL for another vCPU")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv, v0);
    CHECK(hc::set_singleshot_timer(v1, hv.now() + 1000).error() == Errc::einval);
    CHECK(hc::stop_singleshot_timer(v1).error() == Errc::einval);
}

TEST_CASE("VCPUOP_stop_singleshot_timer: cancels the armed deadline")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    REQUIRE(hc::set_singleshot_timer(v0, hv.now() + 1000));
    REQUIRE(hc::stop_singleshot_timer(v0));
    hv.advance(2000);
    CHECK_FALSE(hv.vcpu(v0).singleshot_ns);
    CHECK(hv.vcpu(v0).timer_fires == 0);
}

// --- op 10: register_vcpu_info ------------------------------------------------

TEST_CASE("VCPUOP_register_vcpu_info: copies the old vcpu_info and marks every event pending")
{
    auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv);
    hv.shared_info().vcpu_info[0].arch.cr2 = 0x1234;
    Area<abi::vcpu_info> area;
    REQUIRE(hc::register_vcpu_info(v0, area, FrameNumber{area.address() >> 12}));
    CHECK(area.value.arch.cr2 == 0x1234);
    CHECK(area.value.evtchn_upcall_mask == 1);
    CHECK(area.value.evtchn_pending_sel == ~uint64_t{0});
    CHECK(area.value.evtchn_upcall_pending == 1);
    CHECK(area.value.time.version % 2 == 0);
    CHECK(area.value.time.system_time == hv.now());
    CHECK(&hv.vcpu_info(v0) == area.get());
}

TEST_CASE("register_vcpu_info: a second registration is -EINVAL on Xen 4.17, -EBUSY on 4.18+")
{
    auto [version, expected] = GENERATE(std::make_pair(sim::xen_4_17_2, Errc::einval),
                                        std::make_pair(sim::xen_4_17_7, Errc::einval),
                                        std::make_pair(sim::xen_4_20, Errc::ebusy));
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv);
    Area<abi::vcpu_info> a;
    Area<abi::vcpu_info> b;
    REQUIRE(hc::register_vcpu_info(v0, a, FrameNumber{a.address() >> 12}));
    CHECK(hc::register_vcpu_info(v0, b, FrameNumber{b.address() >> 12}).error() == expected);
}

TEST_CASE("register_vcpu_info: for another vCPU that is up, -EINVAL on Xen 4.17, accepted on 4.18+")
{
    auto [version, accepted] = GENERATE(std::make_pair(sim::xen_4_17_7, false), std::make_pair(sim::xen_4_20, true));
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv, v0);
    bring_up_pv(v1);
    Area<abi::vcpu_info> area;
    auto r = hc::register_vcpu_info(v1, area, FrameNumber{area.address() >> 12});
    CHECK(r.has_value() == accepted);
    if (!accepted)
        CHECK(r.error() == Errc::einval);
}

TEST_CASE("register_vcpu_info: for another vCPU that is down, accepted on every version")
{
    auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv, v0);
    Area<abi::vcpu_info> area;
    CHECK(hc::register_vcpu_info(v2, area, FrameNumber{area.address() >> 12}));
}

TEST_CASE("VCPUOP_register_vcpu_info: a frame with no page behind it is -EINVAL")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    Area<abi::vcpu_info> area;
    CHECK(hc::register_vcpu_info(v0, area, FrameNumber{0}).error() == Errc::einval);
}

TEST_CASE("VCPUOP_register_vcpu_info: Xen answers -ENXIO for a misaligned or page-crossing area")
{
    auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv);
    static Page page;
    const uint64_t frame = reinterpret_cast<uintptr_t>(&page) >> 12;
    const abi::vcpu_register_vcpu_info misaligned{frame, 4}, crossing{frame, static_cast<uint32_t>(page_size - 32)};
    CHECK(raw_vcpu_op(vcpuop::register_vcpu_info, 0, &misaligned) == -6);
    CHECK(raw_vcpu_op(vcpuop::register_vcpu_info, 0, &crossing) == -6);
}

// --- op 11: send_nmi -----------------------------------------------------------

TEST_CASE("VCPUOP_send_nmi: raises an NMI on the target vCPU")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    REQUIRE(hc::send_nmi(v1));
    REQUIRE(hc::send_nmi(v1));
    CHECK(hv.vcpu(v1).nmis == 2);
    CHECK(hc::send_nmi(VcpuId{4}).error() == Errc::enoent);
    const int junk = 0;
    CHECK(raw_vcpu_op(vcpuop::send_nmi, 1, &junk) == -22); // an argument is -EINVAL
}

// --- op 12: get_physid ---------------------------------------------------------

TEST_CASE("VCPUOP_get_physid: -EINVAL unless the hardware domain's vCPU is pinned")
{
    auto [hwdom, pinned] = GENERATE(std::make_pair(false, false), std::make_pair(false, true),
                                    std::make_pair(true, false));
    auto cfg = config(sim::xen_4_20);
    cfg.hardware_domain = hwdom;
    cfg.pinned = pinned;
    sim::Hypervisor hv(cfg);
    sim::Scope s(hv);
    CHECK(hc::get_physid(v0).error() == Errc::einval);
}

TEST_CASE("VCPUOP_get_physid: a pinned dom0 vCPU gets its pCPU's APIC and ACPI ids")
{
    auto cfg = config(sim::xen_4_17_7);
    cfg.hardware_domain = true;
    cfg.pinned = true;
    cfg.pcpus = 4;
    sim::Hypervisor hv(cfg);
    sim::Scope s(hv);
    auto id = hc::get_physid(VcpuId{3});
    REQUIRE(id);
    CHECK(id->apic_id == 6); // the model: APIC 2 * pcpu, ACPI pcpu + 1
    CHECK(id->acpi_id == 4);
}

// --- op 13: register_vcpu_time_memory_area -------------------------------------

TEST_CASE("VCPUOP_register_vcpu_time_memory_area: a second pvclock copy, NULL unregisters")
{
    auto version = GENERATE(sim::xen_4_17_7, sim::xen_4_20);
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv);
    Area<abi::vcpu_time_info> area;
    REQUIRE(hc::register_vcpu_time_memory_area(v0, area));
    CHECK(area.value.system_time == hv.now());
    CHECK(area.value.version % 2 == 0);
    REQUIRE(hc::unregister_vcpu_time_memory_area(v0));
    hv.advance(100);
    hv.update_time(v0);
    CHECK(area.value.system_time == hv.now() - 100);
}

// --- ops 14, 15: phys areas --------------------------------------------------

TEST_CASE("register_runstate_phys_area and register_vcpu_time_phys_area: -ENOSYS before Xen 4.18")
{
    auto version = GENERATE(sim::xen_4_17_2, sim::xen_4_17_7);
    sim::Hypervisor hv(config(version));
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> rs;
    Area<abi::vcpu_time_info> tm;
    CHECK(hc::register_runstate_phys_area(v0, rs, PhysAddr{rs.address()}).error() == Errc::enosys);
    CHECK(hc::register_vcpu_time_phys_area(v0, tm, PhysAddr{tm.address()}).error() == Errc::enosys);
    CHECK(hc::unregister_runstate_phys_area(v0).error() == Errc::enosys);
}

TEST_CASE("VCPUOP_register_runstate_phys_area: always with XEN_RUNSTATE_UPDATE; ~0 unregisters")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> area;
    REQUIRE(hc::register_runstate_phys_area(v0, area, PhysAddr{area.address()}));
    CHECK(area.value.state == static_cast<int32_t>(runstate::running));
    CHECK_FALSE(hv.vm_assist_enabled(abi::vmasst_type::runstate_update_flag));
    auto w = hv.begin_runstate_update(v0);
    CHECK(w.uses_protocol());
    REQUIRE(w.step());
    CHECK((area.value.state_entry_time & abi::runstate_update_flag) != 0);
    w.finish();
    CHECK((area.value.state_entry_time & abi::runstate_update_flag) == 0);
    REQUIRE(hc::unregister_runstate_phys_area(v0));
    CHECK(hv.runstate_area_phys(v0) == nullptr);
}

TEST_CASE("VCPUOP_register_vcpu_time_phys_area: written at once; ~0 unregisters")
{
    sim::Hypervisor hv(config(sim::xen_4_20, sim::GuestType::pvh));
    sim::Scope s(hv);
    Area<abi::vcpu_time_info> area;
    REQUIRE(hc::register_vcpu_time_phys_area(v1, area, PhysAddr{area.address()}));
    CHECK(area.value.system_time == hv.now());
    REQUIRE(hc::unregister_vcpu_time_phys_area(v1));
    CHECK(hv.time_area_phys(v1) == nullptr);
}

TEST_CASE("VCPUOP_register_*_phys_area: Xen answers -ENXIO for misaligned or page-crossing areas")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    static Page page;
    const uint64_t base = reinterpret_cast<uintptr_t>(&page);
    const abi::vcpu_register_area_phys misaligned{base + 4}, crossing{base + page_size - 24};
    for (auto op : {vcpuop::register_runstate_phys_area, vcpuop::register_vcpu_time_phys_area}) {
        CHECK(raw_vcpu_op(op, 0, &misaligned) == -6);
        CHECK(raw_vcpu_op(op, 0, &crossing) == -6);
    }
}

// --- every op: -ENOENT and typed pass-through of Xen's errors ----------------

TEST_CASE("every VCPUOP wrapper: -ENOENT for a vCPU the domain does not have")
{
    sim::Hypervisor hv(config(sim::xen_4_20, sim::GuestType::pv, 2));
    sim::Scope s(hv, v2); // act as the missing vCPU, so 8/9 reach the -ENOENT check too
    Area<abi::vcpu_runstate_info> rs;
    Area<abi::vcpu_time_info> tm;
    Area<abi::vcpu_info> vi;
    CHECK(hc::vcpu_initialise(v2, pv_context()).error() == Errc::enoent);
    CHECK(hc::vcpu_up(v2).error() == Errc::enoent);
    CHECK(hc::vcpu_down(v2).error() == Errc::enoent);
    CHECK(hc::vcpu_is_up(v2).error() == Errc::enoent);
    CHECK(hc::vcpu_get_runstate_info(v2).error() == Errc::enoent);
    CHECK(hc::register_runstate_memory_area(v2, rs).error() == Errc::enoent);
    CHECK(hc::set_periodic_timer(v2, 10'000'000).error() == Errc::enoent);
    CHECK(hc::stop_periodic_timer(v2).error() == Errc::enoent);
    CHECK(hc::set_singleshot_timer(v2, 1).error() == Errc::enoent);
    CHECK(hc::stop_singleshot_timer(v2).error() == Errc::enoent);
    CHECK(hc::register_vcpu_info(v2, vi, FrameNumber{vi.address() >> 12}).error() == Errc::enoent);
    CHECK(hc::send_nmi(v2).error() == Errc::enoent);
    CHECK(hc::get_physid(v2).error() == Errc::enoent);
    CHECK(hc::register_vcpu_time_memory_area(v2, tm).error() == Errc::enoent);
    CHECK(hc::register_runstate_phys_area(v2, rs, PhysAddr{rs.address()}).error() == Errc::enoent);
    CHECK(hc::register_vcpu_time_phys_area(v2, tm, PhysAddr{tm.address()}).error() == Errc::enoent);
    for (int32_t op = 0; op < abi::vcpuop_count; ++op)
        CHECK(hv.calls(static_cast<vcpuop>(op)) == 1);
}

TEST_CASE("every VCPUOP wrapper: an error only Xen can produce comes back typed, unchanged")
{
    // -EFAULT, -ENOMEM, -EAGAIN, -EPERM, -EACCES: copy, allocation and p2m
    // failures the simulator cannot provoke on its own, injected instead.
    auto error = GENERATE(Errc::efault, Errc::enomem, Errc::eagain, Errc::eperm, Errc::eacces);
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    for (int32_t op = 0; op < abi::vcpuop_count; ++op)
        hv.inject(sim::Fault{abi::hypercall::vcpu_op, op, std::nullopt, 1, error, 0});
    Area<abi::vcpu_runstate_info> rs;
    Area<abi::vcpu_time_info> tm;
    Area<abi::vcpu_info> vi;
    CHECK(hc::vcpu_initialise(v1, pv_context()).error() == error);
    CHECK(hc::vcpu_up(v1).error() == error);
    CHECK(hc::vcpu_down(v1).error() == error);
    CHECK(hc::vcpu_is_up(v1).error() == error);
    CHECK(hc::vcpu_get_runstate_info(v1).error() == error);
    CHECK(hc::register_runstate_memory_area(v1, rs).error() == error);
    CHECK(hc::set_periodic_timer(v1, 10'000'000).error() == error);
    CHECK(hc::stop_periodic_timer(v1).error() == error);
    CHECK(hc::set_singleshot_timer(v0, hv.now() + 1).error() == error);
    CHECK(hc::stop_singleshot_timer(v0).error() == error);
    CHECK(hc::register_vcpu_info(v1, vi, FrameNumber{vi.address() >> 12}).error() == error);
    CHECK(hc::send_nmi(v1).error() == error);
    CHECK(hc::get_physid(v1).error() == error);
    CHECK(hc::register_vcpu_time_memory_area(v1, tm).error() == error);
    CHECK(hc::register_runstate_phys_area(v1, rs, PhysAddr{rs.address()}).error() == error);
    CHECK(hc::register_vcpu_time_phys_area(v1, tm, PhysAddr{tm.address()}).error() == error);
    CHECK_FALSE(hv.vcpu(v1).initialised);
}

TEST_CASE("Domain: every op reaches Xen for an in-range vCPU once discover() ran")
{
    auto cfg = config(sim::xen_4_20);
    cfg.hardware_domain = true;
    cfg.pinned = true;
    sim::Hypervisor hv(cfg);
    sim::Scope s(hv, v0);
    TestDomain td(hv);
    Domain& ops = td.domain;
    REQUIRE(ops.discover().value() == 4);
    hv.reset_counters();
    Area<abi::vcpu_runstate_info> rs;
    Area<abi::vcpu_runstate_info> rs_phys;
    Area<abi::vcpu_time_info> tm;
    Area<abi::vcpu_time_info> tm_phys;
    Area<abi::vcpu_info> vi;
    CHECK(ops.register_vcpu_info(v1, vi, FrameNumber{vi.address() >> 12}));
    CHECK(ops.initialise(v1, pv_context()));
    CHECK(ops.up(v1));
    CHECK(ops.is_up(v1).value());
    CHECK(ops.get_runstate_info(v1)->state == static_cast<int32_t>(runstate::running));
    CHECK(ops.register_runstate_memory_area(v1, rs));
    CHECK(ops.set_periodic_timer(v1, 1'000'000));
    CHECK(ops.stop_periodic_timer(v1));
    CHECK(ops.set_singleshot_timer(v0, hv.now() + 1000));
    CHECK(ops.stop_singleshot_timer(v0));
    CHECK(ops.send_nmi(v1));
    CHECK(ops.get_physid(v1)->apic_id == 2);
    CHECK(ops.register_vcpu_time_memory_area(v1, tm));
    CHECK(ops.register_runstate_phys_area(v1, rs_phys, PhysAddr{rs_phys.address()}));
    CHECK(ops.register_vcpu_time_phys_area(v1, tm_phys, PhysAddr{tm_phys.address()}));
    CHECK(ops.down(v1));
    for (int32_t op = 0; op < abi::vcpuop_count; ++op)
        CHECK(hv.calls(static_cast<vcpuop>(op)) >= 1);
}

// --- refused before calling Xen ----------------------------------------------

TEST_CASE("Domain: a vCPU id beyond the discovered count is refused, Xen never called")
{
    sim::Hypervisor hv(config(sim::xen_4_20, sim::GuestType::pv, 3));
    sim::Scope s(hv, v0);
    TestDomain td(hv);
    Domain& ops = td.domain;
    REQUIRE(ops.discover().value() == 3);
    hv.reset_counters();
    const VcpuId out{3};
    Area<abi::vcpu_runstate_info> rs;
    Area<abi::vcpu_time_info> tm;
    Area<abi::vcpu_info> vi;
    CHECK(ops.check(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.initialise(out, pv_context()).error() == Errc::vcpu_out_of_range);
    CHECK(ops.initialise(out, hvm64_context()).error() == Errc::vcpu_out_of_range);
    CHECK(ops.up(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.down(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.is_up(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.get_runstate_info(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.register_runstate_memory_area(out, rs).error() == Errc::vcpu_out_of_range);
    CHECK(ops.set_periodic_timer(out, 10'000'000).error() == Errc::vcpu_out_of_range);
    CHECK(ops.stop_periodic_timer(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.set_singleshot_timer(out, 1).error() == Errc::vcpu_out_of_range);
    CHECK(ops.stop_singleshot_timer(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.register_vcpu_info(out, vi, FrameNumber{vi.address() >> 12}).error() == Errc::vcpu_out_of_range);
    CHECK(ops.send_nmi(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.get_physid(out).error() == Errc::vcpu_out_of_range);
    CHECK(ops.register_vcpu_time_memory_area(out, tm).error() == Errc::vcpu_out_of_range);
    CHECK(ops.register_runstate_phys_area(out, rs, PhysAddr{rs.address()}).error() == Errc::vcpu_out_of_range);
    CHECK(ops.register_vcpu_time_phys_area(out, tm, PhysAddr{tm.address()}).error() == Errc::vcpu_out_of_range);
    CHECK(hv.total_calls() == 0);
}

TEST_CASE("Domain: before discover() the range is the slots; Xen answers -ENOENT within it")
{
    sim::Hypervisor hv(config(sim::xen_4_20, sim::GuestType::pv, 3));
    sim::Scope s(hv);
    TestDomain td(hv);
    Domain& ops = td.domain;
    CHECK(ops.is_up(VcpuId{3}).error() == Errc::enoent);
    CHECK(hv.calls(vcpuop::is_up) == 1);
}

TEST_CASE("Domain: a periodic period under 1 ms is period_too_short, Xen never called")
{
    sim::Hypervisor hv(config(sim::xen_4_17_7));
    sim::Scope s(hv);
    TestDomain td(hv);
    Domain& ops = td.domain;
    REQUIRE(ops.discover());
    hv.reset_counters();
    CHECK(ops.set_periodic_timer(v0, 0).error() == Errc::period_too_short);
    CHECK(ops.set_periodic_timer(v0, 999'999).error() == Errc::period_too_short);
    CHECK(hv.total_calls() == 0);
}

TEST_CASE("Domain: single-shot set/stop aimed at another vCPU is not_current_vcpu, Xen never called")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv, v1);
    TestDomain td(hv);
    Domain& ops = td.domain;
    REQUIRE(ops.discover());
    hv.reset_counters();
    CHECK(ops.set_singleshot_timer(v0, hv.now() + 1000).error() == Errc::not_current_vcpu);
    CHECK(ops.stop_singleshot_timer(v2).error() == Errc::not_current_vcpu);
    CHECK(hv.total_calls() == 0);
    CHECK(ops.set_singleshot_timer(v1, hv.now() + 1000));
}

TEST_CASE("Domain::down of the last up vCPU is last_vcpu; VCPUOP_down never sent, domain lives")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    TestDomain td(hv);
    Domain& ops = td.domain;
    REQUIRE(ops.discover());
    hv.reset_counters();
    CHECK(ops.down(v0).error() == Errc::last_vcpu);
    CHECK(hv.calls(vcpuop::down) == 0);
    CHECK_FALSE(hv.shutdown_reason().has_value());
    CHECK(hc::vcpu_is_up(v0).value());
}

TEST_CASE("Domain::down: a vCPU initialised with VGCF_online counts as up, as Xen counts it")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    TestDomain td(hv);
    Domain& ops = td.domain;
    REQUIRE(ops.discover());
    REQUIRE(hc::vcpu_initialise(v1, pv_context(abi::vgcf_in_kernel | abi::vgcf_online)));
    CHECK(ops.down(v0));
    CHECK_FALSE(hv.shutdown_reason().has_value());
}

TEST_CASE("phys-area wrappers: a physical address at another page offset than the area is refused")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> rs;
    Area<abi::vcpu_time_info> tm;
    CHECK(hc::register_runstate_phys_area(v0, rs, PhysAddr{rs.address() + 8}).error() == Errc::invalid_argument);
    CHECK(hc::register_vcpu_time_phys_area(v0, tm, PhysAddr{tm.address() + 8}).error() == Errc::invalid_argument);
    CHECK(hv.total_calls() == 0);
}

TEST_CASE("phys-area wrappers: a misaligned or page-crossing physical address is refused before Xen")
{
    sim::Hypervisor hv(config(sim::xen_4_20));
    sim::Scope s(hv);
    Area<abi::vcpu_runstate_info> rs;
    Area<abi::vcpu_time_info> tm;
    const uint64_t page = 0x40000;
    CHECK(hc::register_runstate_phys_area(v0, rs, PhysAddr{page + 4}).error() == Errc::area_misaligned);
    CHECK(hc::register_vcpu_time_phys_area(v0, tm, PhysAddr{page + 4}).error() == Errc::area_misaligned);
    CHECK(hc::register_runstate_phys_area(v0, rs, PhysAddr{page + 4072}).error() == Errc::area_crosses_page);
    CHECK(hc::register_vcpu_time_phys_area(v0, tm, PhysAddr{page + 4080}).error() == Errc::area_crosses_page);
    CHECK(hv.total_calls() == 0);
}

TEST_CASE("area check: misaligned is area_misaligned, straddling a page is area_crosses_page")
{
    // The rule ops 10, 14 and 15 apply (and the library applies to 5 and 13).
    CHECK(hc::detail::check_area(0x1004, 32).error() == Errc::area_misaligned);
    CHECK(hc::detail::check_area(0x1fe0, 48).error() == Errc::area_crosses_page);
    CHECK(hc::detail::check_area(0x1fc0, 64));
}
