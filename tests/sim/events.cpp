// 2-level event channels (common/event_channel.c, event_2l.c): ports are
// bits in shared_info's evtchn_pending/evtchn_mask; a newly pending,
// unmasked port sets its word's bit in the notify vCPU's evtchn_pending_sel
// and, on a 0 -> 1 change, evtchn_upcall_pending (which kicks a blocked vCPU).
// A pending bit already set is not set again: events coalesce.
#include "state.hpp"

namespace xen::sim {

namespace {

// Per-vCPU VIRQs (xen.h "V."): bound on any vCPU. Others are global and bind on vCPU 0.
bool virq_is_global(uint32_t virq) noexcept
{
    switch (static_cast<abi::virq>(virq)) {
    case abi::virq::timer:
    case abi::virq::debug:
    case abi::virq::xenoprof:
    case abi::virq::xenpmu: return false;
    default: return true;
    }
}

constexpr uint64_t bit_of(uint32_t port) noexcept { return uint64_t{1} << (port % 64); }

bool valid_port(uint32_t port) noexcept { return port != 0 && port < abi::evtchn_2l_nr_ports; }

} // namespace

abi::vcpu_info& Hypervisor::info_of(VcpuState& v)
{
    if (v.registered_info != nullptr)
        return *v.registered_info;
    if (v.id < abi::legacy_max_vcpus)
        return shared_->vcpu_info[v.id];
    return dummy_info_; // vCPUs >= 32 without their own vcpu_info share one
}

long Hypervisor::alloc_port()
{
    for (uint32_t p = 1; p < ports_.size(); ++p)
        if (ports_[p].state == abi::evtchn_stat::closed)
            return p;
    return fail(Errc::enospc);
}

void Hypervisor::mark_events_pending(VcpuState& v)
{
    auto& vi = info_of(v);
    if (__atomic_exchange_n(&vi.evtchn_upcall_pending, uint8_t{1}, __ATOMIC_SEQ_CST) == 0)
        ++v.kicks;
}

void Hypervisor::set_pending(uint32_t port)
{
    auto& p = ports_[port];
    auto* v = find(p.vcpu);
    const uint32_t word = port / 64;
    if (__atomic_fetch_or(&shared_->evtchn_pending[word], bit_of(port), __ATOMIC_SEQ_CST) & bit_of(port))
        return;
    if (v == nullptr || (__atomic_load_n(&shared_->evtchn_mask[word], __ATOMIC_SEQ_CST) & bit_of(port)))
        return;
    auto& vi = info_of(*v);
    if ((__atomic_fetch_or(&vi.evtchn_pending_sel, uint64_t{1} << word, __ATOMIC_SEQ_CST) & (uint64_t{1} << word)) == 0)
        mark_events_pending(*v);
}

void Hypervisor::send_virq(VcpuState& v, abi::virq virq)
{
    const auto i = static_cast<uint32_t>(virq);
    if (i < nr_virqs && v.virq_to_port[i] != 0)
        set_pending(v.virq_to_port[i]);
}

long Hypervisor::evtchn_op(VcpuId /*caller*/, int32_t cmd, uint64_t arg)
{
    switch (static_cast<abi::evtchnop>(cmd)) {
    case abi::evtchnop::bind_virq: {
        abi::evtchn_bind_virq b{};
        if (!copy_from_guest(b, arg))
            return fail(Errc::efault);
        if (b.virq >= nr_virqs)
            return fail(Errc::einval);
        if (virq_is_global(b.virq) && b.vcpu != 0)
            return fail(Errc::einval);
        auto* v = find(b.vcpu);
        if (v == nullptr)
            return fail(Errc::enoent);
        if (v->virq_to_port[b.virq] != 0)
            return fail(Errc::eexist);
        const long port = alloc_port();
        if (port < 0)
            return port;
        ports_[port] = PortState{abi::evtchn_stat::virq, b.vcpu, b.virq, 0};
        v->virq_to_port[b.virq] = static_cast<uint32_t>(port);
        b.port = static_cast<uint32_t>(port);
        return copy_to_guest(arg, b) ? 0 : fail(Errc::efault);
    }
    case abi::evtchnop::bind_ipi: {
        abi::evtchn_bind_ipi b{};
        if (!copy_from_guest(b, arg))
            return fail(Errc::efault);
        if (find(b.vcpu) == nullptr)
            return fail(Errc::enoent);
        const long port = alloc_port();
        if (port < 0)
            return port;
        ports_[port] = PortState{abi::evtchn_stat::ipi, b.vcpu, 0, 0};
        b.port = static_cast<uint32_t>(port);
        return copy_to_guest(arg, b) ? 0 : fail(Errc::efault);
    }
    case abi::evtchnop::alloc_unbound: {
        abi::evtchn_alloc_unbound a{};
        if (!copy_from_guest(a, arg))
            return fail(Errc::efault);
        if (a.dom != abi::domid_self)
            return fail(Errc::esrch);
        const long port = alloc_port();
        if (port < 0)
            return port;
        ports_[port] = PortState{abi::evtchn_stat::unbound, 0, 0, a.remote_dom};
        a.port = static_cast<uint32_t>(port);
        return copy_to_guest(arg, a) ? 0 : fail(Errc::efault);
    }
    case abi::evtchnop::close: {
        abi::evtchn_close c{};
        if (!copy_from_guest(c, arg))
            return fail(Errc::efault);
        if (!valid_port(c.port) || ports_[c.port].state == abi::evtchn_stat::closed)
            return fail(Errc::einval);
        auto& p = ports_[c.port];
        if (p.state == abi::evtchn_stat::virq)
            if (auto* v = find(p.vcpu))
                v->virq_to_port[p.virq] = 0;
        p = PortState{};
        __atomic_fetch_and(&shared_->evtchn_pending[c.port / 64], ~bit_of(c.port), __ATOMIC_SEQ_CST);
        return 0;
    }
    case abi::evtchnop::send: {
        abi::evtchn_send s{};
        if (!copy_from_guest(s, arg))
            return fail(Errc::efault);
        if (!valid_port(s.port))
            return fail(Errc::einval);
        switch (ports_[s.port].state) {
        case abi::evtchn_stat::ipi: set_pending(s.port); return 0;
        case abi::evtchn_stat::unbound: return 0; // no one is listening yet: dropped silently
        default: return fail(Errc::einval);       // a VIRQ port cannot be sent on
        }
    }
    case abi::evtchnop::status: {
        abi::evtchn_status st{};
        if (!copy_from_guest(st, arg))
            return fail(Errc::efault);
        if (st.dom != abi::domid_self)
            return fail(Errc::esrch);
        if (st.port >= abi::evtchn_2l_nr_ports)
            return fail(Errc::einval);
        const auto& p = ports_[st.port];
        st.status = static_cast<uint32_t>(p.state);
        st.vcpu = p.vcpu;
        if (p.state == abi::evtchn_stat::virq)
            st.u.virq = p.virq;
        else if (p.state == abi::evtchn_stat::unbound)
            st.u.unbound.dom = p.remote;
        return copy_to_guest(arg, st) ? 0 : fail(Errc::efault);
    }
    case abi::evtchnop::bind_vcpu: {
        abi::evtchn_bind_vcpu b{};
        if (!copy_from_guest(b, arg))
            return fail(Errc::efault);
        if (find(b.vcpu) == nullptr)
            return fail(Errc::enoent);
        if (!valid_port(b.port))
            return fail(Errc::einval);
        auto& p = ports_[b.port];
        switch (p.state) {
        case abi::evtchn_stat::virq:
            if (!virq_is_global(p.virq))
                return fail(Errc::einval);
            p.vcpu = b.vcpu;
            return 0;
        case abi::evtchn_stat::unbound:
        case abi::evtchn_stat::interdomain:
        case abi::evtchn_stat::pirq: p.vcpu = b.vcpu; return 0;
        default: return fail(Errc::einval); // IPI ports and closed ports stay put
        }
    }
    case abi::evtchnop::unmask: {
        abi::evtchn_unmask u{};
        if (!copy_from_guest(u, arg))
            return fail(Errc::efault);
        if (u.port >= abi::evtchn_2l_nr_ports)
            return fail(Errc::einval);
        // evtchn_2l_unmask: clear the mask; if the port is pending, set the
        // selector bit and, if that was new, mark events pending.
        const uint32_t word = u.port / 64;
        const uint64_t was = __atomic_fetch_and(&shared_->evtchn_mask[word], ~bit_of(u.port), __ATOMIC_SEQ_CST);
        auto* v = find(ports_[u.port].vcpu);
        if ((was & bit_of(u.port)) && v != nullptr &&
            (__atomic_load_n(&shared_->evtchn_pending[word], __ATOMIC_SEQ_CST) & bit_of(u.port))) {
            auto& vi = info_of(*v);
            if ((__atomic_fetch_or(&vi.evtchn_pending_sel, uint64_t{1} << word, __ATOMIC_SEQ_CST) &
                 (uint64_t{1} << word)) == 0)
                mark_events_pending(*v);
        }
        return 0;
    }
    default: return fail(Errc::enosys);
    }
}

abi::vcpu_info& Hypervisor::vcpu_info(VcpuId id)
{
    Lock l(mu_);
    return info_of(at(id));
}

uint32_t Hypervisor::virq_port(VcpuId id, abi::virq v) const
{
    Lock l(mu_);
    const auto i = static_cast<uint32_t>(v);
    return i < nr_virqs ? at(id).virq_to_port[i] : 0;
}

void Hypervisor::raise_virq(VcpuId id, abi::virq v)
{
    Lock l(mu_);
    send_virq(at(id), v);
}

bool Hypervisor::port_pending(uint32_t port) const
{
    Lock l(mu_);
    return port < abi::evtchn_2l_nr_ports &&
           (__atomic_load_n(&shared_->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) & bit_of(port));
}

bool Hypervisor::port_masked(uint32_t port) const
{
    Lock l(mu_);
    return port < abi::evtchn_2l_nr_ports &&
           (__atomic_load_n(&shared_->evtchn_mask[port / 64], __ATOMIC_SEQ_CST) & bit_of(port));
}

abi::evtchn_stat Hypervisor::port_state(uint32_t port) const
{
    Lock l(mu_);
    return port < ports_.size() ? ports_[port].state : abi::evtchn_stat::closed;
}

} // namespace xen::sim
