/// \file
/// Event-channel operations (public event_channel.h), hypercall
/// event_channel_op(int cmd, void* arg), and the VIRQ numbers (xen.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xen::abi {

/// `evtchn_port_t`.
using evtchn_port = uint32_t;

/// `EVTCHNOP_*`.
enum class evtchnop : int32_t {
    bind_interdomain = 0,
    bind_virq = 1,
    bind_pirq = 2,
    close = 3,
    send = 4,
    status = 5,
    alloc_unbound = 6,
    bind_ipi = 7,
    bind_vcpu = 8,
    unmask = 9,
    reset = 10,
    init_control = 11,
    expand_array = 12,
    set_priority = 13,
};

/// `VIRQ_*`: virtual interrupts. "V." ones are per vCPU (bound per vCPU).
enum class virq : uint32_t {
    timer = 0,   ///< V. single-shot or periodic timer expired
    debug = 1,   ///< V.
    console = 2, ///< G. (dom0) bytes on the emergency console
    dom_exc = 3,
    tbuf = 4,
    debugger = 6,
    xenoprof = 7,
    con_ring = 8,
    pcpu_state = 9,
    mem_event = 10,
    argo = 11,
    enomem = 12,
    xenpmu = 13,
};

/// `struct evtchn_bind_virq`.
struct evtchn_bind_virq {
    uint32_t virq;    ///< IN
    uint32_t vcpu;    ///< IN
    evtchn_port port; ///< OUT
};
static_assert(sizeof(evtchn_bind_virq) == 12);

/// `struct evtchn_bind_ipi`.
struct evtchn_bind_ipi {
    uint32_t vcpu;    ///< IN
    evtchn_port port; ///< OUT
};
static_assert(sizeof(evtchn_bind_ipi) == 8);

/// `struct evtchn_alloc_unbound`.
struct evtchn_alloc_unbound {
    ///@{
    uint16_t dom, remote_dom; ///< IN: the domain to allocate in (DOMID_SELF) and the one allowed to bind
    ///@}
    evtchn_port port; ///< OUT
};
static_assert(sizeof(evtchn_alloc_unbound) == 8);

/// `struct evtchn_close`, `evtchn_send`, `evtchn_unmask`: just a port.
struct evtchn_close {
    evtchn_port port; ///< IN: the port to close
};
/// `struct evtchn_send`: notify the other end of `port`.
struct evtchn_send {
    evtchn_port port; ///< IN: the port to send on
};
/// `struct evtchn_unmask`: unmask `port` (Xen raises the upcall if it is pending).
struct evtchn_unmask {
    evtchn_port port; ///< IN: the port to unmask
};
static_assert(sizeof(evtchn_close) == 4 && sizeof(evtchn_send) == 4 && sizeof(evtchn_unmask) == 4);

/// `struct evtchn_bind_vcpu`: route a (non-per-vCPU) port to another vCPU.
struct evtchn_bind_vcpu {
    evtchn_port port; ///< IN: the port
    uint32_t vcpu;    ///< IN: the vCPU to notify from now on
};
static_assert(sizeof(evtchn_bind_vcpu) == 8);

/// `EVTCHNSTAT_*`.
enum class evtchn_stat : uint32_t {
    closed = 0,
    unbound = 1,
    interdomain = 2,
    pirq = 3,
    virq = 4,
    ipi = 5,
};

/// `struct evtchn_status` (24 bytes).
struct evtchn_status {
    uint16_t dom;     ///< IN (DOMID_SELF)
    uint16_t pad0;    ///< zero
    evtchn_port port; ///< IN
    uint32_t status;  ///< OUT: evtchn_stat
    uint32_t vcpu;    ///< OUT
    union {
        struct {
            uint16_t dom;
        } unbound;
        struct {
            uint16_t dom;
            uint16_t pad;
            evtchn_port port;
        } interdomain;
        uint32_t pirq;
        uint32_t virq;
    } u; ///< OUT: what the port is bound to, by `status`
};
static_assert(sizeof(evtchn_status) == 24);
static_assert(offsetof(evtchn_status, port) == 4);
static_assert(offsetof(evtchn_status, status) == 8);
static_assert(offsetof(evtchn_status, vcpu) == 12);
static_assert(offsetof(evtchn_status, u) == 16);

} // namespace xen::abi
