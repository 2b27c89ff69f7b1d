// The object model (docs/object-model.md): one Domain, one VcpuSlot per
// vCPU, one set of kernel hooks, and one key - Xen's vcpu_id - everywhere.
#include <xen/domain.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include <xen/smp.hpp>
#include <xen/time/timer_driver.hpp>

#include "smp_rig.hpp"

using namespace xen;
using smp_test::Rig;

// --- one key, by type ---------------------------------------------------------

// A kernel's own CPU number (an integer) cannot be handed to the library
// where it wants a vCPU: no call of the per-vCPU API takes an integer, and
// nothing converts one into a VcpuId implicitly.
static_assert(!std::is_convertible_v<uint32_t, VcpuId>);
static_assert(!std::is_convertible_v<int, VcpuId>);
static_assert(!std::is_invocable_v<decltype(&Smp::prepare), Smp&, uint32_t>);
static_assert(!std::is_invocable_v<decltype(&Smp::online), Smp&, uint32_t, const WaitBound&>);
static_assert(!std::is_invocable_v<decltype(&Smp::state), const Smp&, uint32_t>);
static_assert(!std::is_invocable_v<decltype(&TimerDriver::start), TimerDriver&, uint32_t>);
static_assert(!std::is_invocable_v<decltype(&EventChannels::bind_ipi), EventChannels&, uint32_t, EventHandler, void*>);

// The domain classes construct as constants: a kernel puts them in .bss
// with no constructor to run and no placement new.
constinit Domain bss_domain;
constinit Smp bss_smp;
constinit TimerDriver bss_timers;
constinit DomainStorage<4, 8> bss_storage;

TEST_CASE("Domain: a constant-initialised domain in static storage initialises once")
{
    sim::Hypervisor hv{sim::Config{.vcpus = 1}};
    sim::Scope scope(hv);
    DomainConfig dc;
    dc.shared = &hv.shared_info();
    dc.hooks.current = [](void*) noexcept { return sim::current_vcpu(); };
    REQUIRE(bss_domain.init(dc, bss_storage));
    CHECK(bss_domain.init(dc, bss_storage).error() == Errc::invalid_argument);
    CHECK(bss_domain.vcpu_count() == 4);
    CHECK(bss_domain.discover().value() == 1);
    CHECK(bss_domain.managed() == 1);
    CHECK(bss_domain.find(VcpuId{1}) == nullptr);
    CHECK(bss_domain.vcpu_info(VcpuId{0}) == &hv.shared_info().vcpu_info[0]);
}

TEST_CASE("Domain: init refuses a configuration without shared_info, the current hook or storage")
{
    sim::Hypervisor hv{sim::Config{}};
    sim::Scope scope(hv);
    auto storage = std::make_unique<DomainStorage<2, 8>>();
    DomainConfig dc;
    dc.hooks.current = [](void*) noexcept { return sim::current_vcpu(); };
    Domain a;
    CHECK(a.init(dc, *storage).error() == Errc::invalid_argument); // no shared_info
    dc.shared = &hv.shared_info();
    dc.hooks.current = nullptr;
    Domain b;
    CHECK(b.init(dc, *storage).error() == Errc::invalid_argument); // no current hook
    dc.hooks.current = [](void*) noexcept { return sim::current_vcpu(); };
    Domain c;
    CHECK(c.init(dc, nullptr, 0, storage->ports, 8).error() == Errc::invalid_argument);
    CHECK(hv.total_calls() == 0);
}

TEST_CASE("Domain: a vCPU beyond the slots is vcpu_out_of_range for every per-vCPU part; Xen's range for raw ops")
{
    sim::Config c;
    c.vcpus = 6;
    Rig rig(c, 4); // slots for 4 of the 6 vCPUs
    REQUIRE(rig.discover().value() == 6);
    CHECK(rig.domain->managed() == 4);
    CHECK(rig.domain->slot(VcpuId{4}).error() == Errc::vcpu_out_of_range);
    CHECK(rig.smp->prepare(VcpuId{4}).error() == Errc::vcpu_out_of_range);
    CHECK(rig.domain->is_up(VcpuId{5}).has_value()); // a vCPU of the domain, without a slot
    CHECK(rig.domain->is_up(VcpuId{6}).error() == Errc::vcpu_out_of_range);
}

TEST_CASE("Domain: place_vcpu_info registers the slot's area once and moves the clock onto it")
{
    Rig rig(sim::Config{.vcpus = 2});
    REQUIRE(rig.discover());
    VcpuSlot& s1 = rig.slots[1];
    CHECK(s1.clock.record == &rig.hv.shared_info().vcpu_info[1].time);
    REQUIRE(rig.domain->place_vcpu_info(VcpuId{1}));
    CHECK(s1.vcpu_info_registered);
    CHECK(rig.domain->vcpu_info(VcpuId{1}) == s1.vcpu_info.get());
    CHECK(s1.clock.record == &s1.vcpu_info.get()->time);
    REQUIRE(rig.domain->place_vcpu_info(VcpuId{1})); // again: no second op 10
    CHECK(rig.hv.calls(abi::vcpuop::register_vcpu_info) == 1);
}

TEST_CASE("Domain: the log hook hears which AP did not come online, and why")
{
    Rig rig(sim::Config{.vcpus = 3});
    REQUIRE(rig.discover());
    rig.aps[2].silent = true; // never checks in
    const BringUpReport report = rig.smp->bring_up(BringUpMode::parallel, Rig::within(50'000'000));
    CHECK(report.failed == 1);
    REQUIRE(rig.logged.size() == 1);
    CHECK(rig.logged[0] == "xenvcpu: bring-up: vCPU 2: timed_out");
}

// --- a kernel that numbers its CPUs its own way ------------------------------

namespace {

// The kernel's own numbering, a distinct type: its CPU k is vCPU n-1-k
// (the boot vCPU is its last CPU). The library never sees it.
struct KernelCpu {
    uint32_t value;
};

struct Kernel {
    uint32_t n;
    VcpuId vcpu_of(KernelCpu c) const { return VcpuId{n - 1 - c.value}; }
};

struct Probe {
    explicit Probe(std::vector<uint32_t>& ran) : ran(&ran), timer(&Probe::fire, this) {}
    static void fire(Timer&, VcpuId self, uint64_t, void* ctx) noexcept
    {
        static_cast<Probe*>(ctx)->ran->push_back(self.value);
    }
    std::vector<uint32_t>* ran;
    Timer timer;
};

} // namespace

TEST_CASE("object model: a kernel with its own CPU numbering brings up, hotplugs and runs timers by vcpu_id")
{
    constexpr uint32_t n = 4;
    Rig rig(sim::Config{.vcpus = n});
    const Kernel kernel{n};
    REQUIRE(rig.discover().value() == n);
    const BringUpReport report = rig.smp->bring_up(BringUpMode::parallel, Rig::within(1'000'000'000));
    REQUIRE(report.online == n);

    TimerDriver timers;
    REQUIRE(timers.init(*rig.domain));
    // Each kernel CPU arms one timer on its own vCPU, 1 ms apart.
    std::vector<uint32_t> ran;
    std::vector<std::unique_ptr<Probe>> probes;
    const uint64_t t0 = rig.hv.now();
    for (uint32_t k = 0; k < n; ++k) {
        const VcpuId v = kernel.vcpu_of(KernelCpu{k});
        sim::set_current_vcpu(v);
        REQUIRE(timers.bind(v));
        REQUIRE(timers.start(v));
        probes.push_back(std::make_unique<Probe>(ran));
        REQUIRE(timers.arm(v, probes.back()->timer, t0 + (k + 1) * 1'000'000));
    }
    sim::set_current_vcpu(boot_vcpu);

    // Kernel CPU 1 (vCPU 2) goes offline with its timer armed: it stops its
    // single-shot timer first, and the boot vCPU adopts what it had.
    const VcpuId leaving = kernel.vcpu_of(KernelCpu{1});
    sim::set_current_vcpu(leaving);
    REQUIRE(timers.stop(leaving));
    sim::set_current_vcpu(boot_vcpu);
    REQUIRE(rig.smp->offline(leaving, Rig::within(1'000'000'000)));
    CHECK(rig.smp->state(leaving) == CpuState::parked);
    CHECK(timers.adopt(boot_vcpu, leaving).value() == 1);

    // Time passes; every vCPU that is up takes its upcalls.
    rig.simulate = false;
    rig.hv.advance(10'000'000);
    for (uint32_t id = 0; id < n; ++id) {
        const VcpuId v{id};
        if (rig.smp->state(v) != CpuState::online)
            continue;
        sim::set_current_vcpu(v);
        (void)rig.events().dispatch(v, *rig.domain->vcpu_info(v));
    }
    sim::set_current_vcpu(boot_vcpu);
    // Each timer ran once, on the vCPU that held it: the adopted one on vCPU 0.
    std::vector<uint32_t> sorted = ran;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<uint32_t>{0, 0, 1, 3});

    // And back online.
    rig.simulate = true;
    REQUIRE(rig.smp->online(leaving, Rig::within(1'000'000'000)));
    CHECK(rig.smp->online_count() == n);
    for (uint32_t id = 0; id < n; ++id)
        CHECK(rig.domain->find(VcpuId{id})->smp.vcpu == VcpuId{id});
}
