// Runstate accounting (vcpu_runstate_change, sched/core.c) and the guest
// copies of it (update_runstate_area, x86/domain.c), docs/xen-contracts.md,
// "Runstate and steal":
// - on each change time[old] += now - state_entry_time; entry = now;
// - get_runstate_info adds the time since state_entry_time;
// - the registered area is rewritten on every change: the phys area (op 14)
//   always with XEN_RUNSTATE_UPDATE, and while it exists the VA area (op 5)
//   is not written; the VA area uses the flag only after
//   vm_assist(enable, runstate_update_flag).
#include "state.hpp"

namespace xen::sim {

void Hypervisor::change_runstate(VcpuState& v, abi::runstate s)
{
    const auto next = static_cast<int32_t>(s);
    if (v.rs.state == next)
        return;
    if (now_ > v.rs.state_entry_time)
        v.rs.time[v.rs.state] += now_ - v.rs.state_entry_time;
    v.rs.state = next;
    v.rs.state_entry_time = now_;
    write_runstate_area(v);
    if (s == abi::runstate::running) {
        // Scheduled in: Xen refreshes the pvclock and re-arms the periodic timer.
        write_time(v);
        periodic_resume(v);
    }
}

abi::vcpu_runstate_info Hypervisor::runstate_snapshot(const VcpuState& v) const
{
    auto r = v.rs;
    if (now_ > r.state_entry_time)
        r.time[r.state] += now_ - r.state_entry_time;
    return r;
}

RunstateWriter Hypervisor::runstate_writer(const VcpuState& v) const
{
    if (v.runstate_phys != nullptr)
        return RunstateWriter(v.runstate_phys, v.rs, true);
    if (v.runstate_va != nullptr)
        return RunstateWriter(v.runstate_va, v.rs, vm_assist_enabled(abi::vmasst_type::runstate_update_flag));
    return RunstateWriter();
}

void Hypervisor::write_runstate_area(const VcpuState& v) { runstate_writer(v).finish(); }

abi::vcpu_runstate_info Hypervisor::runstate(VcpuId id) const
{
    Lock l(mu_);
    return runstate_snapshot(at(id));
}

void Hypervisor::set_runstate(VcpuId id, abi::runstate s)
{
    Lock l(mu_);
    change_runstate(at(id), s);
}

void Hypervisor::update_runstate_area(VcpuId id)
{
    Lock l(mu_);
    write_runstate_area(at(id));
}

RunstateWriter Hypervisor::begin_runstate_update(VcpuId id)
{
    Lock l(mu_);
    return runstate_writer(at(id));
}

abi::vcpu_runstate_info* Hypervisor::runstate_area_va(VcpuId id) const
{
    Lock l(mu_);
    return at(id).runstate_va;
}

abi::vcpu_runstate_info* Hypervisor::runstate_area_phys(VcpuId id) const
{
    Lock l(mu_);
    return at(id).runstate_phys;
}

bool Hypervisor::vm_assist_enabled(abi::vmasst_type type) const
{
    Lock l(mu_);
    const auto bit = static_cast<uint32_t>(type);
    return bit < 64 && ((vm_assist_ >> bit) & 1u) != 0;
}

void Hypervisor::preempt(VcpuId id, uint64_t ns)
{
    Lock l(mu_);
    auto& v = at(id);
    const auto before = static_cast<abi::runstate>(v.rs.state);
    change_runstate(v, abi::runstate::runnable);
    run_until(now_ + ns);
    change_runstate(v, before == abi::runstate::runnable ? abi::runstate::running : before);
}

void Hypervisor::pause(uint64_t ns)
{
    Lock l(mu_);
    // A paused vCPU that would run counts as offline; blocked dominates.
    std::vector<VcpuState*> paused;
    for (auto& v : vcpus_) {
        const auto s = static_cast<abi::runstate>(v->rs.state);
        if (s == abi::runstate::running || s == abi::runstate::runnable) {
            change_runstate(*v, abi::runstate::offline);
            paused.push_back(v.get());
        }
    }
    run_until(now_ + ns);
    for (auto* v : paused)
        change_runstate(*v, abi::runstate::running);
}

} // namespace xen::sim
