// TimerDriver under threads: vCPUs bind and unbind their VIRQ_TIMER while
// another vCPU self-injects its timer event. The driver once kept the event
// channels in a field that every bind() wrote and every self-injection
// read, with no synchronisation between vCPUs: ThreadSanitizer reported the
// race. It now reaches them through the Domain, set once before any vCPU
// runs, so binding touches only the binding vCPU's own slot.
#include <xen/time/timer_driver.hpp>

#include <catch2/catch.hpp>
#include <sim/hypervisor.hpp>
#include <support/pace.hpp>

#include <atomic>
#include <memory>
#include <thread>

#include <xen/domain.hpp>

using namespace xen;

TEST_CASE("TimerDriver: binding VIRQ_TIMER on one vCPU races with nothing another vCPU's driver reads", "[tsan]")
{
    sim::Hypervisor hv({.version = sim::xen_4_20, .vcpus = 3, .initially_up = 3});
    auto storage = std::make_unique<DomainStorage<3, 64>>();
    Domain domain;
    TimerDriver drv;
    {
        sim::Scope scope(hv, VcpuId{0});
        DomainConfig dc;
        dc.shared = &hv.shared_info();
        dc.hooks.ctx = &hv;
        dc.hooks.current = [](void*) noexcept { return sim::current_vcpu(); };
        dc.hooks.now_ns = [](void* ctx) noexcept { return static_cast<sim::Hypervisor*>(ctx)->now(); };
        REQUIRE(domain.init(dc, *storage));
        domain.events().mask_all();
        REQUIRE(drv.init(domain));
        REQUIRE(drv.bind(VcpuId{0}));
        REQUIRE(drv.start(VcpuId{0}));
    }

    // The binders run until vCPU 0 has done its rounds (and at least as many
    // of their own), and vCPU 0 starts only once both have bound and unbound
    // once: every round of vCPU 0 then falls among the binders' rounds, with
    // nothing ordering them, however the host schedules the three threads.
    constexpr int rounds = 2000;
    std::atomic<int> fired{0};
    std::atomic<int> binders_started{0};
    std::atomic<bool> vcpu0_done{false};
    std::atomic<int> failures{0}; // Catch2's assertions are for the main thread only
    auto binder = [&](uint32_t id) {
        sim::Scope scope(hv, VcpuId{id});
        for (int i = 0; i < rounds || !vcpu0_done.load(); ++i) {
            if (!drv.bind(VcpuId{id}) || !drv.unbind(VcpuId{id}))
                ++failures;
            if (i == 0)
                ++binders_started;
        }
    };
    std::thread b1(binder, 1u), b2(binder, 2u);
    {
        // vCPU 0: a timer that is already due, then idle: the driver sees it
        // overdue and self-injects its event instead of sleeping.
        sim::Scope scope(hv, VcpuId{0});
        Timer t([](Timer&, VcpuId, uint64_t, void* ctx) noexcept { ++*static_cast<std::atomic<int>*>(ctx); }, &fired);
        xen::test::wait_until([&] { return binders_started.load() == 2; });
        for (int i = 0; i < rounds; ++i) {
            if (!drv.arm(VcpuId{0}, t, 0) || !drv.idle(VcpuId{0}))
                ++failures; // counted: the binders stop only once vcpu0_done is set
            (void)domain.events().dispatch(VcpuId{0}, *domain.vcpu_info(VcpuId{0}));
        }
        vcpu0_done.store(true);
    }
    b1.join();
    b2.join();
    CHECK(failures.load() == 0);
    CHECK(fired.load() == rounds);
}
