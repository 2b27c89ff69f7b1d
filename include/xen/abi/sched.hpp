/// \file
/// Scheduler operations (public sched.h): sched_op(int cmd, void* arg).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xen::abi {

/// `SCHEDOP_*`.
enum class schedop : int32_t {
    yield = 0,    ///< give up the pCPU, stay runnable
    block = 1,    ///< sleep until an event; clears the upcall mask (no lost wake-up)
    shutdown = 2, ///< arg: sched_shutdown
    poll = 3,     ///< arg: sched_poll; wait for one of some ports, with timeout
    remote_shutdown = 4,
    shutdown_code = 5,
    watchdog = 6,
    pin_override = 7,
};

/// `SHUTDOWN_*` reasons.
enum class shutdown_reason : uint32_t {
    poweroff = 0,
    reboot = 1,
    suspend = 2,
    crash = 3,
    watchdog = 4,
    soft_reset = 5,
};

/// `struct sched_shutdown`.
struct sched_shutdown {
    uint32_t reason; ///< a shutdown_reason
};
static_assert(sizeof(sched_shutdown) == 4);

/// `struct sched_poll`: `ports` is a guest handle (a pointer on x86-64).
struct sched_poll {
    uint64_t ports;    ///< address of an evtchn_port array
    uint32_t nr_ports; ///< entries in that array
    uint32_t pad0;     ///< zero
    uint64_t timeout;  ///< absolute system time; 0 = none
};
static_assert(sizeof(sched_poll) == 24);
static_assert(offsetof(sched_poll, nr_ports) == 8);
static_assert(offsetof(sched_poll, timeout) == 16);

} // namespace xen::abi
