// Conformance: Errc against Xen's errno.h, in both directions.
//
// errno.h is an X-macro list: define XEN_ERRNO(name, value) and include it,
// and it expands once per entry. With __XEN__ defined the list also yields
// the two Xen-internal values (EINTR, ERESTART) that Errc names too.
#include "xen_public.hpp"

#include <string_view>

#include "check.hpp"

namespace {

struct XenErrno {
    std::string_view name;
    int value;
};

constexpr XenErrno xen_errnos[] = {
#define __XEN__
#define XEN_ERRNO(name, value) {#name, value},
#include <xen/errno.h>
#undef __XEN__
};

/// The name Xen gives first to `value` (later entries are aliases such as
/// EWOULDBLOCK for EAGAIN).
constexpr std::string_view xen_primary_name(int value)
{
    for (const XenErrno& e : xen_errnos)
        if (e.value == value)
            return e.name;
    return {};
}

/// Errc names Xen's value as Xen first names it, and counts it as Xen's.
constexpr bool errc_matches(int value)
{
    const auto e = static_cast<xen::Errc>(value);
    return xen::is_xen_errno(e) && std::string_view{xen::errc_name(e)} == xen_primary_name(value);
}

/// Every value below 1000 that Errc names is in Xen's list under that name.
constexpr bool errc_all_in_xen()
{
    for (int v = 1; v < 1000; ++v) {
        const std::string_view name = xen::errc_name(static_cast<xen::Errc>(v));
        if (name != "E?" && name != xen_primary_name(v))
            return false;
    }
    return true;
}

constexpr int errc_xen_value_count()
{
    int n = 0;
    for (int v = 1; v < 1000; ++v)
        n += std::string_view{xen::errc_name(static_cast<xen::Errc>(v))} != "E?";
    return n;
}

} // namespace

ABI_AREA_BEGIN(errc)

// Xen -> ours: one assertion per entry of Xen's list.
#define __XEN__
#define XEN_ERRNO(name, value) ABI_ASSERT(errc_matches(value), "Errc does not name Xen's " #name " as Xen does");
#include <xen/errno.h>
#undef __XEN__

// Ours -> Xen: no Errc value below 1000 that Xen does not define.
ABI_ASSERT(errc_all_in_xen(), "Errc names a value below 1000 that Xen's errno.h does not");
// The guest-visible enum agrees with the X-list (spot check of both forms).
ABI_CONST(xen::Errc::eperm, XEN_EPERM);
ABI_CONST(xen::Errc::etimedout, XEN_ETIMEDOUT);
// The library's own codes cannot be mistaken for Xen's.
ABI_ASSERT(!xen::is_xen_errno(xen::Errc::invalid_argument), "library codes must be >= 1000");

ABI_AREA_END(errc)

/// How many distinct Xen errno values Errc names (for the report).
int abi_errc_xen_values() { return errc_xen_value_count(); }

/// The newest interface these headers offer (what the test compiled against).
unsigned abi_xen_interface_version() { return __XEN_LATEST_INTERFACE_VERSION__; }
