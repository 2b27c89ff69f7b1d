#include "events.hpp"

#include <xen/hypercall/xen_version.hpp>

namespace mk::events {

namespace {

xen::abi::shared_info* shared = nullptr;
GuestType guest = GuestType::pv;
uint64_t upcalls = 0;

struct Binding {
    Handler handler;
    void* context;
};
Binding bindings[max_ports] = {};

constexpr uint32_t bits_per_word = 64;

// Xen writes these words concurrently (from other pCPUs): every access is
// atomic, and read-modify-writes are locked, as the 2-level ABI requires.
void set_mask_bit(uint32_t port) noexcept
{
    __atomic_fetch_or(&shared->evtchn_mask[port / bits_per_word], uint64_t{1} << (port % bits_per_word),
                      __ATOMIC_SEQ_CST);
}

xen::abi::vcpu_info& vcpu0() noexcept { return shared->vcpu_info[0]; }

} // namespace

void init(xen::abi::shared_info* page, GuestType type) noexcept
{
    shared = page;
    guest = type;
    for (auto& word : shared->evtchn_mask)
        __atomic_store_n(&word, ~uint64_t{0}, __ATOMIC_SEQ_CST);
}

xen::abi::shared_info* shared_info() noexcept { return shared; }

xen::Result<void> bind(xen::hc::Port port, Handler handler, void* context) noexcept
{
    if (port.value >= max_ports || bindings[port.value].handler != nullptr || handler == nullptr)
        return xen::err(xen::Errc::invalid_argument);
    bindings[port.value] = Binding{handler, context};
    // EVTCHNOP_unmask rather than clearing the bit ourselves: Xen then also
    // raises the upcall if the port became pending while it was masked.
    return xen::hc::evtchn_unmask(port);
}

void unbind(xen::hc::Port port) noexcept
{
    if (port.value >= max_ports)
        return;
    set_mask_bit(port.value);
    bindings[port.value] = Binding{nullptr, nullptr};
}

void enable() noexcept
{
    if (guest == GuestType::pvh) {
        asm volatile("sti" ::: "memory");
        return;
    }
    __atomic_store_n(&vcpu0().evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
    // Xen only checks for pending events on its way back into the guest. If
    // one arrived while we were masked, enter and leave Xen once (any cheap
    // hypercall) so that it is delivered now rather than at some later exit.
    if (__atomic_load_n(&vcpu0().evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0)
        (void)xen::hc::xen_version();
}

void disable() noexcept
{
    if (guest == GuestType::pvh) {
        asm volatile("cli" ::: "memory");
        return;
    }
    __atomic_store_n(&vcpu0().evtchn_upcall_mask, 1, __ATOMIC_SEQ_CST);
}

void upcall() noexcept
{
    ++upcalls;
    xen::abi::vcpu_info& vcpu = vcpu0();
    // Clear the flag before scanning: an event that arrives during the scan
    // sets it again and we go round once more instead of losing it.
    while (__atomic_exchange_n(&vcpu.evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST) != 0) {
        uint64_t words = __atomic_exchange_n(&vcpu.evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
        while (words != 0) {
            const uint32_t w = static_cast<uint32_t>(__builtin_ctzll(words));
            words &= words - 1;
            uint64_t ready = __atomic_load_n(&shared->evtchn_pending[w], __ATOMIC_SEQ_CST) &
                             ~__atomic_load_n(&shared->evtchn_mask[w], __ATOMIC_SEQ_CST);
            while (ready != 0) {
                const uint32_t bit = static_cast<uint32_t>(__builtin_ctzll(ready));
                ready &= ready - 1;
                // Clear pending first, then handle: a new event on this port
                // during the handler is seen on the next round.
                __atomic_fetch_and(&shared->evtchn_pending[w], ~(uint64_t{1} << bit), __ATOMIC_SEQ_CST);
                const uint32_t port = w * bits_per_word + bit;
                if (port < max_ports && bindings[port].handler != nullptr)
                    bindings[port].handler(xen::hc::Port{port}, bindings[port].context);
            }
        }
    }
}

uint64_t upcall_count() noexcept { return upcalls; }

} // namespace mk::events
