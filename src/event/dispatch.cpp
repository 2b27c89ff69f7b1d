// EventChannels, the part that never calls Xen: the table checks, mask,
// raise_local and the upcall dispatcher. (The hypercall-making part is in
// channels.cpp, so code and tests that only dispatch link without a
// transport.)
#include <xen/event/bitmap.hpp>
#include <xen/events.hpp>

namespace xen {

using event::bits_per_word;

void EventChannels::init(abi::shared_info& shared, EventSlot* slots, uint32_t nr_slots,
                         PerVcpu<EventCursor> cursors) noexcept
{
    shared_ = &shared;
    slots_ = slots;
    nr_slots_ = nr_slots < evtchn_max_ports ? nr_slots : evtchn_max_ports;
    cursors_ = cursors;
}

Result<void> EventChannels::check(Port port) const noexcept
{
    if (port.value >= nr_slots_)
        return err(Errc::port_out_of_range);
    return ok();
}

Result<void> EventChannels::check_owned(Port port, VcpuId self) const noexcept
{
    XEN_TRY(check(port));
    uint32_t owner = __atomic_load_n(&slots_[port.value].owner_, __ATOMIC_ACQUIRE);
    if (owner == 0)
        return err(Errc::port_not_bound);
    if (owner != self.value + 1)
        return err(Errc::not_current_vcpu);
    return ok();
}

bool EventChannels::owned_by(uint32_t port, uint32_t owner) const noexcept
{
    // Acquire pairs with the release in attach(): a dispatcher that sees the
    // owner also sees the handler and ctx written before it.
    return port < nr_slots_ && __atomic_load_n(&slots_[port].owner_, __ATOMIC_ACQUIRE) == owner;
}

Result<void> EventChannels::attach(Port port, VcpuId vcpu, EventHandler handler, void* ctx) noexcept
{
    if (handler == nullptr)
        return err(Errc::invalid_argument);
    XEN_TRY(check(port));
    if (cursors_.find(vcpu) == nullptr)
        return err(Errc::vcpu_out_of_range);
    EventSlot& slot = slots_[port.value];
    slot.handler_ = handler;
    slot.ctx_ = ctx;
    slot.binding_ = 0;
    slot.stale_ = 0;
    // Publish: a dispatcher that reads the owner sees handler and ctx.
    __atomic_store_n(&slot.owner_, vcpu.value + 1, __ATOMIC_RELEASE);
    return ok();
}

Result<void> EventChannels::mask(Port port) noexcept
{
    XEN_TRY(check(port));
    (void)event::test_and_set(shared_->evtchn_mask, port.value);
    return ok();
}

void EventChannels::mask_all() noexcept
{
    for (auto& word : shared_->evtchn_mask)
        __atomic_store_n(&word, ~uint64_t{0}, __ATOMIC_SEQ_CST);
}

Result<void> EventChannels::raise_local(Port port, VcpuId self, abi::vcpu_info& vi) noexcept
{
    XEN_TRY(check_owned(port, self));
    raise_unowned(*shared_, port, vi);
    return ok();
}

void EventChannels::raise_unowned(abi::shared_info& shared, Port port, abi::vcpu_info& vi) noexcept
{
    // Xen's order (evtchn_2l_set_pending): pending; then, only for a new,
    // unmasked event, the selector bit; then, only if that bit is new,
    // evtchn_upcall_pending. Dispatch clears them in the opposite order.
    if (event::test_and_set(shared.evtchn_pending, port.value))
        return;
    if (event::test(shared.evtchn_mask, port.value))
        return;
    uint64_t sel_bit = uint64_t{1} << event::word_of(port.value);
    if ((__atomic_fetch_or(&vi.evtchn_pending_sel, sel_bit, __ATOMIC_SEQ_CST) & sel_bit) == 0)
        __atomic_store_n(&vi.evtchn_upcall_pending, uint8_t{1}, __ATOMIC_SEQ_CST);
}

DispatchResult EventChannels::dispatch(VcpuId self, abi::vcpu_info& vi, uint32_t budget) noexcept
{
    // A vCPU without a cursor can own no port (bind refuses it), but its
    // upcall must still be acknowledged; a scratch cursor does.
    EventCursor scratch;
    EventCursor* const own = cursors_.find(self);
    EventCursor& cursor = own != nullptr ? *own : scratch;
    // Owner 0 marks a free slot, so an id whose "+ 1" wraps to 0 (2^32 - 1)
    // would match every unbound port and call its null handler. Such a vCPU
    // has no cursor, and a vCPU without one owns nothing: it matches none.
    const bool may_own = own != nullptr && self.value + 1 != 0;
    const uint32_t owner = self.value + 1;
    DispatchResult result{0, false};
    uint64_t sel = 0; // selector words not yet scanned to the end

    do {
        // Clear the flag before taking the selector: Xen sets the selector
        // bit, then the flag, so an event after our exchange raises the flag
        // again and the loop condition sees it.
        __atomic_store_n(&vi.evtchn_upcall_pending, uint8_t{0}, __ATOMIC_SEQ_CST);
        sel |= __atomic_exchange_n(&vi.evtchn_pending_sel, uint64_t{0}, __ATOMIC_SEQ_CST);

        while (sel != 0) {
            const uint32_t cur_word = cursor.next_port_ / bits_per_word;
            const uint32_t cur_bit = cursor.next_port_ % bits_per_word;

            // Fairness, as Linux's 2-level scan: start at the cursor (the
            // port after the last one handled), wrap at the end, so a busy
            // low port cannot starve the ports above it.
            const uint64_t ahead = sel & (~uint64_t{0} << cur_word);
            const uint32_t w = static_cast<uint32_t>(__builtin_ctzll(ahead != 0 ? ahead : sel));
            const uint32_t from_bit = w == cur_word ? cur_bit : 0;

            uint64_t ready = event::load_word(shared_->evtchn_pending[w]) & ~event::load_word(shared_->evtchn_mask[w]) &
                             (~uint64_t{0} << from_bit);
            bool called = false;
            while (ready != 0 && !called) {
                const uint32_t b = static_cast<uint32_t>(__builtin_ctzll(ready));
                ready &= ready - 1;
                const uint32_t port = w * bits_per_word + b;
                if (!may_own || !owned_by(port, owner))
                    continue; // another vCPU's port in a shared word, or unbound: leave it pending
                if (result.handled == budget) {
                    // Out of budget with work left: hand the words back as
                    // Xen would have set them, so the next upcall (or the
                    // kernel's next dispatch) resumes here.
                    __atomic_fetch_or(&vi.evtchn_pending_sel, sel, __ATOMIC_SEQ_CST);
                    __atomic_store_n(&vi.evtchn_upcall_pending, uint8_t{1}, __ATOMIC_SEQ_CST);
                    result.more = true;
                    return result;
                }
                // Clear pending *before* the handler: an event raised while
                // it runs sets the bit again and is not lost.
                if (!event::test_and_clear(shared_->evtchn_pending, port))
                    continue;
                cursor.next_port_ = (port + 1) % evtchn_max_ports;
                EventSlot& slot = slots_[port];
                slot.handler_(Port{port}, self, slot.ctx_);
                ++result.handled;
                called = true;
            }
            if (called)
                continue; // rescan from the new cursor with fresh words

            // Nothing of ours in word w from from_bit up. If we scanned it
            // from bit 0 it is done; otherwise its low bits come after the
            // wrap, so keep it selected and move on.
            if (from_bit == 0)
                sel &= ~(uint64_t{1} << w);
            cursor.next_port_ = ((w + 1) % bits_per_word) * bits_per_word;
        }
    } while (__atomic_load_n(&vi.evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0);

    return result;
}

} // namespace xen
