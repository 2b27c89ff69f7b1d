// The console ring protocol (public io/console.h): indices are free-running
// 32-bit counters, a slot is the index modulo the (power-of-two) ring size,
// and prod - cons (mod 2^32) is the fill level. The producer stores the
// bytes before it publishes the new producer index (release); the consumer
// reads the producer index (acquire) before the bytes. The same holds for
// the consumer index and reuse of slots.
#include <xen/console.hpp>

namespace xen {

namespace {

constexpr uint32_t out_size = sizeof(abi::xencons_interface::out);
constexpr uint32_t in_size = sizeof(abi::xencons_interface::in);
static_assert((out_size & (out_size - 1)) == 0 && (in_size & (in_size - 1)) == 0);

uint32_t load_acquire(const uint32_t& index) noexcept { return __atomic_load_n(&index, __ATOMIC_ACQUIRE); }
void store_release(uint32_t& index, uint32_t value) noexcept { __atomic_store_n(&index, value, __ATOMIC_RELEASE); }

} // namespace

Result<size_t> ConsoleRing::write_some(const char* text, size_t len) noexcept
{
    const uint32_t cons = load_acquire(ring_->out_cons);
    uint32_t prod = ring_->out_prod; // ours alone
    const uint32_t used = prod - cons;
    // A backend that moved out_cons past out_prod broke the protocol: write
    // nothing rather than overwrite what it has not read.
    if (used > out_size)
        return size_t{0};
    size_t n = 0;
    for (; n < len && prod - cons < out_size; ++n, ++prod)
        ring_->out[prod & (out_size - 1)] = text[n];
    if (n == 0)
        return size_t{0};
    store_release(ring_->out_prod, prod);
    XEN_TRY(hc::evtchn_send(port_));
    return n;
}

Result<void> ConsoleRing::write(const char* text, size_t len, WaitFn wait, void* ctx, uint32_t max_waits) noexcept
{
    uint32_t waits = 0;
    while (len > 0) {
        XEN_TRY_ASSIGN(const size_t n, write_some(text, len));
        if (n == 0) {
            if (waits++ == max_waits)
                return err(Errc::timed_out);
            if (wait != nullptr)
                wait(ctx);
            continue;
        }
        waits = 0;
        text += n;
        len -= n;
    }
    return ok();
}

Result<size_t> ConsoleRing::read(char* buf, size_t cap) noexcept
{
    const uint32_t prod = load_acquire(ring_->in_prod);
    uint32_t cons = ring_->in_cons; // ours alone
    if (prod - cons > in_size)
        return size_t{0}; // a broken backend: see write_some
    size_t n = 0;
    for (; n < cap && cons != prod; ++n, ++cons)
        buf[n] = ring_->in[cons & (in_size - 1)];
    if (n == 0)
        return size_t{0};
    store_release(ring_->in_cons, cons);
    XEN_TRY(hc::evtchn_send(port_));
    return n;
}

size_t ConsoleRing::input_pending() const noexcept
{
    return load_acquire(ring_->in_prod) - ring_->in_cons;
}

size_t ConsoleRing::output_pending() const noexcept
{
    return ring_->out_prod - load_acquire(ring_->out_cons);
}

} // namespace xen
