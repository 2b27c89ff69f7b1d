// The kernel's xen::Domain and the hooks it gives the library.
#include "domain.hpp"

#include <xen/hypercall/sched_op.hpp>

#include "console.hpp"
#include "events.hpp"
#include "lifecycle.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "smp_internal.hpp"
#include "timers.hpp"

namespace mk {

namespace {

// Constant-initialised: no constructor runs before the kernel does.
constinit xen::Domain the_domain;
constinit xen::DomainStorage<max_vcpus, max_ports> storage;
bool ready = false;

xen::VcpuId hook_current(void*) noexcept { return smp::this_vcpu(); }

xen::FrameNumber hook_frame_of(void*, const void* p) noexcept { return xen_frame_of(p); }

xen::ApStack hook_ap_stack(void*, xen::VcpuId v) noexcept { return smp::ap_stack(v); }

// A vCPU waiting for another (bring-up, hotplug, a call) serves its own
// calls meanwhile - the boot vCPU runs calls only here: it has no idle loop
// while the tests run - and gives its pCPU away: with more vCPUs than pCPUs
// the vCPU it waits for may need this one's.
void hook_relax(void*) noexcept
{
    smp::serve_while_waiting();
    (void)xen::hc::sched_yield();
}

xen::Result<void> hook_ap_prepare(void*, xen::VcpuId v) noexcept { return smp::prepare_percpu(v); }

// An AP parked for a suspend stops its timers (they stay armed) and starts
// them again when a cancelled suspend brings it back; after a restore its
// entry runs again instead (smp.cpp). Hotplug leaves them alone.
void hook_before_park(void*, xen::VcpuId v) noexcept
{
    if (lifecycle::suspending() && timers::cpu_state(v).started()) {
        events::disable();
        (void)timers::driver().stop(v);
        events::enable();
    }
}

void hook_after_resume(void*, xen::VcpuId v) noexcept
{
    if (lifecycle::suspending() && timers::cpu_state(v).bound())
        (void)timers::take_over(v);
}

// The library's diagnostics, as TAP comments so that they never break the
// stream.
void hook_log(void*, const char* text, size_t len) noexcept
{
    console::write("# ", 2);
    console::write(text, len);
    console::write("\n", 1);
}

} // namespace

void domain_init(xen::abi::shared_info* shared, GuestType type) noexcept
{
    xen::DomainConfig c;
    c.kind = type;
    c.shared = shared;
    c.features = xen::XenFeatures::query().value_or(xen::XenFeatures{});
    c.hooks.current = &hook_current;
    c.hooks.frame_of = &hook_frame_of;
    c.hooks.ap_stack = &hook_ap_stack;
    c.hooks.relax = &hook_relax;
    c.hooks.ap_prepare = &hook_ap_prepare;
    c.hooks.before_park = &hook_before_park;
    c.hooks.after_resume = &hook_after_resume;
    c.hooks.log = &hook_log;
    // now_ns stays null: the domain's own SystemClock is the kernel's clock.
    if (auto r = the_domain.init(c, storage); !r) {
        console::print("Bail out! Domain::init failed: ", xen::errc_name(r.error()), "\n");
        machine_crash();
    }
    the_domain.events().mask_all();
    // How many vCPUs there are, once (VCPUOP_is_up until -ENOENT). If Xen
    // answers something else the count stays at the slots' and bring-up
    // asks again (and reports it).
    (void)the_domain.discover();
    ready = true;
    timers::init(the_domain);
}

bool domain_ready() noexcept { return ready; }

xen::Domain& domain() noexcept { return the_domain; }

uint64_t now_ns() noexcept
{
    if (ready)
        return the_domain.now();
    // Before the domain exists only the boot vCPU runs: its own record.
    const auto t = xen::pvclock_read(smp::this_vcpu_info().time);
    return t ? t->system_time_ns : 0;
}

} // namespace mk
