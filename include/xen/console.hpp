/// \file
/// The PV console of a domU: a shared page of two byte rings (abi/
/// console_ring.hpp) and an event channel to the backend (xenconsoled in
/// dom0). Dom0 has console_io instead; a domU without a debug Xen has only
/// this. The guest writes `out` and reads `in`; it tells the backend with
/// EVTCHNOP_send after it has moved a producer or consumer index.
///
/// Several vCPUs may write at once: `write` holds the ring's own writer lock
/// for the whole text, so the backend sees each call's bytes together, in
/// the order the calls took the lock, and one writer's calls in its own
/// order (docs/console.md). The lock is a word in this object, no heap;
/// waiting for it is bounded like waiting for room. `write_some` takes no
/// lock: the caller serialises it. `read` has one consumer at a time.
///
/// A backend that moved its index more than the ring's size away from ours
/// has broken the protocol: every call then fails with Errc::ring_corrupt,
/// copying nothing, moving no index and sending no event, until the backend
/// puts its index back (ring/byte_ring.hpp). Nothing any index holds makes
/// the ring read or write outside its page.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/abi/console_ring.hpp>
#include <xen/hypercall/event_channel_op.hpp>
#include <xen/support/result.hpp>

namespace xen {

/// A domU's console ring and its event channel.
class ConsoleRing {
public:
    /// Called while the output ring is full or another vCPU holds the
    /// writer lock, before looking again (e.g. SCHEDOP_yield so the
    /// backend's vCPU, or the lock holder's, can run). `ctx` is passed through.
    using WaitFn = void (*)(void* ctx) noexcept;

    /// Spins on a held writer lock (each with a pause) between two calls
    /// of the WaitFn, which a waiter makes whether or not the ring moved.
    static constexpr uint32_t lock_spins_per_wait = 256;

    /// Attach to a ring the toolstack set up; `ring` must stay mapped.
    /// Nothing is checked here: a wrong page only shows as lost output.
    ConsoleRing(abi::xencons_interface* ring, hc::Port port) noexcept : ring_(ring), port_(port) {}

    /// Copy as much of `text` as the output ring has room for and notify
    /// the backend if anything was copied. Returns the bytes copied (0 when
    /// the ring is full). Takes no lock: the caller makes sure no other
    /// vCPU writes meanwhile (or uses `write`). Errors: ring_corrupt
    /// (nothing copied); the error of EVTCHNOP_send (the bytes are in the
    /// ring then, and the backend sees them at its next look).
    Result<size_t> write_some(const char* text, size_t len) noexcept;

    /// Write all of `text` as one unit: take the writer lock, copy, waiting
    /// while the ring is full, and release it. No other `write` puts bytes
    /// between these. Waiting (for the lock or for room) calls `wait` at
    /// most `max_waits` times in a row without progress, where progress is
    /// any move of the ring's producer or consumer index (another writer's
    /// or the backend's): a waiter never gives up while the ring moves.
    /// Never call it where the caller may have interrupted its own vCPU
    /// inside `write` (an NMI handler; an upcall handler unless upcalls
    /// are held off around every write): the lock is not recursive, and
    /// such a call waits out its bound and fails. Errors: timed_out
    /// (nothing written if the lock was never taken; otherwise the bytes
    /// written so far stay written: the backend stopped draining); those
    /// of write_some.
    Result<void> write(const char* text, size_t len, WaitFn wait, void* ctx, uint32_t max_waits) noexcept;

    /// Copy up to `cap` bytes of input into `buf` and tell the backend there
    /// is room again. Returns the bytes copied (0 when none are waiting).
    /// Errors: ring_corrupt (nothing taken); the error of EVTCHNOP_send.
    Result<size_t> read(char* buf, size_t cap) noexcept;

    /// Bytes of input waiting to be read. Errors: ring_corrupt.
    Result<size_t> input_pending() const noexcept;

    /// Bytes of output the backend has not consumed yet. Errors: ring_corrupt.
    Result<size_t> output_pending() const noexcept;

    /// The event channel to the backend.
    hc::Port port() const noexcept { return port_; }

private:
    Result<void> lock(WaitFn wait, void* ctx, uint32_t max_waits) noexcept;
    void unlock() noexcept;
    Result<void> write_locked(const char* text, size_t len, WaitFn wait, void* ctx, uint32_t max_waits) noexcept;
    uint64_t indices() const noexcept;

    abi::xencons_interface* ring_;
    hc::Port port_;
    uint32_t writer_ = 0; // the writer lock: 1 while a write() holds the ring
};

} // namespace xen
