// 2-level event channels in the simulator: binding rules, delivery into
// shared_info and vcpu_info, masking, and VIRQ_TIMER coalescing.
#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

using namespace xen;

namespace {
bool pending_bit(const abi::shared_info& s, uint32_t port) { return (s.evtchn_pending[port / 64] >> (port % 64)) & 1u; }
} // namespace

TEST_CASE("sim: bind_virq twice on one vCPU is -EEXIST, on another vCPU a new port")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    auto p0 = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0});
    REQUIRE(p0);
    CHECK(p0->value != 0);
    CHECK(hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0}).error() == Errc::eexist);
    auto p1 = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{1});
    REQUIRE(p1);
    CHECK(p1->value != p0->value);
    CHECK(hv.virq_port(VcpuId{1}, abi::virq::timer) == p1->value);
}

TEST_CASE("sim: bind_virq rules: unknown VIRQ, global VIRQ off vCPU 0, missing vCPU")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    CHECK(hc::evtchn_bind_virq(static_cast<abi::virq>(24), VcpuId{0}).error() == Errc::einval);
    CHECK(hc::evtchn_bind_virq(abi::virq::console, VcpuId{1}).error() == Errc::einval);
    CHECK(hc::evtchn_bind_virq(abi::virq::console, VcpuId{0}));
    CHECK(hc::evtchn_bind_virq(abi::virq::timer, VcpuId{2}).error() == Errc::enoent);
    CHECK(hc::evtchn_bind_ipi(VcpuId{5}).error() == Errc::enoent);
}

TEST_CASE("sim: an IPI sets the pending bit, the selector bit and upcall_pending of its vCPU")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    auto p = hc::evtchn_bind_ipi(VcpuId{1});
    REQUIRE(p);
    REQUIRE(hc::evtchn_send(*p));
    const auto& sh = hv.shared_info();
    CHECK(pending_bit(sh, p->value));
    CHECK(sh.vcpu_info[1].evtchn_pending_sel == (uint64_t{1} << (p->value / 64)));
    CHECK(sh.vcpu_info[1].evtchn_upcall_pending == 1);
    CHECK(sh.vcpu_info[0].evtchn_upcall_pending == 0);
    CHECK(hv.vcpu(VcpuId{1}).kicks == 1);
}

TEST_CASE("sim: a masked port stays pending without an upcall until unmasked through Xen")
{
    sim::Hypervisor hv({.vcpus = 1});
    sim::Scope s(hv);
    auto p = hc::evtchn_bind_ipi(VcpuId{0});
    REQUIRE(p);
    auto& sh = hv.shared_info();
    sh.evtchn_mask[p->value / 64] |= uint64_t{1} << (p->value % 64);
    REQUIRE(hc::evtchn_send(*p));
    CHECK(hv.port_pending(p->value));
    CHECK(sh.vcpu_info[0].evtchn_upcall_pending == 0);
    REQUIRE(hc::evtchn_unmask(*p));
    CHECK_FALSE(hv.port_masked(p->value));
    CHECK(sh.vcpu_info[0].evtchn_upcall_pending == 1);
}

TEST_CASE("sim: VIRQ_TIMER coalesces: two expiries before the guest looks give one pending bit")
{
    sim::Hypervisor hv({.guest = sim::GuestType::pvh, .vcpus = 1});
    sim::Scope s(hv);
    auto p = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0});
    REQUIRE(p);
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, hv.now() + 100));
    hv.advance(200);
    REQUIRE(hc::set_singleshot_timer(VcpuId{0}, hv.now() + 100));
    hv.advance(200);
    CHECK(hv.vcpu(VcpuId{0}).timer_fires == 2);
    CHECK(hv.port_pending(p->value));
    CHECK(hv.vcpu(VcpuId{0}).kicks == 1);
}

TEST_CASE("sim: close frees the port for reuse and unbinds its VIRQ")
{
    sim::Hypervisor hv;
    sim::Scope s(hv);
    auto p = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0});
    REQUIRE(p);
    REQUIRE(hc::evtchn_close(*p));
    CHECK(hv.port_state(p->value) == abi::evtchn_stat::closed);
    CHECK(hc::evtchn_close(*p).error() == Errc::einval);
    auto again = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0});
    REQUIRE(again);
    CHECK(again->value == p->value);
}

TEST_CASE("sim: status reports VIRQ and IPI bindings")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    auto v = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{1});
    auto i = hc::evtchn_bind_ipi(VcpuId{1});
    REQUIRE(v);
    REQUIRE(i);
    auto sv = hc::evtchn_status(*v);
    REQUIRE(sv);
    CHECK(sv->status == static_cast<uint32_t>(abi::evtchn_stat::virq));
    CHECK(sv->vcpu == 1);
    CHECK(sv->u.virq == 0);
    CHECK(hc::evtchn_status(*i)->status == static_cast<uint32_t>(abi::evtchn_stat::ipi));
    CHECK(hc::evtchn_status(hc::Port{4095})->status == static_cast<uint32_t>(abi::evtchn_stat::closed));
    CHECK(hc::evtchn_status(hc::Port{4096}).error() == Errc::einval);
}

TEST_CASE("sim: send on a VIRQ port and bind_vcpu of an IPI or per-vCPU VIRQ port are -EINVAL")
{
    sim::Hypervisor hv({.vcpus = 2});
    sim::Scope s(hv);
    auto v = hc::evtchn_bind_virq(abi::virq::timer, VcpuId{0});
    auto i = hc::evtchn_bind_ipi(VcpuId{0});
    auto g = hc::evtchn_bind_virq(abi::virq::console, VcpuId{0});
    REQUIRE((v && i && g));
    CHECK(hc::evtchn_send(*v).error() == Errc::einval);
    CHECK(hc::evtchn_bind_vcpu(*i, VcpuId{1}).error() == Errc::einval);
    CHECK(hc::evtchn_bind_vcpu(*v, VcpuId{1}).error() == Errc::einval);
    CHECK(hc::evtchn_bind_vcpu(*g, VcpuId{1}));
    CHECK(hc::evtchn_bind_vcpu(*g, VcpuId{2}).error() == Errc::enoent);
    CHECK(hc::evtchn_send(hc::Port{0}).error() == Errc::einval);
}

TEST_CASE("sim: a vCPU >= 32 without its own vcpu_info gets its events in the shared dummy")
{
    sim::Hypervisor hv({.guest = sim::GuestType::pvh, .vcpus = 34});
    sim::Scope s(hv);
    auto p32 = hc::evtchn_bind_ipi(VcpuId{32});
    REQUIRE(p32);
    REQUIRE(hc::evtchn_send(*p32));
    CHECK(&hv.vcpu_info(VcpuId{32}) == &hv.vcpu_info(VcpuId{33}));
    CHECK(hv.vcpu_info(VcpuId{33}).evtchn_upcall_pending == 1);
}
