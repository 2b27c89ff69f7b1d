/// \file
/// Typed wrappers for xen_version (public version.h).
#pragma once

#include <cstdint>
#include <xen/abi/version.hpp>
#include <xen/hypercall/result_from_xen.hpp>
#include <xen/hypercall/transport.hpp>

namespace xen::hc {

/// Xen's version, as numbers.
struct XenVersion {
    uint32_t major; ///< e.g. 4 for Xen 4.17
    uint32_t minor; ///< e.g. 17 for Xen 4.17

    /// Whether this is Xen `maj`.`min` or later.
    constexpr bool at_least(uint32_t maj, uint32_t min) const noexcept
    {
        return major > maj || (major == maj && minor >= min);
    }
};

/// XENVER_version. Never fails on a working Xen.
inline Result<XenVersion> xen_version() noexcept
{
    XEN_TRY_ASSIGN(long v, value_of(transport::hypercall2<abi::hypercall::xen_version>(
                               static_cast<uint32_t>(abi::xenver::version), 0)));
    const auto raw = static_cast<uint32_t>(v);
    return XenVersion{abi::xen_version_major(raw), abi::xen_version_minor(raw)};
}

/// The extra-version string (e.g. ".7+13-g2445b30a44"), NUL-terminated.
struct ExtraVersion {
    char text[abi::xen_extraversion_len + 1]; ///< always NUL-terminated
};

/// XENVER_extraversion.
inline Result<ExtraVersion> xen_extraversion() noexcept
{
    ExtraVersion out{};
    XEN_TRY(result_of(transport::hypercall2<abi::hypercall::xen_version>(
        static_cast<uint32_t>(abi::xenver::extraversion), transport::arg(out.text))));
    out.text[abi::xen_extraversion_len] = '\0';
    return out;
}

/// XENVER_get_features: one 32-bit submap of XENFEAT bits.
inline Result<uint32_t> xen_features(uint32_t submap_idx = 0) noexcept
{
    abi::xen_feature_info arg{submap_idx, 0};
    XEN_TRY(result_of(transport::hypercall2<abi::hypercall::xen_version>(
        static_cast<uint32_t>(abi::xenver::get_features), transport::arg(&arg))));
    return arg.submap;
}

/// True if `feature` is set in submap 0 as read by xen_features().
constexpr bool has_feature(uint32_t submap0, abi::xenfeat feature) noexcept
{
    return ((submap0 >> static_cast<uint32_t>(feature)) & 1u) != 0;
}

} // namespace xen::hc

namespace xen {

/// The XENFEAT bits this Xen offers the domain (submap 0: every feature
/// Xen defines today is below 32). A strong type, so that a feature set is
/// never mistaken for another 32-bit value.
struct XenFeatures {
    uint32_t submap0 = 0; ///< bit n set: XENFEAT n is offered

    /// Ask Xen (XENVER_get_features, submap 0). Errors: the hypercall's.
    static Result<XenFeatures> query() noexcept
    {
        return hc::xen_features(0).transform([](uint32_t bits) { return XenFeatures{bits}; });
    }
    /// Whether `feature` is offered.
    constexpr bool has(abi::xenfeat feature) const noexcept { return hc::has_feature(submap0, feature); }
    /// Same feature set.
    constexpr bool operator==(const XenFeatures&) const noexcept = default;
};

} // namespace xen
