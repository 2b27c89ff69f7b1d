/// \file
/// Consistent copies of a vcpu_runstate_info that Xen may be rewriting.
///
/// Xen rewrites a registered runstate area at every context switch of its
/// vCPU (docs/xen-contracts.md, "Runstate area updates"). With the
/// XEN_RUNSTATE_UPDATE protocol (a physical
/// area, op 14, always; a virtual one, op 5, after
/// VMASST_TYPE_runstate_update_flag, Xen 4.8+) Xen sets bit 63 of
/// state_entry_time, writes the body, then clears the bit: a reader retries
/// while the bit is set or state_entry_time changed across its copy, and may
/// read any vCPU's area. Without it only the owning vCPU may read its area
/// (Xen writes it only while that vCPU is off its pCPU; the changed
/// state_entry_time still tells the owner it was switched out mid-copy).
#pragma once

#include <cstdint>
#include <xen/abi/vcpu.hpp>
#include <xen/support/result.hpp>
#include <xen/support/seqlock.hpp>

namespace xen {

/// Copy `area` consistently: read state_entry_time, copy, re-read; an
/// attempt fails while XEN_RUNSTATE_UPDATE is set or when the entry time
/// changed. The copy has the flag clear. Errors: busy_retry after
/// `max_attempts` failed attempts (the flag stuck set, or a writer that
/// never stops).
inline Result<abi::vcpu_runstate_info> runstate_read(const volatile abi::vcpu_runstate_info& area,
                                                     uint32_t max_attempts = seqlock_max_attempts) noexcept
{
    return seqlock_read<abi::vcpu_runstate_info>(max_attempts, [&](abi::vcpu_runstate_info& copy) {
        const uint64_t e1 = __atomic_load_n(&area.state_entry_time, __ATOMIC_ACQUIRE);
        if ((e1 & abi::runstate_update_flag) != 0)
            return false; // Xen is mid-update
        copy.state = __atomic_load_n(&area.state, __ATOMIC_ACQUIRE);
        copy.pad0 = 0;
        for (int i = 0; i < 4; ++i)
            copy.time[i] = __atomic_load_n(&area.time[i], __ATOMIC_ACQUIRE);
        copy.state_entry_time = e1;
        // Acquire loads: none moves above the one before, so this re-read
        // comes after the body. An update that started and finished in
        // between changed state_entry_time (every update writes a new one).
        return __atomic_load_n(&area.state_entry_time, __ATOMIC_ACQUIRE) == e1;
    });
}

/// The live view of a snapshot at system time `now_ns`: the time since
/// state_entry_time added to the current state's total, as
/// VCPUOP_get_runstate_info reports it. A `now_ns` before the entry time
/// adds nothing. Pure.
constexpr abi::vcpu_runstate_info runstate_live(abi::vcpu_runstate_info s, uint64_t now_ns) noexcept
{
    const uint64_t entry = s.state_entry_time & ~abi::runstate_update_flag;
    if (s.state >= 0 && s.state < 4 && now_ns > entry)
        s.time[s.state] += now_ns - entry;
    return s;
}

/// Sum of the four totals: Xen guarantees it does not drift from system
/// time (public vcpu.h), so it is the elapsed time the totals cover.
constexpr uint64_t runstate_total(const abi::vcpu_runstate_info& s) noexcept
{
    return s.time[0] + s.time[1] + s.time[2] + s.time[3];
}

} // namespace xen
