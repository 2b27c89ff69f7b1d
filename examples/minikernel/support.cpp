// What a freestanding C++ kernel must provide itself: the few memory
// functions the compiler may call, the library's link-time panic hook
// (xen/support/panic.hpp), and how the machine ends.
#include <cstddef>
#include <xen/hypercall/sched_op.hpp>
#include <xen/support/panic.hpp>

#include "console.hpp"
#include "domu.hpp"
#include "kernel.hpp"

// GCC may emit calls to these for struct copies and zeroing. Written with
// string instructions so the optimiser cannot turn them back into calls to
// themselves.
extern "C" void* memcpy(void* dst, const void* src, size_t n) noexcept
{
    void* d = dst;
    asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

extern "C" void* memset(void* dst, int value, size_t n) noexcept
{
    void* d = dst;
    asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(value) : "memory");
    return dst;
}

extern "C" void* memmove(void* dst, const void* src, size_t n) noexcept
{
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    // Overlapping with dst above src: copy backwards.
    d += n - 1;
    s += n - 1;
    asm volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

extern "C" int memcmp(const void* a, const void* b, size_t n) noexcept
{
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

// The library's link-time hook: a panic is a TAP bail-out followed by a
// crash, so the harness sees a failure.

extern "C" [[noreturn]] void xenvcpu_panic(const char* message) noexcept
{
    mk::console::print("\nBail out! panic: ", message, "\n");
    mk::machine_crash();
}

namespace mk {

namespace {
GuestType current_type = GuestType::pv;

[[noreturn]] void shutdown(xen::abi::shutdown_reason reason) noexcept
{
    console::flush();
    domu::console_drain(); // a domU's last lines must reach xenconsoled first
    (void)xen::hc::sched_shutdown(reason);
    // Xen refused (it never does for dom0): nothing else to do but stop.
    for (;;)
        (void)xen::hc::sched_yield();
}
} // namespace

GuestType guest_type() noexcept { return current_type; }

void set_guest_type(GuestType type) noexcept { current_type = type; }

void machine_reboot() noexcept { shutdown(xen::abi::shutdown_reason::reboot); }

void machine_crash() noexcept { shutdown(xen::abi::shutdown_reason::crash); }

} // namespace mk
