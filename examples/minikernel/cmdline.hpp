// The kernel command line as `key=value` words separated by spaces, e.g.
//     tests=selftest,events timers=1000 verbose
// (a word without '=' is a key with an empty value). PV gets the line in
// start_info::cmd_line, PVH at hvm_start_info::cmdline_paddr; as dom0 it is
// the text after the kernel's path in the boot loader's module line.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mk {

class Cmdline {
public:
    /// Copy and split `text` (at most max_len - 1 characters, max_words words;
    /// the rest is dropped).
    void parse(const char* text) noexcept;

    /// The value of `key`: "" for a bare word, nullptr if absent. The last
    /// occurrence wins, so later words override earlier ones.
    const char* get(const char* key) const noexcept;

    /// get(key) parsed as a decimal number, or `fallback` if absent or not a number.
    uint64_t get_uint(const char* key, uint64_t fallback) const noexcept;

    /// The line as given (for the log).
    const char* text() const noexcept { return original_; }

    static constexpr size_t max_len = 1024; // MAX_GUEST_CMDLINE
    static constexpr size_t max_words = 32;

private:
    char original_[max_len] = {};
    char words_[max_len] = {}; // the copy, cut into NUL-terminated keys and values
    const char* keys_[max_words] = {};
    const char* values_[max_words] = {};
    size_t count_ = 0;
};

/// True if the comma-separated `list` contains `name` as a whole item.
bool list_contains(const char* list, const char* name) noexcept;

/// True if the two NUL-terminated strings are equal.
bool str_equal(const char* a, const char* b) noexcept;

} // namespace mk
