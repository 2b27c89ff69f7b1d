/// \file
/// The single place where Xen's negative errno becomes a typed error.
#pragma once

#include <xen/support/result.hpp>

namespace xen::hc {

/// 0 or positive: success. Negative: -errno from Xen, kept as Errc (unknown
/// values are preserved, never folded into a generic error).
inline Result<void> result_of(long rc) noexcept
{
    if (rc < 0)
        return err(static_cast<Errc>(-rc));
    return ok();
}

/// Like result_of, but hands back a non-negative return value.
inline Result<long> value_of(long rc) noexcept
{
    if (rc < 0)
        return err(static_cast<Errc>(-rc));
    return rc;
}

} // namespace xen::hc
