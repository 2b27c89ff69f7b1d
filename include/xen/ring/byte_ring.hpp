/// \file
/// One direction of a shared byte ring, the transport of the PV console
/// (public io/console.h, XENCONS_RING_IDX) and of xenstore (public
/// io/xs_wire.h, XENSTORE_RING_IDX): a power-of-two array of bytes and two
/// free-running 32-bit indices. A byte's slot is its index modulo the size,
/// and prod - cons (mod 2^32) is the fill level. The producer stores the
/// bytes, then publishes the new producer index (release); the consumer
/// loads the producer index (acquire) before the bytes, and publishes its
/// consumer index the same way so the producer may reuse the slots.
///
/// The other end lives in another domain and may write anything into the
/// indices. Every operation loads each index once, computes every slot
/// modulo the size from that one value, and copies at most the ring's size,
/// so no index value, however hostile, makes it touch memory outside the
/// array. Indices more than the size apart are a broken protocol:
/// Errc::ring_corrupt, with nothing copied and no index moved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/support/result.hpp>

namespace xen {

/// A view of one direction of a shared byte ring of `Size` bytes (a power
/// of two): the array and its producer and consumer indices, all in the
/// shared page. Holds no state of its own; cheap to make for each call.
/// The guest is either the producer (produce) or the consumer (consume) of
/// a given ring, never both; one vCPU at a time uses each end.
template <uint32_t Size>
class ByteRing {
    static_assert(Size != 0 && (Size & (Size - 1)) == 0, "a shared byte ring's size is a power of two");

public:
    /// The ring's size in bytes.
    static constexpr uint32_t size = Size;

    /// View `data` with indices `prod` and `cons` (fields of the same page).
    constexpr ByteRing(char (&data)[Size], uint32_t& prod, uint32_t& cons) noexcept
        : data_(data), prod_(&prod), cons_(&cons)
    {
    }

    /// Bytes in the ring: produced and not yet consumed. Errors:
    /// ring_corrupt if the indices are more than `Size` apart.
    Result<uint32_t> fill() const noexcept { return checked_fill(load(*prod_), load(*cons_)); }

    /// As the producer: copy the first bytes of `src` that fit (at most
    /// `len`) and publish them with one release store of the producer
    /// index. Returns the bytes copied, 0 when the ring is full. Errors:
    /// ring_corrupt (nothing copied).
    Result<size_t> produce(const char* src, size_t len) noexcept
    {
        const uint32_t cons = load(*cons_);
        uint32_t prod = load(*prod_);
        XEN_TRY_ASSIGN(const uint32_t used, checked_fill(prod, cons));
        const size_t room = Size - used;
        const size_t n = len < room ? len : room;
        if (n == 0)
            return size_t{0};
        const uint32_t at = prod & (Size - 1);
        const size_t first = n < Size - at ? n : Size - at;
        __builtin_memcpy(&data_[at], src, first);
        __builtin_memcpy(&data_[0], src + first, n - first);
        prod += static_cast<uint32_t>(n);
        __atomic_store_n(prod_, prod, __ATOMIC_RELEASE);
        return n;
    }

    /// As the consumer: copy out what the ring holds (at most `cap` bytes)
    /// into `dst`, or drop it unread if `dst` is null, and hand the slots
    /// back with one release store of the consumer index. Returns the bytes
    /// taken, 0 when the ring is empty. Errors: ring_corrupt (nothing taken).
    Result<size_t> consume(char* dst, size_t cap) noexcept
    {
        const uint32_t prod = load(*prod_);
        uint32_t cons = load(*cons_);
        XEN_TRY_ASSIGN(const uint32_t used, checked_fill(prod, cons));
        const size_t n = cap < used ? cap : used;
        if (n == 0)
            return size_t{0};
        if (dst != nullptr) {
            const uint32_t at = cons & (Size - 1);
            const size_t first = n < Size - at ? n : Size - at;
            __builtin_memcpy(dst, &data_[at], first);
            __builtin_memcpy(dst + first, &data_[0], n - first);
        }
        cons += static_cast<uint32_t>(n);
        __atomic_store_n(cons_, cons, __ATOMIC_RELEASE);
        return n;
    }

private:
    // Each index is loaded once per operation (an atomic load the compiler
    // cannot repeat); acquire orders the byte accesses after it.
    static uint32_t load(const uint32_t& index) noexcept { return __atomic_load_n(&index, __ATOMIC_ACQUIRE); }

    static Result<uint32_t> checked_fill(uint32_t prod, uint32_t cons) noexcept
    {
        const uint32_t used = prod - cons; // modulo 2^32: the indices run free
        if (used > Size)
            return err(Errc::ring_corrupt);
        return used;
    }

    char* data_;
    uint32_t* prod_;
    uint32_t* cons_;
};

} // namespace xen
