#include "console.hpp"

#include <xen/hypercall/platform_op.hpp>

#include "domu.hpp"
#include "percpu.hpp"

namespace mk::console {

namespace {

// One line buffer per CPU (in its per-CPU block), so lines printed on
// different CPUs never mix; a line reaches Xen in one console_io call. Until
// the boot CPU's block is set up, a boot buffer.
constexpr size_t line_max = sizeof(smp::PerCpu::line);
char boot_line[line_max];
uint32_t boot_used = 0;

char* my_line() noexcept { return smp::percpu_ready() ? smp::this_percpu().line : boot_line; }
uint32_t& my_used() noexcept { return smp::percpu_ready() ? smp::this_percpu().line_used : boot_used; }

size_t length(const char* text) noexcept
{
    size_t n = 0;
    while (text[n] != '\0')
        ++n;
    return n;
}

} // namespace

void flush() noexcept
{
    char* const line = my_line();
    uint32_t& used = my_used();
    if (used == 0)
        return;
    // A domU has no console_io (without a debug Xen): its console ring.
    if (domu::active())
        domu::console_write(line, used);
    else
        // Nothing useful to do if Xen refuses: there is no other console.
        (void)xen::hc::console_write(line, static_cast<uint32_t>(used));
    used = 0;
}

void write(const char* text, size_t len) noexcept
{
    char* const line = my_line();
    uint32_t& used = my_used();
    for (size_t i = 0; i < len; ++i) {
        line[used++] = text[i];
        if (text[i] == '\n' || used == line_max)
            flush();
    }
}

void write(const char* text) noexcept { write(text, length(text)); }

void put(const char* text) noexcept { write(text); }

void put(char c) noexcept { write(&c, 1); }

void put(bool value) noexcept { write(value ? "true" : "false"); }

void put(uint64_t value) noexcept
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0)
        put(digits[--n]);
}

void put(int64_t value) noexcept
{
    if (value < 0) {
        put('-');
        // Negate in unsigned arithmetic: INT64_MIN has no positive twin.
        put(~static_cast<uint64_t>(value) + 1);
        return;
    }
    put(static_cast<uint64_t>(value));
}

void put(Hex value) noexcept
{
    write("0x");
    int shift = 60;
    while (shift > 0 && ((value.value >> shift) & 0xf) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        put("0123456789abcdef"[(value.value >> shift) & 0xf]);
}

} // namespace mk::console
