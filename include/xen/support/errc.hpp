/// \file
/// Typed errors: Xen's errno values (public errno.h) plus the library's own.
#pragma once

#include <cstdint>

namespace xen {

/// Why an operation failed. Values 1..999 are Xen's errno numbers, exactly as
/// Xen returns them negated in rax; a value Xen returns that is not named here
/// is kept as is (the enum is open). Values from 1000 up are the library's own
/// and never come from Xen.
enum class Errc : int32_t {
    // Xen errno values: every name in Xen's public errno.h (checked against
    // it by tests/abi). EWOULDBLOCK and EDEADLOCK are Xen's aliases of
    // EAGAIN and EDEADLK.
    eperm = 1,
    enoent = 2,
    esrch = 3,
    eintr = 4, ///< Xen-internal (errno.h under __XEN__); never reaches a guest
    eio = 5,
    enxio = 6,
    e2big = 7,
    enoexec = 8,
    ebadf = 9,
    echild = 10,
    eagain = 11,
    enomem = 12,
    eacces = 13,
    efault = 14,
    ebusy = 16,
    eexist = 17,
    exdev = 18,
    enodev = 19,
    enotdir = 20,
    eisdir = 21,
    einval = 22,
    enfile = 23,
    emfile = 24,
    enospc = 28,
    erofs = 30,
    emlink = 31,
    edom = 33,
    erange = 34,
    edeadlk = 35,
    enametoolong = 36,
    enolck = 37,
    enosys = 38,
    enotempty = 39,
    enodata = 61,
    etime = 62,
    ebadmsg = 74,
    eoverflow = 75,
    eilseq = 84,
    erestart = 85, ///< Xen-internal: a preempted hypercall is restarted, not failed
    enotsock = 88,
    emsgsize = 90,
    eopnotsupp = 95,
    eaddrinuse = 98,
    eaddrnotavail = 99,
    enobufs = 105,
    eisconn = 106,
    enotconn = 107,
    etimedout = 110,
    econnrefused = 111,

    // The library's own: refused before the call, or observed around it.
    invalid_argument = 1000,    ///< an argument the library can judge is wrong
    vcpu_out_of_range = 1001,   ///< vCPU id not below the domain's known vCPU count
    area_misaligned = 1002,     ///< a registered area is not aligned as Xen requires
    area_crosses_page = 1003,   ///< a registered area would straddle a 4 KiB page
    period_too_short = 1004,    ///< periodic timer period below Xen's 1 ms floor
    not_current_vcpu = 1005,    ///< the op acts only on the calling vCPU
    timed_out = 1006,           ///< a bounded wait ran out
    unsupported = 1007,         ///< this Xen (version or guest type) lacks it
    last_vcpu = 1008,           ///< taking it down would power the domain off
    already_initialised = 1009, ///< Xen would answer -EEXIST; not attempted
    busy_retry = 1010,          ///< a seqlock stayed odd / update flag stayed set
    no_space = 1011,            ///< a caller-provided table or ring is full
    port_out_of_range = 1012,   ///< an event-channel port beyond the kernel's handler table
    port_not_bound = 1013,      ///< an event-channel port with no binding in the table
    ring_corrupt = 1014,   ///< a shared ring's indices are more than its size apart: the other end broke the protocol
    suspend_failed = 1015, ///< a suspend did not happen: the domain runs on as before (the report says which step)
    resume_failed =
        1016, ///< a step after the suspend hypercall could not be redone (the report says which, and for which vCPU)
};

/// The name of an error, for logs ("ENOENT", "vcpu_out_of_range", ...).
/// Unknown values give "E?".
constexpr const char* errc_name(Errc e) noexcept
{
    switch (e) {
    case Errc::eperm: return "EPERM";
    case Errc::enoent: return "ENOENT";
    case Errc::esrch: return "ESRCH";
    case Errc::eintr: return "EINTR";
    case Errc::eio: return "EIO";
    case Errc::enxio: return "ENXIO";
    case Errc::e2big: return "E2BIG";
    case Errc::enoexec: return "ENOEXEC";
    case Errc::ebadf: return "EBADF";
    case Errc::echild: return "ECHILD";
    case Errc::eagain: return "EAGAIN";
    case Errc::enomem: return "ENOMEM";
    case Errc::eacces: return "EACCES";
    case Errc::efault: return "EFAULT";
    case Errc::ebusy: return "EBUSY";
    case Errc::eexist: return "EEXIST";
    case Errc::exdev: return "EXDEV";
    case Errc::enodev: return "ENODEV";
    case Errc::enotdir: return "ENOTDIR";
    case Errc::eisdir: return "EISDIR";
    case Errc::einval: return "EINVAL";
    case Errc::enfile: return "ENFILE";
    case Errc::emfile: return "EMFILE";
    case Errc::enospc: return "ENOSPC";
    case Errc::erofs: return "EROFS";
    case Errc::emlink: return "EMLINK";
    case Errc::edom: return "EDOM";
    case Errc::erange: return "ERANGE";
    case Errc::edeadlk: return "EDEADLK";
    case Errc::enametoolong: return "ENAMETOOLONG";
    case Errc::enolck: return "ENOLCK";
    case Errc::enosys: return "ENOSYS";
    case Errc::enotempty: return "ENOTEMPTY";
    case Errc::enodata: return "ENODATA";
    case Errc::etime: return "ETIME";
    case Errc::ebadmsg: return "EBADMSG";
    case Errc::eoverflow: return "EOVERFLOW";
    case Errc::eilseq: return "EILSEQ";
    case Errc::erestart: return "ERESTART";
    case Errc::enotsock: return "ENOTSOCK";
    case Errc::emsgsize: return "EMSGSIZE";
    case Errc::eopnotsupp: return "EOPNOTSUPP";
    case Errc::eaddrinuse: return "EADDRINUSE";
    case Errc::eaddrnotavail: return "EADDRNOTAVAIL";
    case Errc::enobufs: return "ENOBUFS";
    case Errc::eisconn: return "EISCONN";
    case Errc::enotconn: return "ENOTCONN";
    case Errc::etimedout: return "ETIMEDOUT";
    case Errc::econnrefused: return "ECONNREFUSED";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::vcpu_out_of_range: return "vcpu_out_of_range";
    case Errc::area_misaligned: return "area_misaligned";
    case Errc::area_crosses_page: return "area_crosses_page";
    case Errc::period_too_short: return "period_too_short";
    case Errc::not_current_vcpu: return "not_current_vcpu";
    case Errc::timed_out: return "timed_out";
    case Errc::unsupported: return "unsupported";
    case Errc::last_vcpu: return "last_vcpu";
    case Errc::already_initialised: return "already_initialised";
    case Errc::busy_retry: return "busy_retry";
    case Errc::no_space: return "no_space";
    case Errc::port_out_of_range: return "port_out_of_range";
    case Errc::port_not_bound: return "port_not_bound";
    case Errc::ring_corrupt: return "ring_corrupt";
    case Errc::suspend_failed: return "suspend_failed";
    case Errc::resume_failed: return "resume_failed";
    }
    return "E?";
}

/// True for the errors that come from Xen itself rather than the library.
constexpr bool is_xen_errno(Errc e) noexcept { return static_cast<int32_t>(e) > 0 && static_cast<int32_t>(e) < 1000; }

} // namespace xen
