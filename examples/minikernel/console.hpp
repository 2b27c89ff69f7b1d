// The console: Xen's own console through console_io(CONSOLEIO_write), which
// dom0 may use (a domU needs a debug Xen or the console ring instead).
// Output is line-buffered so a line reaches Xen in one hypercall and lines
// from Xen's own log do not split it.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

namespace mk::console {

/// Append text; a '\n' (or a full buffer) sends the line to Xen.
void write(const char* text, size_t len) noexcept;
void write(const char* text) noexcept;

/// Send whatever is buffered, even without a newline.
void flush() noexcept;

/// Print as hexadecimal with a 0x prefix.
struct Hex {
    uint64_t value;
};

void put(const char* text) noexcept;
void put(char c) noexcept;
void put(uint64_t value) noexcept;
void put(int64_t value) noexcept;
void put(Hex value) noexcept;
void put(bool value) noexcept;
// clang-format 14 would pull the requires clause onto the declarator line.
// clang-format off
template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
void put(T value) noexcept
// clang-format on
{
    if constexpr (std::is_signed_v<T>)
        put(static_cast<int64_t>(value));
    else
        put(static_cast<uint64_t>(value));
}

/// print("vcpu ", id, " at ", Hex{rip}, "\n"): each argument through put().
template <class... Args>
void print(const Args&... args) noexcept
{
    (put(args), ...);
}

} // namespace mk::console
