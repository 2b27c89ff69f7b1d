// The fuzz targets' reader of their input bytes: little-endian integers
// taken from the front, zeros once the input is used up (so every input,
// however short, decodes to a finite script).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace fuzz {

class Input {
public:
    Input(const uint8_t* data, size_t size) : p_(data), left_(size) {}

    bool empty() const { return left_ == 0; }
    size_t left() const { return left_; }

    uint8_t u8()
    {
        if (left_ == 0)
            return 0;
        --left_;
        return *p_++;
    }
    uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
    uint32_t u32() { return static_cast<uint32_t>(u16()) | (static_cast<uint32_t>(u16()) << 16); }
    uint64_t u64() { return static_cast<uint64_t>(u32()) | (static_cast<uint64_t>(u32()) << 32); }

    /// Up to `n` bytes straight from the input (fewer when it runs out).
    size_t bytes(char* out, size_t n)
    {
        size_t k = n < left_ ? n : left_;
        for (size_t i = 0; i < k; ++i)
            out[i] = static_cast<char>(p_[i]);
        p_ += k;
        left_ -= k;
        return k;
    }

private:
    const uint8_t* p_;
    size_t left_;
};

/// A broken property: say which and abort (libFuzzer saves the input).
[[noreturn]] inline void fail(const char* target, const char* what, unsigned long long a = 0, unsigned long long b = 0)
{
    std::fprintf(stderr, "%s: %s (%llu, %llu)\n", target, what, a, b);
    std::abort();
}

} // namespace fuzz
