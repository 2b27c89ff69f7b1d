/// \file
/// The bounded retry loop every reader of a record Xen rewrites in place
/// uses: vcpu_time_info under its `version` (public xen.h), shared_info's
/// wall clock under `wc_version`, a runstate area under the
/// XEN_RUNSTATE_UPDATE bit of `state_entry_time` (public vcpu.h). Each
/// reader knows its own protocol and writes one attempt; this loop is the
/// same for all of them, and so is its bound.
#pragma once

#include <cstdint>
#include <xen/arch/x86.hpp>
#include <xen/support/result.hpp>

namespace xen {

/// How many inconsistent reads of one Xen-written record a reader accepts
/// before it gives up with Errc::busy_retry. Xen holds a record mid-update
/// (version odd, XEN_RUNSTATE_UPDATE set) for a few stores, and rewrites a
/// vCPU's own records only while that vCPU is out of guest context, so a
/// reader of its own record retries once at most in practice; a reader of
/// another vCPU's record races the writer for those few stores. A record
/// that stays inconsistent this long has a writer that stopped half-way:
/// the bound turns that into an error instead of a hung vCPU. The one bound
/// for pvclock_sample / pvclock_read, SystemClock::read, runstate_read and
/// wallclock_base.
inline constexpr uint32_t seqlock_max_attempts = 1024;

/// Call `try_read(out)` until it returns true (it made a consistent copy
/// into `out`), at most `max_attempts` times, with a spin-wait hint between
/// attempts, and return that copy. `try_read` is `bool(T&)`: one attempt
/// of the record's own protocol (version or flag before and after the
/// field loads); it may leave `out` half-written when it returns false.
/// Errors: busy_retry once `max_attempts` attempts have failed (at once for
/// a bound of 0). Inlines completely: the loop costs what a hand-written
/// one does.
template <class T, class TryRead>
[[gnu::always_inline]] inline Result<T> seqlock_read(uint32_t max_attempts, TryRead&& try_read) noexcept
{
    for (uint32_t attempt = 0; attempt < max_attempts; ++attempt) {
        T out;
        if (try_read(out))
            return out;
        arch::cpu_relax(); // Xen is mid-update, or was during the copy
    }
    return err(Errc::busy_retry);
}

} // namespace xen
