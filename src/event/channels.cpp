// EventChannels, the part that calls Xen: bind, send, unmask, close.
#include <xen/event/bitmap.hpp>
#include <xen/events.hpp>

namespace xen {

Result<Port> EventChannels::bind_virq(abi::virq virq, VcpuId vcpu, EventHandler handler, void* ctx) noexcept
{
    if (handler == nullptr)
        return err(Errc::invalid_argument);
    if (cursors_.find(vcpu) == nullptr)
        return err(Errc::vcpu_out_of_range);
    XEN_TRY_ASSIGN(Port port, hc::evtchn_bind_virq(virq, vcpu));
    XEN_TRY(adopt(port, vcpu, handler, ctx));
    slots_[port.value].binding_ = 1;
    slots_[port.value].virq_ = static_cast<uint8_t>(virq);
    return port;
}

Result<Port> EventChannels::bind_ipi(VcpuId vcpu, EventHandler handler, void* ctx) noexcept
{
    if (handler == nullptr)
        return err(Errc::invalid_argument);
    if (cursors_.find(vcpu) == nullptr)
        return err(Errc::vcpu_out_of_range);
    XEN_TRY_ASSIGN(Port port, hc::evtchn_bind_ipi(vcpu));
    XEN_TRY(adopt(port, vcpu, handler, ctx));
    slots_[port.value].binding_ = 2;
    return port;
}

Result<uint32_t> EventChannels::rebind_all(VcpuId* failed_vcpu) noexcept
{
    // Xen forgot every binding: attached ports are the kernel's to find
    // again, VIRQs and IPIs are ours to redo.
    for (uint32_t p = 0; p < nr_slots_; ++p) {
        EventSlot& s = slots_[p];
        if (s.owner_ == 0)
            continue;
        if (s.binding_ == 0)
            __atomic_store_n(&s.owner_, uint32_t{0}, __ATOMIC_RELEASE);
        else
            s.stale_ = 1;
    }
    uint32_t rebound = 0;
    Errc failure{};
    for (uint32_t p = 0; p < nr_slots_ && failure == Errc{}; ++p) {
        // Xen hands out the lowest free port, which may be one whose old
        // binding is still waiting here: that one moves into slot p and is
        // redone next, so every stale entry is bound exactly once.
        while (slots_[p].stale_ != 0) {
            EventSlot& s = slots_[p];
            const EventHandler handler = s.handler_;
            void* const ctx = s.ctx_;
            const VcpuId vcpu{s.owner_ - 1};
            const uint8_t binding = s.binding_, virq = s.virq_;
            s.stale_ = 0;
            __atomic_store_n(&s.owner_, uint32_t{0}, __ATOMIC_RELEASE);
            const Result<Port> got = binding == 1 ? hc::evtchn_bind_virq(static_cast<abi::virq>(virq), vcpu)
                                                  : hc::evtchn_bind_ipi(vcpu);
            if (!got.has_value()) {
                failure = got.error();
                if (failed_vcpu != nullptr)
                    *failed_vcpu = vcpu;
                break;
            }
            const uint32_t q = got->value;
            if (q >= nr_slots_) {
                (void)hc::evtchn_close(*got);
                failure = Errc::no_space;
                if (failed_vcpu != nullptr)
                    *failed_vcpu = vcpu;
                break;
            }
            EventSlot& t = slots_[q];
            if (q != p && t.stale_ != 0) {
                // Move the waiting entry into p (now free), to be redone next.
                s.handler_ = t.handler_;
                s.ctx_ = t.ctx_;
                s.binding_ = t.binding_;
                s.virq_ = t.virq_;
                s.stale_ = 1;
                s.owner_ = t.owner_;
                t.stale_ = 0;
            }
            t.handler_ = handler;
            t.ctx_ = ctx;
            t.binding_ = binding;
            t.virq_ = virq;
            __atomic_store_n(&t.owner_, vcpu.value + 1, __ATOMIC_RELEASE);
            // A restored PV domain starts with every port masked
            // (xg_sr_restore_x86_pv.c, handle_shared_info): let it through.
            if (auto r = unmask(*got); !r.has_value()) {
                failure = r.error();
                if (failed_vcpu != nullptr)
                    *failed_vcpu = vcpu;
                break;
            }
            ++rebound;
        }
    }
    if (failure == Errc{})
        return rebound;
    for (uint32_t p = 0; p < nr_slots_; ++p) {
        if (slots_[p].stale_ != 0) {
            slots_[p].stale_ = 0;
            __atomic_store_n(&slots_[p].owner_, uint32_t{0}, __ATOMIC_RELEASE);
        }
    }
    return err(failure);
}

Result<Port> EventChannels::find(EventHandler handler, const void* ctx, VcpuId vcpu) const noexcept
{
    for (uint32_t p = 0; p < nr_slots_; ++p) {
        const EventSlot& s = slots_[p];
        if (__atomic_load_n(&s.owner_, __ATOMIC_ACQUIRE) == vcpu.value + 1 && s.handler_ == handler && s.ctx_ == ctx)
            return Port{p};
    }
    return err(Errc::port_not_bound);
}

Result<Port> EventChannels::adopt(Port port, VcpuId vcpu, EventHandler handler, void* ctx) noexcept
{
    if (port.value >= nr_slots_) {
        // Xen hands out the lowest free port (get_free_port), so this means
        // the table is full. Give the port back; a failed close leaves a
        // port we cannot use either way, so the table error is the one to
        // report.
        (void)hc::evtchn_close(port);
        return err(Errc::no_space);
    }
    // Cannot fail: the handler, port and vCPU were checked above.
    attach(port, vcpu, handler, ctx).value();

    // The port is new to us but maybe not to Xen's bitmaps: its mask bit may
    // be left over from an earlier user, and an event may have arrived
    // before the slot was published (dispatch then left it pending). unmask
    // clears the mask and has Xen re-deliver anything pending.
    if (auto r = unmask(port); !r.has_value()) {
        __atomic_store_n(&slots_[port.value].owner_, uint32_t{0}, __ATOMIC_RELEASE);
        (void)hc::evtchn_close(port);
        return err(r.error());
    }
    return port;
}

Result<void> EventChannels::send(Port port) noexcept
{
    XEN_TRY(check(port));
    return hc::evtchn_send(port);
}

Result<void> EventChannels::unmask(Port port) noexcept
{
    XEN_TRY(check(port));
    uint64_t* pending = shared_->evtchn_pending;
    uint64_t* masks = shared_->evtchn_mask;
    if (!event::test(pending, port.value)) {
        (void)event::test_and_clear(masks, port.value);
        // An event that came before the clear found the port masked: Xen set
        // only the pending bit (no selector, no upcall). After the clear Xen
        // delivers by itself. So only a pending bit seen now needs help.
        if (!event::test(pending, port.value))
            return ok();
    }
    // EVTCHNOP_unmask re-delivers only a port that is masked when Xen looks
    // (evtchn_2l_unmask tests and clears the mask bit first), so mask it.
    (void)event::test_and_set(masks, port.value);
    return hc::evtchn_unmask(port);
}

Result<void> EventChannels::close(Port port, VcpuId self) noexcept
{
    XEN_TRY(check_owned(port, self));
    EventSlot& slot = slots_[port.value];
    // Unpublish before Xen frees the port: once closed, Xen may hand the
    // same number to a bind on another vCPU, which then owns the slot.
    __atomic_store_n(&slot.owner_, uint32_t{0}, __ATOMIC_RELEASE);
    if (auto r = hc::evtchn_close(port); !r.has_value()) {
        __atomic_store_n(&slot.owner_, self.value + 1, __ATOMIC_RELEASE);
        return r;
    }
    return ok();
}

} // namespace xen
