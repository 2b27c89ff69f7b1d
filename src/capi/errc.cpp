// The C API's error enum is xen::Errc, value for value: checked here, one
// static_assert per value, so that a new Errc cannot be forgotten in C
// without the library failing to build (the count check below).
#include "capi.hpp"

namespace xen::capi {
namespace {

#define XENVCPU_SAME(c, e) static_assert(static_cast<int32_t>(c) == static_cast<int32_t>(Errc::e), #c)
XENVCPU_SAME(XENVCPU_EPERM, eperm);
XENVCPU_SAME(XENVCPU_ENOENT, enoent);
XENVCPU_SAME(XENVCPU_ESRCH, esrch);
XENVCPU_SAME(XENVCPU_EINTR, eintr);
XENVCPU_SAME(XENVCPU_EIO, eio);
XENVCPU_SAME(XENVCPU_ENXIO, enxio);
XENVCPU_SAME(XENVCPU_E2BIG, e2big);
XENVCPU_SAME(XENVCPU_ENOEXEC, enoexec);
XENVCPU_SAME(XENVCPU_EBADF, ebadf);
XENVCPU_SAME(XENVCPU_ECHILD, echild);
XENVCPU_SAME(XENVCPU_EAGAIN, eagain);
XENVCPU_SAME(XENVCPU_ENOMEM, enomem);
XENVCPU_SAME(XENVCPU_EACCES, eacces);
XENVCPU_SAME(XENVCPU_EFAULT, efault);
XENVCPU_SAME(XENVCPU_EBUSY, ebusy);
XENVCPU_SAME(XENVCPU_EEXIST, eexist);
XENVCPU_SAME(XENVCPU_EXDEV, exdev);
XENVCPU_SAME(XENVCPU_ENODEV, enodev);
XENVCPU_SAME(XENVCPU_ENOTDIR, enotdir);
XENVCPU_SAME(XENVCPU_EISDIR, eisdir);
XENVCPU_SAME(XENVCPU_EINVAL, einval);
XENVCPU_SAME(XENVCPU_ENFILE, enfile);
XENVCPU_SAME(XENVCPU_EMFILE, emfile);
XENVCPU_SAME(XENVCPU_ENOSPC, enospc);
XENVCPU_SAME(XENVCPU_EROFS, erofs);
XENVCPU_SAME(XENVCPU_EMLINK, emlink);
XENVCPU_SAME(XENVCPU_EDOM, edom);
XENVCPU_SAME(XENVCPU_ERANGE, erange);
XENVCPU_SAME(XENVCPU_EDEADLK, edeadlk);
XENVCPU_SAME(XENVCPU_ENAMETOOLONG, enametoolong);
XENVCPU_SAME(XENVCPU_ENOLCK, enolck);
XENVCPU_SAME(XENVCPU_ENOSYS, enosys);
XENVCPU_SAME(XENVCPU_ENOTEMPTY, enotempty);
XENVCPU_SAME(XENVCPU_ENODATA, enodata);
XENVCPU_SAME(XENVCPU_ETIME, etime);
XENVCPU_SAME(XENVCPU_EBADMSG, ebadmsg);
XENVCPU_SAME(XENVCPU_EOVERFLOW, eoverflow);
XENVCPU_SAME(XENVCPU_EILSEQ, eilseq);
XENVCPU_SAME(XENVCPU_ERESTART, erestart);
XENVCPU_SAME(XENVCPU_ENOTSOCK, enotsock);
XENVCPU_SAME(XENVCPU_EMSGSIZE, emsgsize);
XENVCPU_SAME(XENVCPU_EOPNOTSUPP, eopnotsupp);
XENVCPU_SAME(XENVCPU_EADDRINUSE, eaddrinuse);
XENVCPU_SAME(XENVCPU_EADDRNOTAVAIL, eaddrnotavail);
XENVCPU_SAME(XENVCPU_ENOBUFS, enobufs);
XENVCPU_SAME(XENVCPU_EISCONN, eisconn);
XENVCPU_SAME(XENVCPU_ENOTCONN, enotconn);
XENVCPU_SAME(XENVCPU_ETIMEDOUT, etimedout);
XENVCPU_SAME(XENVCPU_ECONNREFUSED, econnrefused);
XENVCPU_SAME(XENVCPU_INVALID_ARGUMENT, invalid_argument);
XENVCPU_SAME(XENVCPU_VCPU_OUT_OF_RANGE, vcpu_out_of_range);
XENVCPU_SAME(XENVCPU_AREA_MISALIGNED, area_misaligned);
XENVCPU_SAME(XENVCPU_AREA_CROSSES_PAGE, area_crosses_page);
XENVCPU_SAME(XENVCPU_PERIOD_TOO_SHORT, period_too_short);
XENVCPU_SAME(XENVCPU_NOT_CURRENT_VCPU, not_current_vcpu);
XENVCPU_SAME(XENVCPU_TIMED_OUT, timed_out);
XENVCPU_SAME(XENVCPU_UNSUPPORTED, unsupported);
XENVCPU_SAME(XENVCPU_LAST_VCPU, last_vcpu);
XENVCPU_SAME(XENVCPU_ALREADY_INITIALISED, already_initialised);
XENVCPU_SAME(XENVCPU_BUSY_RETRY, busy_retry);
XENVCPU_SAME(XENVCPU_NO_SPACE, no_space);
XENVCPU_SAME(XENVCPU_PORT_OUT_OF_RANGE, port_out_of_range);
XENVCPU_SAME(XENVCPU_PORT_NOT_BOUND, port_not_bound);
XENVCPU_SAME(XENVCPU_RING_CORRUPT, ring_corrupt);
XENVCPU_SAME(XENVCPU_SUSPEND_FAILED, suspend_failed);
XENVCPU_SAME(XENVCPU_RESUME_FAILED, resume_failed);
XENVCPU_SAME(XENVCPU_VCPU_DOWN, vcpu_down);
#undef XENVCPU_SAME
static_assert(XENVCPU_OK == 0 && Errc{} == static_cast<Errc>(0), "success is 0 on both sides");

// Every named Errc has a C value: an Errc added without one leaves errc_name
// naming it, and this count (of the names above) out of step.
constexpr int named_errcs()
{
    int n = 0;
    for (int32_t v = 1; v < 2000; ++v)
        if (errc_name(static_cast<Errc>(v))[1] != '?')
            ++n;
    return n;
}
static_assert(named_errcs() == 67, "every xen::Errc value has an XENVCPU_ constant above");

} // namespace
} // namespace xen::capi

extern "C" const char* xenvcpu_errc_name(xenvcpu_errc e) noexcept
{
    return e == XENVCPU_OK ? "ok" : xen::errc_name(static_cast<xen::Errc>(e));
}
