// The ABI conformance test's report. Everything was proven by static_asserts
// when the other translation units compiled; this prints what was checked,
// against which headers, so the log shows the coverage.
#include <cstdio>

#include "check.hpp"

#ifndef ABI_XEN_HEADERS
#error "the build names the Xen header set (ABI_XEN_HEADERS)"
#endif

abi_check::AreaCount abi_area_hypercall();
abi_check::AreaCount abi_area_vcpu();
abi_check::AreaCount abi_area_shared_info();
abi_check::AreaCount abi_area_start_info();
abi_check::AreaCount abi_area_guest_context();
abi_check::AreaCount abi_area_hvm_context();
abi_check::AreaCount abi_area_event_channel();
abi_check::AreaCount abi_area_sched();
abi_check::AreaCount abi_area_version();
abi_check::AreaCount abi_area_platform();
abi_check::AreaCount abi_area_elfnote();
abi_check::AreaCount abi_area_cpuid();
abi_check::AreaCount abi_area_errc();
abi_check::AreaCount abi_area_rings();
int abi_errc_xen_values();
unsigned abi_xen_interface_version();

int main()
{
    const abi_check::AreaCount areas[] = {
        abi_area_hypercall(),     abi_area_vcpu(),        abi_area_shared_info(),   abi_area_start_info(),
        abi_area_guest_context(), abi_area_hvm_context(), abi_area_event_channel(), abi_area_sched(),
        abi_area_version(),       abi_area_platform(),    abi_area_elfnote(),       abi_area_cpuid(),
        abi_area_errc(),          abi_area_rings(),
    };
    int total = 0;
    for (const auto& a : areas) {
        std::printf("  %-14s %4d items\n", a.name, a.items);
        total += a.items;
    }
    std::printf("  (Errc names %d of Xen's errno values)\n", abi_errc_xen_values());
    std::printf("abi conformance: %d items checked against %s headers (interface 0x%08x)\n", total, ABI_XEN_HEADERS,
                abi_xen_interface_version());
    return 0;
}
