// The console ring protocol (public io/console.h) is ByteRing's: the guest
// produces `out` and consumes `in`, and tells xenconsoled with EVTCHNOP_send
// after it has moved either index.
//
// Several vCPUs write at once (a kernel's console from every CPU): the
// protocol has one producer index, so two writers that both read out_prod,
// copy and publish would write over each other's bytes, and the later
// store of out_prod would hide the earlier writer's text or publish half
// of it. write() therefore holds a test-and-test-and-set lock for the
// whole text; write_some() is the unlocked primitive. docs/console.md.
#include <xen/console.hpp>

#include <xen/arch/x86.hpp>
#include <xen/ring/byte_ring.hpp>

namespace xen {

namespace {

using OutRing = ByteRing<sizeof(abi::xencons_interface::out)>;
using InRing = ByteRing<sizeof(abi::xencons_interface::in)>;

OutRing out_ring(abi::xencons_interface& r) noexcept { return OutRing(r.out, r.out_prod, r.out_cons); }
InRing in_ring(abi::xencons_interface& r) noexcept { return InRing(r.in, r.in_prod, r.in_cons); }

} // namespace

Result<size_t> ConsoleRing::write_some(const char* text, size_t len) noexcept
{
    XEN_TRY_ASSIGN(const size_t n, out_ring(*ring_).produce(text, len));
    if (n != 0)
        XEN_TRY(hc::evtchn_send(port_));
    return n;
}

// Both indices in one word, to see whether anything moved: a writer
// publishing or the backend consuming.
uint64_t ConsoleRing::indices() const noexcept
{
    const uint64_t prod = __atomic_load_n(&ring_->out_prod, __ATOMIC_RELAXED);
    const uint64_t cons = __atomic_load_n(&ring_->out_cons, __ATOMIC_RELAXED);
    return prod << 32 | cons;
}

Result<void> ConsoleRing::lock(WaitFn wait, void* ctx, uint32_t max_waits) noexcept
{
    uint32_t waits = 0;
    uint32_t spins = 0;
    uint64_t seen = indices();
    for (;;) {
        // Read before exchanging, so that waiters spin on a shared cache
        // line instead of bouncing it with writes.
        if (__atomic_load_n(&writer_, __ATOMIC_RELAXED) == 0 &&
            __atomic_exchange_n(&writer_, 1u, __ATOMIC_ACQUIRE) == 0)
            return ok();
        arch::cpu_relax();
        if (++spins < lock_spins_per_wait)
            continue;
        spins = 0;
        // The holder writing or the backend draining is progress: the
        // bound counts only waits in a row while the ring stands still.
        const uint64_t now = indices();
        if (now != seen) {
            seen = now;
            waits = 0;
        } else if (waits++ == max_waits) {
            return err(Errc::timed_out);
        }
        // Wait even while the ring moves: a waiter that only spun would
        // keep its pCPU from the holder and from the backend's vCPU, whose
        // draining the holder may be waiting for (measured: a PVH domU of
        // 4 vCPUs on 2 pCPUs printed 156 lines in 90 s with spinning
        // waiters).
        if (wait != nullptr)
            wait(ctx);
    }
}

void ConsoleRing::unlock() noexcept { __atomic_store_n(&writer_, 0u, __ATOMIC_RELEASE); }

Result<void> ConsoleRing::write_locked(const char* text, size_t len, WaitFn wait, void* ctx,
                                       uint32_t max_waits) noexcept
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

Result<void> ConsoleRing::write(const char* text, size_t len, WaitFn wait, void* ctx, uint32_t max_waits) noexcept
{
    XEN_TRY(lock(wait, ctx, max_waits));
    const Result<void> r = write_locked(text, len, wait, ctx, max_waits);
    unlock();
    return r;
}

Result<size_t> ConsoleRing::read(char* buf, size_t cap) noexcept
{
    XEN_TRY_ASSIGN(const size_t n, in_ring(*ring_).consume(buf, cap));
    if (n != 0)
        XEN_TRY(hc::evtchn_send(port_)); // there is room again
    return n;
}

Result<size_t> ConsoleRing::input_pending() const noexcept
{
    return in_ring(*ring_).fill().transform([](uint32_t n) { return size_t{n}; });
}

Result<size_t> ConsoleRing::output_pending() const noexcept
{
    return out_ring(*ring_).fill().transform([](uint32_t n) { return size_t{n}; });
}

} // namespace xen
