// The kernel's own view of SMP beyond smp.hpp: the library's controller and
// what the first bring-up did. For the smp and hotplug scenarios.
#pragma once

#include <xen/smp.hpp>

#include "smp.hpp"

namespace mk::smp {

/// What ensure_online did the first time.
struct BringUp {
    bool done = false;
    Mode mode = Mode::parallel;
    xen::BringUpReport report{};
    xen::Errc discover_error{};
};

/// The library's SMP controller (null before the first ensure_online).
xen::Smp* controller() noexcept;

/// The first bring-up's record.
const BringUp& bring_up_record() noexcept;

/// The SMP layer's vcpu_info storage for vCPU `vcpu` (CPU `vcpu`: the boot
/// vCPU is vCPU 0), for a scenario that registers it before bring-up.
xen::Area<xen::abi::vcpu_info>& vcpu_info_storage(uint32_t vcpu) noexcept;
/// That storage is now registered with Xen (op 10 succeeded): bring-up
/// uses it and never registers it again (Xen allows it once per vCPU).
void adopt_vcpu_info(uint32_t vcpu) noexcept;

/// Xen system time (ns) by the calling CPU's own pvclock record.
uint64_t controller_now() noexcept;

/// Top of CPU `cpu`'s IST stack (PVH: NMI and #DF).
char* ist_top(uint32_t cpu) noexcept;

} // namespace mk::smp
