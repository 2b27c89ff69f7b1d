// The console ring protocol (public io/console.h) is ByteRing's: the guest
// produces `out` and consumes `in`, and tells xenconsoled with EVTCHNOP_send
// after it has moved either index.
#include <xen/console.hpp>

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
