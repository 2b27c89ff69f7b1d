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
    return adopt(port, vcpu, handler, ctx);
}

Result<Port> EventChannels::bind_ipi(VcpuId vcpu, EventHandler handler, void* ctx) noexcept
{
    if (handler == nullptr)
        return err(Errc::invalid_argument);
    if (cursors_.find(vcpu) == nullptr)
        return err(Errc::vcpu_out_of_range);
    XEN_TRY_ASSIGN(Port port, hc::evtchn_bind_ipi(vcpu));
    return adopt(port, vcpu, handler, ctx);
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
