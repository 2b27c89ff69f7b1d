// The checking vocabulary of the ABI conformance test: each macro is one or
// two static_asserts comparing one of our declarations with Xen's own.
//
// Every assertion uses __COUNTER__ exactly once, so a translation unit knows
// how many items it checked (ABI_AREA_BEGIN / ABI_AREA_END) without any
// hand-kept tally. A mismatch stops the build with both spellings in the
// message; the test binary then only reports what the compiler proved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

namespace abi_check {

/// An enumerator as its underlying integer; anything else unchanged.
template <class T>
constexpr auto raw(T v) noexcept
{
    if constexpr (std::is_enum_v<T>)
        return static_cast<std::underlying_type_t<T>>(v);
    else
        return v;
}

/// Same mathematical value, whatever the two types (Xen's macros are int,
/// unsigned or unsigned long; ours are fixed-width or enum class).
template <class A, class B>
constexpr bool same_value(A a, B b) noexcept
{
    return std::cmp_equal(raw(a), raw(b));
}

/// Same size and, where both are integers (or arrays of them), the same
/// element size and signedness. A union or struct on one side (Xen's guest
/// handles, `struct { char x[512]; }`) is compared by size alone.
template <class Ours, class Theirs>
constexpr bool same_shape() noexcept
{
    if constexpr (sizeof(Ours) != sizeof(Theirs)) {
        return false;
    } else {
        using O = std::remove_all_extents_t<Ours>;
        using T = std::remove_all_extents_t<Theirs>;
        if constexpr (std::is_integral_v<O> && std::is_integral_v<T>)
            return sizeof(O) == sizeof(T) && std::is_signed_v<O> == std::is_signed_v<T>;
        else
            return true;
    }
}

/// Number of items one area checked, for the report.
struct AreaCount {
    const char* name;
    int items;
};

} // namespace abi_check

/// One counted assertion.
#define ABI_ASSERT(cond, what) static_assert((cond) && __COUNTER__ >= 0, what)

/// Start and end of an area; ABI_AREA_END defines `abi_area_<name>()`.
#define ABI_AREA_BEGIN(name) static constexpr int abi_first_##name = __COUNTER__;
#define ABI_AREA_END(name)                                                      \
    static constexpr int abi_items_##name = __COUNTER__ - abi_first_##name - 1; \
    ::abi_check::AreaCount abi_area_##name() { return {#name, abi_items_##name}; }

/// A constant or enumerator of ours equals Xen's macro.
#define ABI_CONST(ours, theirs) \
    ABI_ASSERT(::abi_check::same_value(ours, theirs), "value differs from Xen: " #ours " vs " #theirs)

/// Size and alignment of one of our types equal Xen's.
#define ABI_TYPE(Ours, Theirs)                                                                  \
    ABI_ASSERT(sizeof(Ours) == sizeof(Theirs), "size differs from Xen: " #Ours " vs " #Theirs); \
    ABI_ASSERT(alignof(Ours) == alignof(Theirs), "alignment differs from Xen: " #Ours " vs " #Theirs)

/// A field: same offset, same size and integer kind. `of` and `tf` may be
/// member paths (`console.domu.mfn`).
#define ABI_FIELD(Ours, Theirs, of, tf)                                                                               \
    ABI_ASSERT(offsetof(Ours, of) == offsetof(Theirs, tf),                                                            \
               "offset differs from Xen: " #Ours "::" #of " vs " #Theirs "::" #tf);                                   \
    ABI_ASSERT((::abi_check::same_shape<decltype(std::declval<Ours&>().of), decltype(std::declval<Theirs&>().tf)>()), \
               "size or type differs from Xen: " #Ours "::" #of " vs " #Theirs "::" #tf)

/// Same-named field on both sides.
#define ABI_SAME_FIELD(Ours, Theirs, f) ABI_FIELD(Ours, Theirs, f, f)

/// Our named padding `pad` fills exactly the hole Xen's compiler leaves
/// between Xen's field `before` and the byte offset `next` (the following
/// field's offsetof, or sizeof(Theirs) for tail padding).
#define ABI_PAD(Ours, pad, Theirs, before, next)                                                           \
    ABI_ASSERT(offsetof(Ours, pad) == offsetof(Theirs, before) + sizeof(std::declval<Theirs&>().before) && \
                   offsetof(Ours, pad) + sizeof(std::declval<Ours&>().pad) == (next),                      \
               "named padding is not Xen's implicit hole: " #Ours "::" #pad)

/// A declaration of ours that Xen's public headers do not spell (a layout
/// fact from Xen's code or documentation, or a library helper). Not counted;
/// it only proves the name exists, so the coverage check (coverage.py) sees
/// that it was considered. `why` says where the fact comes from.
#define ABI_NOT_IN_XEN_HEADERS(ours, why) static_assert(sizeof(decltype(ours)*) > 0, why)
#define ABI_TYPE_NOT_IN_XEN_HEADERS(Ours, why) static_assert(sizeof(Ours) > 0, why)
