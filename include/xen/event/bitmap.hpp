/// \file
/// Bit operations on the 2-level event-channel words Xen shares with us:
/// shared_info's evtchn_pending[] / evtchn_mask[] and vcpu_info's
/// evtchn_pending_sel. Xen changes these words with locked bit operations
/// from any pCPU (evtchn_2l_set_pending, evtchn_2l_unmask), so every
/// read-modify-write here is an atomic GCC builtin too: a plain `|=` could
/// write back a stale word and lose a bit Xen set in between.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>

/// Atomic bit operations on the 2-level event-channel words Xen shares
/// (pending, mask, the per-vCPU selector).
namespace xen::event {

/// Bits per selector / bitmap word (a `xen_ulong_t` on x86-64).
inline constexpr uint32_t bits_per_word = 64;

/// Which word of evtchn_pending / evtchn_mask holds `port`.
constexpr uint32_t word_of(uint32_t port) noexcept { return port / bits_per_word; }
/// The bit of `port` within its word.
constexpr uint64_t bit_of(uint32_t port) noexcept { return uint64_t{1} << (port % bits_per_word); }

/// Read a shared word (never torn: an aligned 8-byte load).
inline uint64_t load_word(const uint64_t& w) noexcept { return __atomic_load_n(&w, __ATOMIC_ACQUIRE); }

/// Atomically set `port`'s bit in `words`; true if it was already set.
inline bool test_and_set(uint64_t* words, uint32_t port) noexcept
{
    uint64_t bit = bit_of(port);
    return (__atomic_fetch_or(&words[word_of(port)], bit, __ATOMIC_SEQ_CST) & bit) != 0;
}

/// Atomically clear `port`'s bit in `words`; true if it was set.
inline bool test_and_clear(uint64_t* words, uint32_t port) noexcept
{
    uint64_t bit = bit_of(port);
    return (__atomic_fetch_and(&words[word_of(port)], ~bit, __ATOMIC_SEQ_CST) & bit) != 0;
}

/// Whether `port`'s bit is set in `words`.
inline bool test(const uint64_t* words, uint32_t port) noexcept
{
    return (load_word(words[word_of(port)]) & bit_of(port)) != 0;
}

} // namespace xen::event
