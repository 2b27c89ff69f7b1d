// The hypercall table: counts every call, applies injected faults, then
// hands the call to the area that models it. Hypercalls the simulator does
// not model answer -ENOSYS, as Xen does for a hypercall a guest type lacks.
#include <xen/abi/event_channel.hpp>
#include <xen/abi/multicall.hpp>

#include "state.hpp"

namespace xen::sim {

long Hypervisor::hypercall(VcpuId caller, abi::hypercall nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                           uint64_t /*a5*/) noexcept
{
    Lock l(mu_);
    const auto index = static_cast<uint32_t>(nr);
    if (index < hypercall_calls_.size())
        ++hypercall_calls_[index];
    if (nr == abi::hypercall::vcpu_op) {
        const auto op = static_cast<int32_t>(a1);
        ++vcpuop_calls_[op >= 0 && op < abi::vcpuop_count ? op : abi::vcpuop_count];
    }
    if (auto e = take_fault(nr, a1, a2))
        return fail(*e);
    return dispatch(caller, nr, a1, a2, a3, a4);
}

long Hypervisor::dispatch(VcpuId caller, abi::hypercall nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
    const bool pv = cfg_.guest == GuestType::pv;
    switch (nr) {
    case abi::hypercall::vcpu_op: return vcpu_op(caller, static_cast<int32_t>(a1), static_cast<uint32_t>(a2), a3);
    case abi::hypercall::sched_op: return sched_op(caller, static_cast<int32_t>(a1), a2, a3);
    case abi::hypercall::set_timer_op: return set_timer_op(caller, a1);
    case abi::hypercall::event_channel_op: return evtchn_op(caller, static_cast<int32_t>(a1), a2);
    case abi::hypercall::xen_version: return xen_version_op(static_cast<int32_t>(a1), a2);
    case abi::hypercall::vm_assist: return vm_assist(static_cast<uint32_t>(a1), static_cast<uint32_t>(a2));
    case abi::hypercall::console_io: return console_io(static_cast<int32_t>(a1), a2, a3);
    case abi::hypercall::hvm_op: return hvm_op(a1, a2);
    case abi::hypercall::memory_op: return memory_op(static_cast<uint32_t>(a1), a2);
    case abi::hypercall::multicall:
        // PV always; HVM/PVH from Xen 4.16 (before: not in the HVM table).
        return pv || cfg_.version.at_least(4, 16) ? multicall(caller, a1, static_cast<uint32_t>(a2))
                                                  : fail(Errc::enosys);
    case abi::hypercall::callback_op:
        // Not in the HVM/PVH hypercall table.
        return pv ? callback_op(static_cast<int32_t>(a1), a2) : fail(Errc::enosys);
    case abi::hypercall::set_segment_base:
        // x86-64 PV only: HVM/PVH write the MSRs themselves.
        return pv ? set_segment_base(caller, static_cast<uint32_t>(a1), a2) : fail(Errc::enosys);
    case abi::hypercall::set_trap_table:
    case abi::hypercall::update_va_mapping:
    case abi::hypercall::mmu_update:
    case abi::hypercall::mmuext_op:
        // PV memory management is not modelled: accepted and counted so that
        // bring-up code can run; PVH has no such hypercalls.
        (void)a4;
        return pv ? 0 : fail(Errc::enosys);
    default: return fail(Errc::enosys);
    }
}

// Xen's do_multicall: each entry in order, through the same table (each
// one counted and open to injected faults as a call of its own), its
// return value written to the entry's `result` only. A multicall inside a
// multicall is refused (-EINVAL, "reentry is disallowed").
long Hypervisor::multicall(VcpuId caller, uint64_t list, uint32_t n)
{
    for (uint32_t i = 0; i < n; ++i) {
        const uint64_t at = list + i * sizeof(abi::multicall_entry);
        abi::multicall_entry e{};
        if (!copy_from_guest(e, list == 0 ? 0 : at))
            return fail(Errc::efault);
        const auto nr = static_cast<abi::hypercall>(e.op);
        long rc;
        if (in_multicall_ || nr == abi::hypercall::multicall) {
            rc = fail(Errc::einval);
        } else {
            in_multicall_ = true;
            rc = hypercall(caller, nr, e.args[0], e.args[1], e.args[2], e.args[3], e.args[4]);
            in_multicall_ = false;
        }
        e.result = static_cast<uint64_t>(rc);
        (void)copy_to_guest(at, e);
    }
    return 0;
}

std::optional<Errc> Hypervisor::take_fault(abi::hypercall nr, uint64_t a1, uint64_t a2)
{
    for (auto& f : faults_) {
        const auto& r = f.rule;
        if (r.hypercall != nr)
            continue;
        if (r.subop && *r.subop != static_cast<int32_t>(a1))
            continue;
        if (r.vcpu && (nr != abi::hypercall::vcpu_op || *r.vcpu != static_cast<uint32_t>(a2)))
            continue;
        ++f.seen;
        if (f.seen < r.nth || (r.count != 0 && f.failed >= r.count))
            continue;
        ++f.failed;
        return r.error;
    }
    return std::nullopt;
}

void Hypervisor::inject(const Fault& f)
{
    Lock l(mu_);
    faults_.push_back(FaultState{f});
}

void Hypervisor::clear_faults()
{
    Lock l(mu_);
    faults_.clear();
}

uint32_t Hypervisor::faults_pending() const
{
    Lock l(mu_);
    uint32_t n = 0;
    for (const auto& f : faults_)
        if (f.rule.count == 0 || f.failed < f.rule.count)
            ++n;
    return n;
}

uint64_t Hypervisor::calls(abi::hypercall h) const
{
    Lock l(mu_);
    const auto i = static_cast<uint32_t>(h);
    return i < hypercall_calls_.size() ? hypercall_calls_[i] : 0;
}

uint64_t Hypervisor::calls(abi::vcpuop op) const
{
    Lock l(mu_);
    const auto i = static_cast<int32_t>(op);
    return i >= 0 && i < abi::vcpuop_count ? vcpuop_calls_[i] : 0;
}

uint64_t Hypervisor::total_calls() const
{
    Lock l(mu_);
    uint64_t n = 0;
    for (auto c : hypercall_calls_)
        n += c;
    return n;
}

void Hypervisor::reset_counters()
{
    Lock l(mu_);
    hypercall_calls_.fill(0);
    vcpuop_calls_.fill(0);
}

} // namespace xen::sim
