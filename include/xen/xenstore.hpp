/// \file
/// A minimal xenstore client for a domU: one request at a time over the
/// shared ring page (abi/xenstore.hpp) and its event channel, as xenstored
/// serves it. Read, write, watch and unwatch, plus the watch events that
/// arrive between replies. No transactions: each request here touches one
/// node, which xenstored applies atomically.
///
/// Waiting is the caller's: the client calls WaitFn while the request ring
/// has no room or no reply has come, and gives up with Errc::timed_out after
/// `max_waits` calls in a row without progress. One vCPU at a time.
///
/// A xenstored that moved an index of either ring more than the ring's size
/// away from the other has broken the protocol: requests then fail with
/// Errc::ring_corrupt (nothing copied, no index moved), as the console's do
/// (ring/byte_ring.hpp). A reply header longer than XENSTORE_PAYLOAD_MAX is
/// Errc::eio: the stream is out of step and nothing after it is reliable,
/// so every later call fails with Errc::eio too. A call that gives up in
/// the middle of a message (timed_out, ring_corrupt) keeps its place in the
/// stream: the next call finishes that message first (an abandoned reply's
/// rest is dropped), so a slow xenstored costs one request, not the ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/abi/xenstore.hpp>
#include <xen/hypercall/event_channel_op.hpp>
#include <xen/support/result.hpp>

namespace xen {

/// One watch event: the node that changed and the watch's token.
struct XenStoreWatchEvent {
    char path[128]; ///< NUL-terminated; cut at 127 bytes (truncated says so)
    char token[32]; ///< NUL-terminated; cut at 31 bytes
    bool truncated; ///< the path or the token was cut (or the event was longer than kept)
};

/// What the toolstack asks of one vCPU through `cpu/<N>/availability`
/// (`xl vcpu-set` writes "online" or "offline" for every N it manages).
struct CpuAvailability {
    uint32_t vcpu; ///< N, below the domain's vCPU count
    bool online;   ///< "online" (true) or "offline" (false)
};

/// Parse a `cpu/<N>/availability` path (relative, as a watch on "cpu"
/// reports it, or under `/local/domain/<id>/`) and its value. Errors:
/// invalid_argument (another path, N not a plain decimal number, or a value
/// other than "online"/"offline"); vcpu_out_of_range (N >= `vcpu_count`).
Result<CpuAvailability> parse_cpu_availability(const char* path, const char* value, uint32_t vcpu_count) noexcept;

/// What `control/shutdown` asks for (`xl shutdown`, `xl reboot`, ...).
enum class ShutdownRequest : uint8_t {
    none,     ///< empty: nothing asked, or our own acknowledgement
    poweroff, ///< "poweroff" (also "halt", which older toolstacks wrote)
    reboot,   ///< "reboot"
    suspend,  ///< "suspend" (save / migration)
    crash,    ///< "crash"
};

/// Parse the value of `control/shutdown`. Errors: invalid_argument for a
/// value the toolstack does not write. The guest acknowledges a request by
/// writing "" back before it acts, as Linux does.
Result<ShutdownRequest> parse_shutdown_request(const char* value) noexcept;

/// The client end of the xenstore ring.
class XenStore {
public:
    /// Called while waiting for room or a reply (e.g. SCHEDOP_yield, or a
    /// poll of the port). `ctx` is passed through.
    using WaitFn = void (*)(void* ctx) noexcept;

    /// Attach to the ring the toolstack set up; `ring` must stay mapped.
    XenStore(abi::xenstore_domain_interface* ring, hc::Port port, WaitFn wait, void* ctx, uint32_t max_waits) noexcept
        : ring_(ring), port_(port), wait_(wait), ctx_(ctx), max_waits_(max_waits)
    {
    }

    /// XS_READ: the value at `path` (relative paths are under the domain's
    /// home, `/local/domain/<id>/`), NUL-terminated in `buf`; returns its
    /// length. Errc::enoent if there is no such node, another Errc for the
    /// error xenstored names, Errc::emsgsize if `cap` is too small (the
    /// reply is consumed), Errc::timed_out if xenstored does not answer,
    /// Errc::ring_corrupt or Errc::eio if it broke the ring protocol.
    Result<size_t> read(const char* path, char* buf, size_t cap) noexcept;

    /// XS_WRITE: set `path` to `value` (created if missing). Errors as read.
    Result<void> write(const char* path, const char* value) noexcept;

    /// XS_WATCH: report changes at or below `path` with `token`. Xenstored
    /// sends one event at once (the "initial" event), then one per change.
    Result<void> watch(const char* path, const char* token) noexcept;

    /// XS_UNWATCH: stop the watch with this path and token.
    Result<void> unwatch(const char* path, const char* token) noexcept;

    /// Take the oldest watch event received so far, reading whatever the
    /// ring holds without waiting. Returns false when there is none.
    /// Errors: as read.
    Result<bool> next_watch_event(XenStoreWatchEvent& out) noexcept;

    /// Watch events thrown away because the queue was full.
    uint32_t dropped_events() const noexcept { return dropped_; }

    /// Payload parts one request may have (request's `count`).
    static constexpr unsigned max_parts = 4;

    /// Any other request (XS_DIRECTORY, XS_MKDIR, XS_RM, XS_GET_PERMS,
    /// XS_SET_PERMS, ...): one message of `type` whose payload is the
    /// `count` parts `parts[i]` of `lens[i]` bytes each, sent back to back
    /// (a part that xs_wire.h wants NUL-terminated must count its NUL).
    /// The reply payload goes to `body` (at most `cap` bytes); returns its
    /// length. Watch events that arrive first are queued. Errors:
    /// invalid_argument (more than max_parts parts, or null arrays) and
    /// e2big (payload beyond XENSTORE_PAYLOAD_MAX), both before anything is
    /// written; emsgsize (the reply is longer than `cap`; it is consumed),
    /// the error xenstored names, and those of read.
    Result<size_t> request(abi::xsd_sockmsg_type type, const char* const* parts, const size_t* lens, unsigned count,
                           char* body, size_t cap) noexcept;

private:
    static constexpr unsigned queue_size = 8;

    Result<void> send(abi::xsd_sockmsg_type type, const char* const* parts, const size_t* lens,
                      unsigned count) noexcept;
    Result<void> flush_unsent() noexcept;
    void bump_req_id() noexcept;
    Result<size_t> put_some(const char* data, size_t len) noexcept;
    Result<size_t> take_some(char* data, size_t len) noexcept;
    Result<void> take_exact(char* data, size_t& len, bool may_wait) noexcept;
    // take_exact(data, len, true); on failure, remember that `len` left of
    // this part and `after` more bytes of the message are still to come.
    Result<void> take_part(char* data, size_t len, size_t after) noexcept;
    // Read one whole message: a reply lands in `body`, an event in the queue.
    Result<bool> receive(bool may_wait, abi::xsd_sockmsg& header, char* body, size_t cap, size_t& got) noexcept;
    void queue_event(const char* body, size_t len) noexcept;
    void wait() noexcept;

    abi::xenstore_domain_interface* ring_;
    hc::Port port_;
    WaitFn wait_;
    void* ctx_;
    uint32_t max_waits_;
    uint32_t next_req_id_ = 1;
    XenStoreWatchEvent queue_[queue_size]{};
    unsigned queue_head_ = 0;
    unsigned queue_count_ = 0;
    uint32_t dropped_ = 0;
    // Where the reply stream stands between calls: header bytes of a message
    // taken so far, payload bytes of an abandoned message still to drop,
    // and whether a bad header put it out of step for good.
    char header_[sizeof(abi::xsd_sockmsg)] = {};
    uint32_t header_got_ = 0;
    size_t skip_len_ = 0;
    bool out_of_step_ = false;
    // The name in the last XS_ERROR reply (the longest xenstored sends,
    // "ENOTEMPTY", fits with room to spare).
    char error_name_[16] = {};
    uint32_t error_len_ = 0;
    // The rest of a request a call gave up on after its first bytes went
    // out: sent before anything else, so xenstored never sees it cut.
    char unsent_[sizeof(abi::xsd_sockmsg) + abi::xenstore_payload_max] = {};
    size_t unsent_at_ = 0;
    size_t unsent_len_ = 0;
};

} // namespace xen
