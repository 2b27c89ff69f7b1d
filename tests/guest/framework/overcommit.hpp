// How crowded the machine is: the domain's vCPUs against the pCPUs Xen
// runs them on, and the scheduler that shares them out. Tests that need
// every vCPU to run inside a window (steal) size the window from this,
// instead of assuming each vCPU has a pCPU of its own.
//
// Where each figure comes from, best source first:
//   pCPUs      VCPUOP_get_physid (a pinned hardware domain: Xen answers with
//              a valid APIC id for each vCPU number below the pCPU count);
//              else `xen_pcpus=P` on our command line (scripts/boot passes
//              it, to dom0 and to a domU); else unknown, and 1 is assumed
//              (the longest windows: slower, never too short).
//   scheduler  `sched=` on Xen's own command line (XENVER_commandline,
//              hardware domain only); else `xen_sched=S` on ours; else
//              credit2, Xen's default.
//   time slice what the scheduler lets one busy vCPU keep a pCPU while
//              others wait: credit `sched_credit_tslice_ms` (default 30 ms),
//              credit2 10 ms (its longest timer), rtds the default budget
//              4 ms; null none (a vCPU keeps its pCPU until it goes down).
// docs/steal.md ("Under overcommit") says how the steal test uses it.
#pragma once

#include <cstdint>

#include "framework/guest_tests.hpp"

namespace mk::guest_tests {

/// Xen's schedulers, as `sched=` names them.
enum class Sched : uint8_t { credit2, credit, null, rtds };

/// `sched=` spelling of `s`.
const char* sched_name(Sched s) noexcept;

/// The machine as the tests see it (computed once, on vCPU 0).
struct Overcommit {
    uint32_t vcpus = 1;                 ///< the domain's (VCPUOP_is_up count)
    uint32_t pcpus = 1;                 ///< the pCPUs they share
    const char* pcpus_from = "assumed"; ///< where `pcpus` came from
    Sched sched = Sched::credit2;       ///< the scheduler
    const char* sched_from = "assumed"; ///< where `sched` came from
    uint64_t slice_ns = 10'000'000;     ///< longest run a busy vCPU gets while others wait (0: null, unbounded)

    /// vCPUs per pCPU on the busiest pCPU (dom0_vcpus_pin and the scheduler's
    /// balancing both spread vCPU i over pCPU i mod pcpus): ceil(vcpus / pcpus), >= 1.
    uint32_t ratio() const noexcept { return pcpus == 0 ? vcpus : (vcpus + pcpus - 1) / pcpus; }

    /// Wall time after which every vCPU of a fully busy domain has had
    /// `each_ns` of running time under a fair scheduler: ratio() turns of
    /// `each_ns`, plus one slice per vCPU for the granularity in which Xen
    /// hands out the pCPU. With no overcommit, `each_ns`.
    uint64_t window_for(uint64_t each_ns) const noexcept
    {
        const uint64_t r = ratio();
        return r <= 1 ? each_ns : r * (each_ns + slice_ns);
    }
};

/// What this domain runs on; the first call works it out (vCPU 0, after
/// the runner counted the vCPUs) and every later call returns the same.
const Overcommit& overcommit(const Context& context, uint32_t vcpus) noexcept;

} // namespace mk::guest_tests
