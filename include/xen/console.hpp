/// \file
/// The PV console of a domU: a shared page of two byte rings (abi/
/// console_ring.hpp) and an event channel to the backend (xenconsoled in
/// dom0). Dom0 has console_io instead; a domU without a debug Xen has only
/// this. The guest writes `out` and reads `in`; it tells the backend with
/// EVTCHNOP_send after it has moved a producer or consumer index.
///
/// One ConsoleRing serves one vCPU at a time: the caller serialises writers
/// (the ring has a single producer index).
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
    /// Called while the output ring is full, before looking again (e.g.
    /// SCHEDOP_yield so the backend's vCPU can run). `ctx` is passed through.
    using WaitFn = void (*)(void* ctx) noexcept;

    /// Attach to a ring the toolstack set up; `ring` must stay mapped.
    /// Nothing is checked here: a wrong page only shows as lost output.
    ConsoleRing(abi::xencons_interface* ring, hc::Port port) noexcept : ring_(ring), port_(port) {}

    /// Copy as much of `text` as the output ring has room for and notify
    /// the backend if anything was copied. Returns the bytes copied (0 when
    /// the ring is full). Errors: ring_corrupt (nothing copied); the error
    /// of EVTCHNOP_send (the bytes are in the ring then, and the backend
    /// sees them at its next look).
    Result<size_t> write_some(const char* text, size_t len) noexcept;

    /// Write all of `text`, calling `wait` (at most `max_waits` times in a
    /// row without progress) while the ring is full. Errors: timed_out if
    /// the backend stopped draining (the bytes written so far stay
    /// written); those of write_some.
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
    abi::xencons_interface* ring_;
    hc::Port port_;
};

} // namespace xen
