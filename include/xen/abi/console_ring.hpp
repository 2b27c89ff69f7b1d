/// \file
/// The PV console ring (public io/console.h): one shared page per domU, found
/// through start_info::console.domU (PV: machine frame + event channel) or
/// HVM_PARAM_CONSOLE_PFN / HVM_PARAM_CONSOLE_EVTCHN (PVH: guest frame).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xen::abi {

/// `XENCONS_RING_IDX`: free-running; the slot is the index modulo the ring size.
using xencons_ring_idx = uint32_t;

/// `struct xencons_interface`. The guest produces `out` and consumes `in`;
/// the backend (xenconsoled) the other way round. Indices only grow.
struct xencons_interface {
    char in[1024];             ///< input, backend to guest
    char out[2048];            ///< output, guest to backend
    xencons_ring_idx in_cons;  ///< the guest has read `in` up to here
    xencons_ring_idx in_prod;  ///< the backend has written `in` up to here
    xencons_ring_idx out_cons; ///< the backend has read `out` up to here
    xencons_ring_idx out_prod; ///< the guest has written `out` up to here
};
static_assert(sizeof(xencons_interface) == 3088);
static_assert(offsetof(xencons_interface, out) == 1024);
static_assert(offsetof(xencons_interface, in_cons) == 3072);
static_assert(offsetof(xencons_interface, in_prod) == 3076);
static_assert(offsetof(xencons_interface, out_cons) == 3080);
static_assert(offsetof(xencons_interface, out_prod) == 3084);

} // namespace xen::abi
