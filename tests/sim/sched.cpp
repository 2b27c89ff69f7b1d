// sched_op (hypercall 29) and set_timer_op (15), sched/core.c:
// - yield: running -> runnable -> running, no time passes;
// - block: clears the upcall mask; returns at once if an event is pending,
//   else the vCPU is blocked while virtual time runs to its next wake-up
//   (at most block_limit_ns);
// - poll: blocked until a listed port is pending, an event is marked for
//   the vCPU, or the timeout (absolute; 0 = none), at most block_limit_ns;
// - shutdown: records the reason; a suspend plays save and restore or a
//   cancelled suspend at once (lifecycle.cpp);
// - set_timer_op: the single-shot timer of VCPUOP 8; 0 stops it; a negative
//   timeout or one more than 2^50 ns ahead becomes now + 100 ms; never fails.
#include <algorithm>

#include "state.hpp"

namespace xen::sim {

long Hypervisor::sched_op(VcpuId caller, int32_t cmd, uint64_t arg, uint64_t arg2)
{
    auto* v = find(caller.value);
    if (v == nullptr)
        return fail(Errc::enoent);
    switch (static_cast<abi::schedop>(cmd)) {
    case abi::schedop::yield:
        if (v->rs.state == static_cast<int32_t>(abi::runstate::running)) {
            change_runstate(*v, abi::runstate::runnable);
            change_runstate(*v, abi::runstate::running);
        }
        return 0;
    case abi::schedop::block: return block(*v);
    case abi::schedop::poll: return poll(*v, arg);
    case abi::schedop::shutdown: {
        abi::sched_shutdown s{};
        if (!copy_from_guest(s, arg))
            return fail(Errc::efault);
        shutdown_ = static_cast<abi::shutdown_reason>(s.reason);
        if (s.reason == static_cast<uint32_t>(abi::shutdown_reason::suspend))
            return suspend(arg2);
        return 0;
    }
    case abi::schedop::shutdown_code: {
        abi::sched_shutdown s{};
        return copy_from_guest(s, arg) ? 0 : fail(Errc::efault);
    }
    default: return fail(Errc::enosys);
    }
}

long Hypervisor::block(VcpuState& v)
{
    // local_event_delivery_enable(), then local_events_need_delivery().
    auto& vi = info_of(v);
    put(vi.evtchn_upcall_mask, uint8_t{0});
    if (__atomic_load_n(&vi.evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0)
        return 0;
    const auto before = static_cast<abi::runstate>(v.rs.state);
    change_runstate(v, abi::runstate::blocked);
    const uint64_t kicks = v.kicks;
    run_until(now_ + cfg_.block_limit_ns, [&] { return v.kicks != kicks; });
    change_runstate(v, before == abi::runstate::blocked ? abi::runstate::running : before);
    return 0;
}

long Hypervisor::poll(VcpuState& v, uint64_t arg)
{
    abi::sched_poll p{};
    if (!copy_from_guest(p, arg))
        return fail(Errc::efault);
    if (p.nr_ports > 128)
        return fail(Errc::einval);
    if (p.nr_ports != 0 && p.ports == 0)
        return fail(Errc::efault);
    const auto* ports = guest_ptr<const abi::evtchn_port>(p.ports);
    for (uint32_t i = 0; i < p.nr_ports; ++i)
        if (ports[i] >= abi::evtchn_2l_nr_ports)
            return fail(Errc::einval);
    auto any_pending = [&] {
        for (uint32_t i = 0; i < p.nr_ports; ++i)
            if (__atomic_load_n(&shared_->evtchn_pending[ports[i] / 64], __ATOMIC_SEQ_CST) &
                (uint64_t{1} << (ports[i] % 64)))
                return true;
        return false;
    };
    if (any_pending() || (p.timeout != 0 && p.timeout <= now_))
        return 0;
    const uint64_t limit = p.timeout != 0 ? std::min(p.timeout, now_ + cfg_.block_limit_ns)
                                          : now_ + cfg_.block_limit_ns;
    const auto before = static_cast<abi::runstate>(v.rs.state);
    change_runstate(v, abi::runstate::blocked);
    const uint64_t kicks = v.kicks;
    run_until(limit, [&] { return any_pending() || v.kicks != kicks; });
    change_runstate(v, before == abi::runstate::blocked ? abi::runstate::running : before);
    return 0;
}

long Hypervisor::set_timer_op(VcpuId caller, uint64_t timeout)
{
    auto* v = find(caller.value);
    if (v == nullptr)
        return fail(Errc::enoent);
    if (timeout == 0) {
        v->singleshot.reset();
        return 0;
    }
    const auto t = static_cast<int64_t>(timeout);
    const int64_t offset = t - static_cast<int64_t>(now_);
    if (t < 0 || (offset > 0 && (offset >> 50) != 0))
        arm_singleshot(*v, now_ + 100'000'000); // "Warning: huge timeout set"
    else
        arm_singleshot(*v, timeout); // a past deadline fires at once
    return 0;
}

} // namespace xen::sim
