/// \file
/// The xenstore wire protocol and ring (public io/xs_wire.h): a domU talks
/// to xenstored through one shared page, found through start_info::store_mfn
/// and store_evtchn (PV) or HVM_PARAM_STORE_PFN / STORE_EVTCHN (PVH).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xen::abi {

/// `enum xsd_sockmsg_type`: the message types this library sends or reads.
enum class xsd_sockmsg_type : uint32_t {
    control = 0, ///< XS_CONTROL (was XS_DEBUG)
    directory = 1,
    read = 2,
    get_perms = 3,
    watch = 4,
    unwatch = 5,
    transaction_start = 6,
    transaction_end = 7,
    introduce = 8,
    release = 9,
    get_domain_path = 10,
    write = 11,
    mkdir = 12,
    rm = 13,
    set_perms = 14,
    watch_event = 15, ///< asynchronous: path NUL token NUL, req_id 0
    error = 16,       ///< the reply to a failed request: an errno name, e.g. "ENOENT"
    is_domain_introduced = 17,
    resume = 18,
    set_target = 19,
    reset_watches = 21,
    directory_part = 22,
};

/// `struct xsd_sockmsg`: the header before every request, reply and event.
struct xsd_sockmsg {
    uint32_t type;   ///< xsd_sockmsg_type
    uint32_t req_id; ///< echoed in the reply
    uint32_t tx_id;  ///< transaction, 0 outside one
    uint32_t len;    ///< payload bytes after the header
};
static_assert(sizeof(xsd_sockmsg) == 16);
static_assert(offsetof(xsd_sockmsg, req_id) == 4);
static_assert(offsetof(xsd_sockmsg, tx_id) == 8);
static_assert(offsetof(xsd_sockmsg, len) == 12);

/// `XENSTORE_RING_SIZE`: bytes in each direction.
inline constexpr uint32_t xenstore_ring_size = 1024;
/// `XENSTORE_PAYLOAD_MAX`: longest payload xenstored accepts or sends.
inline constexpr uint32_t xenstore_payload_max = 4096;

/// `XENSTORE_RING_IDX`: free-running, like the console's.
using xenstore_ring_idx = uint32_t;

/// `struct xenstore_domain_interface`. The guest produces `req` and
/// consumes `rsp`. `server_features`, `connection` and `error` are newer
/// (reconnection, Xen 4.9; error, 4.13) and unused here.
struct xenstore_domain_interface {
    char req[xenstore_ring_size]; ///< requests, guest to xenstored
    char rsp[xenstore_ring_size]; ///< replies and watch events, xenstored to guest
    xenstore_ring_idx req_cons;   ///< xenstored has read `req` up to here
    xenstore_ring_idx req_prod;   ///< the guest has written `req` up to here
    xenstore_ring_idx rsp_cons;   ///< the guest has read `rsp` up to here
    xenstore_ring_idx rsp_prod;   ///< xenstored has written `rsp` up to here
    uint32_t server_features;     ///< `XENSTORE_SERVER_FEATURE_*` xenstored offers (unused here)
    uint32_t connection;          ///< `XENSTORE_CONNECTED` or `XENSTORE_RECONNECT` (unused here)
    uint32_t error;               ///< `XENSTORE_ERROR_*` xenstored saw in the ring (unused here)
};
static_assert(sizeof(xenstore_domain_interface) == 2076);
static_assert(offsetof(xenstore_domain_interface, rsp) == 1024);
static_assert(offsetof(xenstore_domain_interface, req_cons) == 2048);
static_assert(offsetof(xenstore_domain_interface, rsp_prod) == 2060);
static_assert(offsetof(xenstore_domain_interface, server_features) == 2064);
static_assert(offsetof(xenstore_domain_interface, error) == 2072);

} // namespace xen::abi
