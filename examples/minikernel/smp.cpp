// The minikernel's SMP API (smp.hpp). First step: the boot vCPU only, so
// that scenarios can be written against the API now; AP bring-up follows.
#include "smp.hpp"

#include "events.hpp"

namespace mk::smp {

uint32_t this_cpu() noexcept { return 0; }

xen::VcpuId this_vcpu() noexcept { return xen::VcpuId{0}; }

xen::abi::vcpu_info& this_vcpu_info() noexcept { return events::shared_info()->vcpu_info[0]; }

uint32_t cpu_count() noexcept { return 1; }

xen::VcpuId vcpu_of(uint32_t cpu) noexcept { return xen::VcpuId{cpu}; }

xen::abi::vcpu_info& vcpu_info_of(uint32_t cpu) noexcept { return events::shared_info()->vcpu_info[cpu]; }

bool is_online(uint32_t cpu) noexcept { return cpu == 0; }

uint32_t online_count() noexcept { return 1; }

xen::Result<uint32_t> ensure_online(Mode) noexcept { return xen::err(xen::Errc::unsupported); }

xen::Result<void> run_on(uint32_t cpu, CallFn fn, void* arg, uint64_t) noexcept
{
    if (cpu >= cpu_count())
        return xen::err(xen::Errc::vcpu_out_of_range);
    fn(arg);
    return xen::ok();
}

} // namespace mk::smp
