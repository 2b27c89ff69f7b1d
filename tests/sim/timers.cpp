// The virtual clock and the two per-vCPU timers (docs/xen-contracts.md, "Timers"):
// - the single-shot timer (VCPUOP 8/9 and set_timer_op share it) fires
//   whatever the vCPU is doing and wakes it if blocked;
// - the periodic timer runs only while the vCPU runs (it is stopped at
//   deschedule), fires when now >= last + period and then counts from now.
// Both raise VIRQ_TIMER, which is one pending bit: expiries coalesce.
// Timers fire `timer_slop_ns` late, never early.
#include <limits>

#include "state.hpp"

namespace xen::sim {

uint64_t Hypervisor::now() const
{
    Lock l(mu_);
    return now_;
}

void Hypervisor::advance(uint64_t ns)
{
    Lock l(mu_);
    run_until(now_ + ns);
}

void Hypervisor::advance_to(uint64_t t)
{
    Lock l(mu_);
    run_until(t);
}

void Hypervisor::timer_fire(VcpuState& v)
{
    ++v.timer_fires;
    send_virq(v, abi::virq::timer);
}

void Hypervisor::arm_singleshot(VcpuState& v, uint64_t deadline)
{
    v.singleshot = deadline;
    if (deadline + cfg_.timer_slop_ns <= now_) {
        v.singleshot.reset();
        timer_fire(v);
    }
}

std::optional<uint64_t> Hypervisor::next_timer(const VcpuState& v) const
{
    std::optional<uint64_t> t;
    if (v.singleshot)
        t = *v.singleshot + cfg_.timer_slop_ns;
    if (v.periodic_period != 0 && v.rs.state == static_cast<int32_t>(abi::runstate::running)) {
        const uint64_t p = v.periodic_last + v.periodic_period + cfg_.timer_slop_ns;
        if (!t || p < *t)
            t = p;
    }
    return t;
}

void Hypervisor::periodic_resume(VcpuState& v)
{
    if (v.periodic_period != 0 && now_ >= v.periodic_last + v.periodic_period) {
        v.periodic_last = now_;
        timer_fire(v);
    }
}

bool Hypervisor::run_until(uint64_t t, const std::function<bool()>& stop)
{
    for (;;) {
        VcpuState* who = nullptr;
        uint64_t when = std::numeric_limits<uint64_t>::max();
        for (auto& v : vcpus_) {
            if (auto n = next_timer(*v); n && *n <= t && *n < when) {
                when = *n;
                who = v.get();
            }
        }
        if (who == nullptr)
            break;
        if (when > now_)
            now_ = when;
        if (who->singleshot && *who->singleshot + cfg_.timer_slop_ns == when) {
            who->singleshot.reset();
        } else {
            who->periodic_last = now_;
        }
        timer_fire(*who);
        if (stop && stop())
            return true;
    }
    if (t > now_)
        now_ = t;
    return false;
}

} // namespace xen::sim
