// The kernel's timer driver (timers.hpp).
#include "timers.hpp"

#include <new>
#include <xen/time/pvclock.hpp>

#include "events.hpp"
#include "smp.hpp"

namespace mk::timers {

namespace {

// Per-CPU driver storage, and the driver itself: it needs the guest type,
// known at run time, so it is constructed in place (no global constructors).
xen::TimerStorage<max_cpus> storage;
alignas(xen::TimerDriver) unsigned char driver_space[sizeof(xen::TimerDriver)];
xen::TimerDriver* driver_ = nullptr;

bool bound[max_cpus];
uint64_t last_ns[max_cpus];

// A timer per CPU that ends idle_until's wait.
struct Limit {
    xen::Timer timer{&Limit::ring, this};
    volatile bool rang = false;
    static void ring(xen::Timer&, xen::VcpuId, uint64_t, void* ctx) noexcept { static_cast<Limit*>(ctx)->rang = true; }
};
alignas(Limit) unsigned char limit_space[sizeof(Limit) * max_cpus];

uint64_t clock_hook(void*, xen::VcpuId self) noexcept { return now(self); }

xen::VcpuId current_hook() noexcept { return smp::this_vcpu(); }

} // namespace

uint64_t now(xen::VcpuId vcpu) noexcept
{
    const uint32_t cpu = vcpu.value; // CPU numbers and vcpu_ids agree (smp.hpp)
    auto t = xen::pvclock_read(smp::vcpu_info_of(cpu).time);
    // A read fails only if Xen left the record mid-update 1024 times in a
    // row: keep the last value rather than report time 0.
    if (t && cpu < max_cpus)
        last_ns[cpu] = t->system_time_ns;
    return t ? t->system_time_ns : (cpu < max_cpus ? last_ns[cpu] : 0);
}

xen::TimerDriver& driver(GuestType guest) noexcept
{
    if (driver_ == nullptr) {
        xen::TimerConfig c;
        c.clock = &clock_hook;
        c.current = &current_hook;
        c.idle = guest == GuestType::pvh ? xen::IdleMethod::sti_hlt : xen::IdleMethod::sched_block;
        driver_ = new (driver_space) xen::TimerDriver(c, storage);
    }
    return *driver_;
}

xen::TimerCpu& cpu_state(uint32_t cpu) noexcept { return storage.cpus[cpu]; }

xen::Result<void> take_over(uint32_t cpu, GuestType guest) noexcept
{
    if (cpu >= max_cpus)
        return xen::err(xen::Errc::vcpu_out_of_range);
    xen::TimerDriver& d = driver(guest);
    const xen::VcpuId v = smp::vcpu_of(cpu);
    events::disable();
    xen::Result<void> r = xen::ok();
    if (!bound[cpu]) {
        auto port = d.bind(events::channels(), v, smp::vcpu_info_of(cpu));
        if (port)
            bound[cpu] = true;
        else
            r = xen::err(port.error());
    }
    if (r)
        r = d.start(v);
    events::enable();
    return r;
}

xen::Result<void> give_back(uint32_t cpu) noexcept
{
    if (driver_ == nullptr || cpu >= max_cpus || !bound[cpu])
        return xen::ok();
    const xen::VcpuId v = smp::vcpu_of(cpu);
    events::disable();
    auto r = driver_->stop(v);
    if (r)
        r = driver_->unbind(v);
    if (r)
        bound[cpu] = false;
    events::enable();
    return r;
}

void idle_once(xen::VcpuId v) noexcept
{
    // idle() wants upcalls held off, so that no event slips in between its
    // check and the sleep; it returns with them on or off, and enable()
    // delivers whatever is pending either way.
    events::disable();
    (void)driver_->idle(v);
    events::enable();
}

bool idle_until(xen::VcpuId v, const volatile bool& flag, uint64_t limit_ns) noexcept
{
    Limit& limit = *new (reinterpret_cast<Limit*>(limit_space) + v.value) Limit;
    events::disable();
    (void)driver_->arm(v, limit.timer, limit_ns);
    events::enable();
    while (!flag && !limit.rang)
        idle_once(v);
    events::disable();
    (void)driver_->cancel(v, limit.timer);
    events::enable();
    return flag;
}

void sleep(xen::VcpuId v, uint64_t ns) noexcept
{
    const bool never = false;
    (void)idle_until(v, never, now(v) + ns);
}

} // namespace mk::timers
