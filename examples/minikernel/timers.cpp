// The kernel's timer driver (timers.hpp).
#include "timers.hpp"

#include <new>

#include "domain.hpp"
#include "events.hpp"

namespace mk::timers {

namespace {

constinit xen::TimerDriver driver_;

// A timer per vCPU that ends idle_until's wait.
struct Limit {
    xen::Timer timer{&Limit::ring, this};
    volatile bool rang = false;
    static void ring(xen::Timer&, xen::VcpuId, uint64_t, void* ctx) noexcept { static_cast<Limit*>(ctx)->rang = true; }
};
alignas(Limit) unsigned char limit_space[sizeof(Limit) * max_vcpus];

} // namespace

void init(xen::Domain& domain) noexcept { (void)driver_.init(domain); }

xen::TimerDriver& driver() noexcept { return driver_; }

uint64_t now() noexcept { return driver_.now(); }

xen::TimerCpu& cpu_state(xen::VcpuId v) noexcept { return *driver_.cpu(v); }

xen::Result<void> take_over(xen::VcpuId v) noexcept
{
    xen::TimerCpu* c = driver_.cpu(v);
    if (c == nullptr)
        return xen::err(xen::Errc::vcpu_out_of_range);
    events::disable();
    xen::Result<void> r = xen::ok();
    if (!c->bound()) {
        if (auto port = driver_.bind(v); !port)
            r = xen::err(port.error());
    }
    if (r)
        r = driver_.start(v);
    events::enable();
    return r;
}

xen::Result<void> give_back(xen::VcpuId v) noexcept
{
    xen::TimerCpu* c = driver_.cpu(v);
    if (c == nullptr || !c->bound())
        return xen::ok();
    events::disable();
    auto r = driver_.stop(v);
    if (r)
        r = driver_.unbind(v);
    events::enable();
    return r;
}

void idle_once(xen::VcpuId v) noexcept
{
    // idle() wants upcalls held off, so that no event slips in between its
    // check and the sleep; it returns with them on or off, and enable()
    // delivers whatever is pending either way.
    events::disable();
    (void)driver_.idle(v);
    events::enable();
}

bool idle_until(xen::VcpuId v, const volatile bool& flag, uint64_t limit_ns) noexcept
{
    if (v.value >= max_vcpus)
        return flag;
    Limit& limit = *new (reinterpret_cast<Limit*>(limit_space) + v.value) Limit;
    events::disable();
    (void)driver_.arm(v, limit.timer, limit_ns);
    events::enable();
    while (!flag && !limit.rang)
        idle_once(v);
    events::disable();
    (void)driver_.cancel(v, limit.timer);
    events::enable();
    return flag;
}

void sleep(xen::VcpuId v, uint64_t ns) noexcept
{
    const bool never = false;
    (void)idle_until(v, never, now() + ns);
}

} // namespace mk::timers
