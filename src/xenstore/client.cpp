// The xenstore wire protocol (public io/xs_wire.h, docs/misc/xenstore.txt):
// every message is a 16-byte xsd_sockmsg header and `len` payload bytes, in
// two byte rings of 1024 (ByteRing, as the console's). A message may be
// longer than the ring, so both directions move in pieces: write what fits,
// notify, wait for room. Replies come in request order; XS_WATCH_EVENT
// messages (req_id 0) may come before any reply.
#include <xen/xenstore.hpp>

#include <xen/ring/byte_ring.hpp>

namespace xen {

namespace {

using Ring = ByteRing<abi::xenstore_ring_size>;

Ring requests(abi::xenstore_domain_interface& r) noexcept { return Ring(r.req, r.req_prod, r.req_cons); }
Ring replies(abi::xenstore_domain_interface& r) noexcept { return Ring(r.rsp, r.rsp_prod, r.rsp_cons); }

size_t length(const char* s) noexcept
{
    size_t n = 0;
    while (s[n] != '\0')
        ++n;
    return n;
}

bool equal(const char* a, size_t len, const char* b) noexcept
{
    size_t i = 0;
    for (; i < len && b[i] != '\0'; ++i)
        if (a[i] != b[i])
            return false;
    return i == len && b[i] == '\0';
}

// XS_ERROR carries the errno's name (xsd_errors[] in xs_wire.h).
Errc error_from_name(const char* name, size_t len) noexcept
{
    while (len > 0 && name[len - 1] == '\0')
        --len;
    struct Named {
        const char* name;
        Errc errc;
    };
    static constexpr Named names[] = {
        {"EINVAL", Errc::einval},       {"EACCES", Errc::eacces},   {"EEXIST", Errc::eexist}, {"EISDIR", Errc::eisdir},
        {"ENOENT", Errc::enoent},       {"ENOMEM", Errc::enomem},   {"ENOSPC", Errc::enospc}, {"EIO", Errc::eio},
        {"ENOTEMPTY", Errc::enotempty}, {"ENOSYS", Errc::enosys},   {"EROFS", Errc::erofs},   {"EBUSY", Errc::ebusy},
        {"EAGAIN", Errc::eagain},       {"EISCONN", Errc::eisconn}, {"E2BIG", Errc::e2big},   {"EPERM", Errc::eperm},
    };
    for (const auto& n : names)
        if (equal(name, len, n.name))
            return n.errc;
    return Errc::eio; // a name this list does not know (EQUOTA, ...)
}

} // namespace

void XenStore::wait() noexcept
{
    if (wait_ != nullptr)
        wait_(ctx_);
}

Result<size_t> XenStore::put_some(const char* data, size_t len) noexcept
{
    XEN_TRY_ASSIGN(const size_t n, requests(*ring_).produce(data, len));
    if (n > 0)
        XEN_TRY(hc::evtchn_send(port_));
    return n;
}

Result<size_t> XenStore::take_some(char* data, size_t len) noexcept
{
    XEN_TRY_ASSIGN(const size_t n, replies(*ring_).consume(data, len));
    if (n > 0)
        XEN_TRY(hc::evtchn_send(port_)); // xenstored may be waiting for room to write the rest of a reply
    return n;
}

Result<void> XenStore::take_exact(char* data, size_t& len, bool may_wait) noexcept
{
    // `len` counts down as bytes arrive, so a caller that gives up knows how
    // much of the message is still in the stream.
    uint32_t waits = 0;
    while (len > 0) {
        XEN_TRY_ASSIGN(const size_t n, take_some(data, len));
        if (n == 0) {
            if (!may_wait || waits++ == max_waits_)
                return err(Errc::timed_out);
            wait();
            continue;
        }
        waits = 0;
        if (data != nullptr)
            data += n;
        len -= n;
    }
    return ok();
}

Result<void> XenStore::take_part(char* data, size_t len, size_t after) noexcept
{
    auto r = take_exact(data, len, true);
    if (!r.has_value())
        skip_len_ = len + after; // the next call drops the rest of this message first
    return r;
}

Result<void> XenStore::flush_unsent() noexcept
{
    uint32_t waits = 0;
    while (unsent_len_ > 0) {
        XEN_TRY_ASSIGN(const size_t n, put_some(unsent_ + unsent_at_, unsent_len_));
        if (n == 0) {
            if (waits++ == max_waits_)
                return err(Errc::timed_out);
            wait();
            continue;
        }
        waits = 0;
        unsent_at_ += n;
        unsent_len_ -= n;
    }
    return ok();
}

Result<void> XenStore::send(abi::xsd_sockmsg_type type, const char* const* parts, const size_t* lens,
                            unsigned count) noexcept
{
    // Refused before the first byte: a header announcing bytes that never
    // follow would leave xenstored waiting for them and every later message
    // out of step.
    if (count > max_parts || (count != 0 && (parts == nullptr || lens == nullptr)))
        return err(Errc::invalid_argument);
    size_t total = 0;
    for (unsigned i = 0; i < count; ++i)
        total += lens[i];
    if (total > abi::xenstore_payload_max)
        return err(Errc::e2big);
    // The rest of a request an earlier call gave up on goes first:
    // xenstored is waiting for it.
    XEN_TRY(flush_unsent());
    const abi::xsd_sockmsg header{static_cast<uint32_t>(type), next_req_id_, 0, static_cast<uint32_t>(total)};
    const char* pieces[max_parts + 1] = {reinterpret_cast<const char*>(&header)};
    size_t sizes[max_parts + 1] = {sizeof(header)};
    for (unsigned i = 0; i < count; ++i) {
        pieces[i + 1] = parts[i];
        sizes[i + 1] = lens[i];
    }
    bool begun = false;
    uint32_t waits = 0;
    for (unsigned i = 0; i <= count; ++i) {
        const char* p = pieces[i];
        size_t left = sizes[i];
        while (left > 0) {
            Result<size_t> put = put_some(p, left);
            Errc failure{};
            if (!put.has_value())
                failure = put.error();
            else if (*put == 0 && waits++ == max_waits_)
                failure = Errc::timed_out;
            if (failure != Errc{}) {
                if (begun) {
                    // Part of this request is in the ring: keep the rest
                    // for the next call, so xenstored gets it whole.
                    unsent_at_ = 0;
                    unsent_len_ = 0;
                    for (unsigned j = i; j <= count; ++j) {
                        const char* from = j == i ? p : pieces[j];
                        const size_t n = j == i ? left : sizes[j];
                        __builtin_memcpy(unsent_ + unsent_len_, from, n);
                        unsent_len_ += n;
                    }
                    bump_req_id(); // the id is taken: its reply will come
                }
                return err(failure);
            }
            if (*put == 0) {
                wait();
                continue;
            }
            begun = true;
            waits = 0;
            p += *put;
            left -= *put;
        }
    }
    bump_req_id();
    return ok();
}

void XenStore::bump_req_id() noexcept
{
    ++next_req_id_;
    if (next_req_id_ == 0)
        next_req_id_ = 1; // 0 is what watch events carry
}

void XenStore::queue_event(const char* body, size_t len) noexcept
{
    if (queue_count_ == queue_size) {
        // Keep the newest: a hotplug request that follows an older one wins.
        queue_head_ = (queue_head_ + 1) % queue_size;
        --queue_count_;
        ++dropped_;
    }
    XenStoreWatchEvent& e = queue_[(queue_head_ + queue_count_) % queue_size];
    ++queue_count_;
    e = XenStoreWatchEvent{};
    // body: path NUL token NUL.
    size_t i = 0, o = 0;
    for (; i < len && body[i] != '\0'; ++i)
        if (o + 1 < sizeof(e.path))
            e.path[o++] = body[i];
        else
            e.truncated = true;
    ++i;
    o = 0;
    for (; i < len && body[i] != '\0'; ++i)
        if (o + 1 < sizeof(e.token))
            e.token[o++] = body[i];
        else
            e.truncated = true;
}

Result<bool> XenStore::receive(bool may_wait, abi::xsd_sockmsg& header, char* body, size_t cap, size_t& got) noexcept
{
    if (out_of_step_)
        return err(Errc::eio);
    // An earlier call gave up (timed_out, ring_corrupt) in the middle of a
    // message: its rest comes first in the stream. Drop it, so that the
    // next header read is a header.
    while (skip_len_ > 0) {
        size_t left = skip_len_;
        auto r = take_exact(nullptr, left, may_wait);
        skip_len_ = left;
        if (!r.has_value()) {
            if (!may_wait && r.error() == Errc::timed_out)
                return false;
            return err(r.error());
        }
    }
    if (!may_wait && header_got_ == 0) {
        XEN_TRY_ASSIGN(const uint32_t waiting, replies(*ring_).fill());
        if (waiting == 0)
            return false;
    }
    // Once a message has begun, the rest of it is on its way: wait for it.
    // Header bytes taken by a call that gave up are kept for the next.
    size_t left = sizeof(header_) - header_got_;
    auto r = take_exact(header_ + header_got_, left, true);
    header_got_ = static_cast<uint32_t>(sizeof(header_) - left);
    if (!r.has_value())
        return err(r.error());
    header_got_ = 0;
    __builtin_memcpy(&header, header_, sizeof(header));
    if (header.len > abi::xenstore_payload_max) {
        // Out of step with xenstored: where the next message starts is
        // unknown, so nothing after this is read at all.
        out_of_step_ = true;
        return err(Errc::eio);
    }
    if (header.type == static_cast<uint32_t>(abi::xsd_sockmsg_type::watch_event)) {
        char event[sizeof(XenStoreWatchEvent::path) + sizeof(XenStoreWatchEvent::token) + 2];
        const size_t keep = header.len < sizeof(event) ? header.len : sizeof(event);
        XEN_TRY(take_part(event, keep, header.len - keep));
        queue_event(event, keep);
        if (keep < header.len)
            queue_[(queue_head_ + queue_count_ - 1) % queue_size].truncated = true;
        XEN_TRY(take_part(nullptr, header.len - keep, 0));
        got = 0;
        return true;
    }
    if (header.type == static_cast<uint32_t>(abi::xsd_sockmsg_type::error)) {
        // The errno's name, whatever room the caller left for a reply: a
        // name cut to fit `body` would be unknown, and so misreported.
        const size_t keep = header.len < sizeof(error_name_) ? header.len : sizeof(error_name_);
        XEN_TRY(take_part(error_name_, keep, header.len - keep));
        XEN_TRY(take_part(nullptr, header.len - keep, 0));
        error_len_ = static_cast<uint32_t>(keep);
        got = header.len;
        return true;
    }
    const size_t keep = header.len < cap ? header.len : cap;
    XEN_TRY(take_part(body, keep, header.len - keep));
    XEN_TRY(take_part(nullptr, header.len - keep, 0));
    got = header.len;
    return true;
}

Result<size_t> XenStore::request(abi::xsd_sockmsg_type type, const char* const* parts, const size_t* lens,
                                 unsigned count, char* body, size_t cap) noexcept
{
    const uint32_t id = next_req_id_;
    XEN_TRY(send(type, parts, lens, count));
    for (;;) {
        abi::xsd_sockmsg header{};
        size_t got = 0;
        XEN_TRY(receive(true, header, body, cap, got));
        if (header.type == static_cast<uint32_t>(abi::xsd_sockmsg_type::watch_event) || header.req_id != id)
            continue;
        if (header.type == static_cast<uint32_t>(abi::xsd_sockmsg_type::error))
            return err(error_from_name(error_name_, error_len_));
        if (got > cap)
            return err(Errc::emsgsize);
        return got;
    }
}

Result<size_t> XenStore::read(const char* path, char* buf, size_t cap) noexcept
{
    if (cap == 0)
        return err(Errc::invalid_argument);
    const char* parts[] = {path};
    const size_t lens[] = {length(path) + 1};
    auto n = request(abi::xsd_sockmsg_type::read, parts, lens, 1, buf, cap);
    if (!n) {
        buf[0] = '\0';
        return n;
    }
    // The value is not NUL-terminated on the wire; it needs one more byte.
    if (*n >= cap) {
        buf[cap - 1] = '\0';
        return err(Errc::emsgsize);
    }
    buf[*n] = '\0';
    return n;
}

Result<void> XenStore::write(const char* path, const char* value) noexcept
{
    // XS_WRITE: path NUL value (the value without a NUL).
    const char* parts[] = {path, value};
    const size_t lens[] = {length(path) + 1, length(value)};
    char reply[8];
    XEN_TRY(request(abi::xsd_sockmsg_type::write, parts, lens, 2, reply, sizeof(reply)));
    return ok();
}

Result<void> XenStore::watch(const char* path, const char* token) noexcept
{
    const char* parts[] = {path, token};
    const size_t lens[] = {length(path) + 1, length(token) + 1};
    char reply[8];
    XEN_TRY(request(abi::xsd_sockmsg_type::watch, parts, lens, 2, reply, sizeof(reply)));
    return ok();
}

Result<void> XenStore::unwatch(const char* path, const char* token) noexcept
{
    const char* parts[] = {path, token};
    const size_t lens[] = {length(path) + 1, length(token) + 1};
    char reply[8];
    XEN_TRY(request(abi::xsd_sockmsg_type::unwatch, parts, lens, 2, reply, sizeof(reply)));
    return ok();
}

Result<bool> XenStore::next_watch_event(XenStoreWatchEvent& out) noexcept
{
    for (;;) {
        if (queue_count_ > 0) {
            out = queue_[queue_head_];
            queue_head_ = (queue_head_ + 1) % queue_size;
            --queue_count_;
            return true;
        }
        abi::xsd_sockmsg header{};
        char body[8];
        size_t got = 0;
        XEN_TRY_ASSIGN(const bool any, receive(false, header, body, sizeof(body), got));
        if (!any)
            return false;
        // A reply nobody waits for (a request that timed out earlier): dropped.
    }
}

} // namespace xen
