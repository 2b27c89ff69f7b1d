// Internal helpers of the SMP layer: atomic access to fields other CPUs
// read, and the bounded wait every loop uses.
#pragma once

#include <xen/domain.hpp>
#include <xen/smp.hpp>

namespace xen::smp_detail {

/// A CPU's state as another CPU reads it (one byte: never torn).
inline CpuState load_state(const SmpCpu& c) noexcept
{
    return static_cast<CpuState>(__atomic_load_n(reinterpret_cast<const uint8_t*>(&c.state), __ATOMIC_ACQUIRE));
}

inline void store_state(SmpCpu& c, CpuState s) noexcept
{
    __atomic_store_n(reinterpret_cast<uint8_t*>(&c.state), static_cast<uint8_t>(s), __ATOMIC_RELEASE);
}

/// APs per prepare_batch: as many as one multicall of vcpu_info
/// registrations and one of IPI bindings take.
inline constexpr uint32_t prepare_batch_max = Domain::place_batch < EventChannels::bind_batch
                                                  ? Domain::place_batch
                                                  : EventChannels::bind_batch;

inline uint32_t load(const uint32_t& w) noexcept { return __atomic_load_n(&w, __ATOMIC_ACQUIRE); }
inline void store(uint32_t& w, uint32_t v) noexcept { __atomic_store_n(&w, v, __ATOMIC_RELEASE); }

} // namespace xen::smp_detail

namespace xen {

// Poll `done()` until it returns true, relaxing between polls; give up after
// bound.timeout_ns of Xen system time or bound.max_polls polls, whichever
// comes first. The clock is read once per poll, so a stopped clock still
// ends the wait at max_polls.
template <class Done>
Result<void> Smp::wait_until(const WaitBound& bound, Done done) noexcept
{
    const uint64_t start = now();
    for (uint64_t polls = 0;; ++polls) {
        if (done())
            return ok();
        if (polls >= bound.max_polls || now() - start >= bound.timeout_ns)
            return done() ? ok() : Result<void>(err(Errc::timed_out));
        domain_->relax();
    }
}

} // namespace xen
