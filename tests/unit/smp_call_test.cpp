// xen::Smp IPIs and cross-vCPU calls on the simulated Xen, and the AP
// contexts VCPUOP_initialise gets (PV vcpu_guest_context, PVH
// vcpu_hvm_context in 64-bit mode).
#include <xen/smp.hpp>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "smp_rig.hpp"

using namespace smp_test;
using xen::BringUpMode;
using xen::CpuState;
using xen::Errc;
namespace abi = xen::abi;

namespace {

sim::Config domain(sim::GuestType guest, uint32_t vcpus)
{
    sim::Config c;
    c.guest = guest;
    c.vcpus = vcpus;
    return c;
}

struct Seen {
    VcpuId self{99};
    VcpuId vcpu{99};
    uint32_t times = 0;
};

void record(void* arg) noexcept
{
    auto* s = static_cast<Seen*>(arg);
    s->self = Rig::current().smp->self();
    s->vcpu = sim::current_vcpu();
    ++s->times;
}

} // namespace

TEST_CASE("call: runs the function on the target vCPU, as that vCPU, and returns once it has run", "[smp]")
{
    for (auto guest : {sim::GuestType::pv, sim::GuestType::pvh}) {
        Rig rig(domain(guest, 40));
        REQUIRE(rig.bring_up(BringUpMode::parallel).online == 40);
        for (uint32_t id : {1u, 17u, 39u}) {
            Seen seen;
            const uint64_t ipis = rig.smp->part(VcpuId{id}).mailbox.ipis;
            REQUIRE(rig.smp->call(VcpuId{id}, record, &seen).has_value());
            CHECK(seen.self == VcpuId{id});
            CHECK(seen.vcpu == VcpuId{id});
            CHECK(seen.times == 1);
            // Woken by its call IPI, delivered through its own vcpu_info.
            CHECK(rig.smp->part(VcpuId{id}).mailbox.ipis == ipis + 1);
            CHECK(rig.smp->part(VcpuId{id}).mailbox.busy == 0);
        }
    }
}

TEST_CASE("call: on the caller's own vCPU it is a plain call, no IPI", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 2));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 2);
    const auto evtchn = rig.hv.calls(abi::hypercall::event_channel_op);
    Seen seen;
    REQUIRE(rig.smp->call(VcpuId{0}, record, &seen).has_value());
    CHECK(seen.self == VcpuId{0});
    CHECK(rig.hv.calls(abi::hypercall::event_channel_op) == evtchn);
}

TEST_CASE("call: a vCPU that is not online, not a vCPU of the domain, or a null function is refused", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 4));
    REQUIRE(rig.discover().has_value());
    Seen seen;
    CHECK(rig.smp->call(VcpuId{2}, record, &seen).error() == Errc::unsupported); // never started
    CHECK(rig.smp->call(VcpuId{4}, record, &seen).error() == Errc::vcpu_out_of_range);
    CHECK(rig.smp->call(VcpuId{0}, nullptr, &seen).error() == Errc::invalid_argument);
    CHECK(rig.smp->send_ipi(VcpuId{2}).error() == Errc::unsupported); // no IPI bound yet
    CHECK(seen.times == 0);
}

TEST_CASE("call: a target that does not run it in time: timed_out; the mailbox stays taken until it does", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    rig.aps[1].silent = true; // it stops serving
    Seen seen;
    CHECK(rig.smp->call(VcpuId{1}, record, &seen, Rig::within(1'000'000)).error() == Errc::timed_out);
    CHECK(seen.times == 0);
    // A second caller cannot take the mailbox while the first call is pending.
    Seen other;
    CHECK(rig.smp->post(VcpuId{1}, record, &other, Rig::within(1'000'000)).error() == Errc::timed_out);
    // Once the target serves again, the first call runs, and the mailbox is free.
    rig.aps[1].silent = false;
    rig.relax();
    CHECK(seen.times == 1);
    REQUIRE(rig.smp->call(VcpuId{1}, record, &other).has_value());
    CHECK(other.times == 1);
}

TEST_CASE("service: a call that waits (and so serves its own mailbox) is not run again from inside itself", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 2));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 2);
    rig.simulate = false;
    struct Nested {
        uint32_t runs = 0;
        xen::Smp::Served inner{};
        bool pending_inside = true;
    } nested;
    auto* ctl = rig.smp.get();
    const auto ticket = ctl->post(
        VcpuId{1},
        [](void* arg) noexcept {
            auto& n = *static_cast<Nested*>(arg);
            ++n.runs;
            // What a wait inside the call does on this vCPU: look at the mailbox.
            n.pending_inside = Rig::current().smp->pending(VcpuId{1});
            n.inner = Rig::current().smp->service(VcpuId{1});
        },
        &nested);
    REQUIRE(ticket.has_value());
    sim::set_current_vcpu(VcpuId{1});
    CHECK(ctl->service(VcpuId{1}) == xen::Smp::Served::call);
    sim::set_current_vcpu(VcpuId{0});
    CHECK(nested.runs == 1);
    CHECK_FALSE(nested.pending_inside);
    CHECK(nested.inner == xen::Smp::Served::nothing);
    CHECK(ctl->wait_call(*ticket).has_value());
    CHECK_FALSE(ctl->pending(VcpuId{1}));
}

TEST_CASE("post and wait_call: a call can be waited for later; sequence numbers survive wrapping", "[smp]")
{
    Rig rig(domain(sim::GuestType::pvh, 2));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 2);
    auto& m = rig.smp->part(VcpuId{1}).mailbox;
    m.posted = m.done = 0xffff'fffe; // two calls from wrapping
    Seen seen;
    for (int i = 0; i < 4; ++i) {
        const auto ticket = rig.smp->post(VcpuId{1}, record, &seen);
        REQUIRE(ticket.has_value());
        REQUIRE(rig.smp->wait_call(*ticket).has_value());
    }
    CHECK(seen.times == 4);
    CHECK(m.done == 2);
}

TEST_CASE("send_ipi: the port is pending for the target's vCPU and its upcall runs the IPI handler there", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 36));
    rig.simulate = false;
    REQUIRE(rig.discover().has_value());
    REQUIRE(rig.smp->prepare(VcpuId{34}).has_value());
    const auto port = rig.smp->part(VcpuId{34}).ipi_port;
    REQUIRE(rig.smp->send_ipi(VcpuId{34}).has_value());
    CHECK(rig.hv.port_pending(port.value));
    auto& vi = *rig.domain->vcpu_info(VcpuId{34});
    CHECK(vi.evtchn_upcall_pending == 1);
    // Not vCPU 0's upcall: it leaves the port alone.
    (void)rig.events().dispatch(VcpuId{0}, rig.hv.vcpu_info(VcpuId{0}));
    CHECK(rig.hv.port_pending(port.value));
    (void)rig.events().dispatch(VcpuId{34}, vi);
    CHECK_FALSE(rig.hv.port_pending(port.value));
    CHECK(rig.smp->part(VcpuId{34}).mailbox.ipis == 1);
}

TEST_CASE("call: two AP threads serve calls from the controller thread; every call runs exactly once", "[smp]")
{
    Rig rig(domain(sim::GuestType::pv, 3));
    REQUIRE(rig.bring_up(BringUpMode::parallel).online == 3);
    rig.simulate = false; // the APs are real threads from here on
    std::atomic<bool> stop{false};
    auto serve = [&](uint32_t id) {
        sim::Scope scope(rig.hv, VcpuId{id});
        while (!stop.load()) {
            (void)rig.smp->service(VcpuId{id});
            std::this_thread::yield();
        }
    };
    std::thread a(serve, 1u), b(serve, 2u);
    std::atomic<uint32_t> runs[3] = {};
    constexpr uint32_t calls = 300;
    for (uint32_t i = 0; i < calls; ++i) {
        const uint32_t id = 1 + i % 2;
        auto bump = [](void* arg) noexcept {
            static_cast<std::atomic<uint32_t>*>(arg)[sim::current_vcpu().value].fetch_add(1);
        };
        REQUIRE(rig.smp->call(VcpuId{id}, bump, runs, xen::WaitBound{~uint64_t{0} / 2, ~uint64_t{0}}).has_value());
    }
    stop = true;
    a.join();
    b.join();
    CHECK(runs[0] == 0);
    CHECK(runs[1] == calls / 2);
    CHECK(runs[2] == calls / 2);
}

// --- the contexts ------------------------------------------------------------

namespace {

const abi::trap_info traps[] = {
    {0, 0, abi::flat_kernel_cs, 0, 0x100000},
    {3, 3, abi::flat_kernel_cs, 0, 0x100060},
    {14, 0, abi::flat_kernel_cs, 0, 0x1001c0},
    {},
};
const xen::PvBoot pv_boot{abi::pfn_to_cr3(0x1234), traps, 0x100400, 0x100440, 0};
const xen::HvmBoot hvm_boot{0x80000011, 0x200000, 0x20, 0x500};
const xen::ApLaunch launch{0x100800, 0x480000, 0x300040, 0x310000};

} // namespace

TEST_CASE("make_pv_context: in kernel mode on its own stack, the kernel's cr3, traps by vector; never VGCF_online",
          "[smp]")
{
    auto ctx = std::make_unique<abi::vcpu_guest_context>();
    REQUIRE(xen::make_pv_context(pv_boot, launch, *ctx).has_value());
    CHECK((ctx->flags & abi::vgcf_online) == 0);
    CHECK((ctx->flags & abi::vgcf_in_kernel) != 0);
    CHECK(ctx->user_regs.rip == launch.rip);
    CHECK(ctx->user_regs.rsp == launch.stack_top);
    CHECK(ctx->user_regs.rdi == launch.handshake);
    CHECK(ctx->user_regs.cs == abi::flat_kernel_cs);
    CHECK(ctx->user_regs.ss == abi::flat_kernel_ss);
    CHECK((ctx->user_regs.rflags & 0x200) == 0); // events stay masked by vcpu_info until the AP is ready
    CHECK(ctx->ctrlreg[3] == abi::pfn_to_cr3(0x1234));
    CHECK(ctx->kernel_sp == launch.stack_top);
    CHECK(ctx->kernel_ss == abi::flat_kernel_ss);
    CHECK(ctx->gs_base_kernel == launch.gs_base);
    CHECK(ctx->event_callback_eip == 0x100400);
    CHECK(ctx->failsafe_callback_eip == 0x100440);
    CHECK(ctx->trap_ctxt[3].address == 0x100060);
    CHECK(ctx->trap_ctxt[3].flags == 3);
    CHECK(ctx->trap_ctxt[14].address == 0x1001c0);
    CHECK(ctx->trap_ctxt[13].address == 0);
    CHECK(ctx->gdt_ents == 0);
}

TEST_CASE("make_hvm_context: 64-bit mode with the kernel's control registers; the handshake in rdi", "[smp]")
{
    abi::vcpu_hvm_context ctx{};
    REQUIRE(xen::make_hvm_context(hvm_boot, launch, ctx).has_value());
    CHECK(ctx.mode == static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_64b));
    CHECK(ctx.pad == 0);
    const auto& r = ctx.cpu_regs.x86_64;
    CHECK(r.rip == launch.rip);
    CHECK(r.rsp == launch.stack_top);
    CHECK(r.rdi == launch.handshake);
    CHECK(r.rflags == 0x2);
    CHECK(r.cr0 == hvm_boot.cr0);
    CHECK(r.cr3 == hvm_boot.cr3);
    CHECK(r.cr4 == hvm_boot.cr4);
    CHECK(r.efer == hvm_boot.efer);
}

TEST_CASE("make_*_context: what Xen would refuse, or what could never run, is refused", "[smp]")
{
    auto ctx = std::make_unique<abi::vcpu_guest_context>();
    abi::vcpu_hvm_context hvm{};
    xen::ApLaunch bad = launch;
    bad.rip = 0x0000'8000'0000'0000; // not canonical
    CHECK(xen::make_pv_context(pv_boot, bad, *ctx).error() == Errc::invalid_argument);
    CHECK(xen::make_hvm_context(hvm_boot, bad, hvm).error() == Errc::invalid_argument);
    bad = launch;
    bad.stack_top += 8; // misaligned
    CHECK(xen::make_pv_context(pv_boot, bad, *ctx).error() == Errc::invalid_argument);
    xen::PvBoot no_cr3 = pv_boot;
    no_cr3.cr3 = 0;
    CHECK(xen::make_pv_context(no_cr3, launch, *ctx).error() == Errc::invalid_argument);
    xen::HvmBoot no_paging = hvm_boot;
    no_paging.cr0 &= ~(uint64_t{1} << 31);
    CHECK(xen::make_hvm_context(no_paging, launch, hvm).error() == Errc::invalid_argument);
    xen::HvmBoot no_lme = hvm_boot;
    no_lme.efer = 0;
    CHECK(xen::make_hvm_context(no_lme, launch, hvm).error() == Errc::invalid_argument);
}

TEST_CASE("the handshake layout the entry assembly relies on", "[smp]")
{
    STATIC_REQUIRE(sizeof(xen::ApHandshake) == 64);
    STATIC_REQUIRE(offsetof(xen::ApHandshake, stage) == xen::ap_handshake_stage_offset);
    STATIC_REQUIRE(offsetof(xen::ApHandshake, entry) == xen::ap_handshake_entry_offset);
    xen::ApHandshake hs{};
    xen::ap_set_stage(hs, xen::ApStage::entered);
    CHECK(hs.stage == 1);
}
