/// \file
/// Result<T>: a value or an Errc, shaped like std::expected (C++23), usable
/// freestanding: no exceptions, no heap, trivially copyable when T is.
#pragma once

#include <type_traits>
#include <xen/support/errc.hpp>
#include <xen/support/panic.hpp>

namespace xen {

/// Tag that carries an error into a Result (like std::unexpected).
struct Error {
    Errc code; ///< the error to carry; never Errc{} (success)
};

/// Make an Error from an Errc: `return err(Errc::einval);`.
constexpr Error err(Errc e) noexcept { return Error{e}; }

/// A T or an Errc. `[[nodiscard]]`: an ignored failure is a bug.
/// `value()` on an error calls the panic hook: check `has_value()` first, or
/// say in a comment why the call cannot fail.
template <class T>
class [[nodiscard]] Result {
    static_assert(std::is_trivially_destructible_v<T>,
                  "Result holds only trivially destructible values (no destructors run in a kernel union)");

public:
    using value_type = T; ///< the T of a success

    /// A success holding `v`.
    constexpr Result(const T& v) noexcept : value_(v), ok_(true) {}
    /// A failure: `return err(Errc::einval);`.
    constexpr Result(Error e) noexcept : error_(e.code), ok_(false) {}

    /// True on success.
    constexpr bool has_value() const noexcept { return ok_; }
    /// True on success: `if (auto r = hc::vcpu_is_up(v))`.
    constexpr explicit operator bool() const noexcept { return ok_; }

    /// The value; on an error, calls the panic hook (xenvcpu_panic) with the Errc.
    constexpr T& value() & noexcept
    {
        if (!ok_)
            panic_bad_result_access(error_);
        return value_;
    }
    /// The value, read-only; on an error, calls the panic hook.
    constexpr const T& value() const& noexcept
    {
        if (!ok_)
            panic_bad_result_access(error_);
        return value_;
    }
    /// value(): panics on an error.
    constexpr T& operator*() noexcept { return value(); }
    /// value(): panics on an error.
    constexpr const T& operator*() const noexcept { return value(); }
    /// Member access through value(): panics on an error.
    constexpr T* operator->() noexcept { return &value(); }
    /// Member access through value(): panics on an error.
    constexpr const T* operator->() const noexcept { return &value(); }

    /// The error; meaningful only when `!has_value()`.
    constexpr Errc error() const noexcept { return ok_ ? Errc{} : error_; }

    /// The value, or `fallback` on an error (never panics).
    constexpr T value_or(const T& fallback) const noexcept { return ok_ ? value_ : fallback; }

    /// f(T) -> `Result<U>`; errors pass through.
    template <class F>
    constexpr auto and_then(F&& f) const noexcept -> std::invoke_result_t<F, const T&>
    {
        if (ok_)
            return f(value_);
        return Error{error_};
    }

    /// f(T) -> U, wrapped as `Result<U>`; errors pass through.
    template <class F>
    constexpr auto transform(F&& f) const noexcept -> Result<std::invoke_result_t<F, const T&>>
    {
        if (ok_)
            return f(value_);
        return Error{error_};
    }

    /// f(Errc) -> `Result<T>`; values pass through.
    template <class F>
    constexpr Result or_else(F&& f) const noexcept
    {
        if (ok_)
            return *this;
        return f(error_);
    }

private:
    union {
        T value_;
        Errc error_;
    };
    bool ok_;
};

/// Success or an Errc.
template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void; ///< no value: success or an Errc

    /// Success (also ok()).
    constexpr Result() noexcept : error_{}, ok_(true) {}
    /// A failure: `return err(Errc::einval);`.
    constexpr Result(Error e) noexcept : error_(e.code), ok_(false) {}

    /// True on success.
    constexpr bool has_value() const noexcept { return ok_; }
    /// True on success.
    constexpr explicit operator bool() const noexcept { return ok_; }
    /// Asserts success: on an error, calls the panic hook with the Errc.
    constexpr void value() const noexcept
    {
        if (!ok_)
            panic_bad_result_access(error_);
    }
    /// The error; Errc{} on success.
    constexpr Errc error() const noexcept { return ok_ ? Errc{} : error_; }

    /// f() -> `Result<U>`, called on success; errors pass through.
    template <class F>
    constexpr auto and_then(F&& f) const noexcept -> std::invoke_result_t<F>
    {
        if (ok_)
            return f();
        return Error{error_};
    }

    /// f() -> U, called on success and wrapped as `Result<U>`; errors pass through.
    template <class F>
    constexpr auto transform(F&& f) const noexcept -> Result<std::invoke_result_t<F>>
    {
        if (ok_)
            return f();
        return Error{error_};
    }

    /// f(Errc) -> `Result<void>`, called on an error (to recover or remap); success passes through.
    template <class F>
    constexpr Result or_else(F&& f) const noexcept
    {
        if (ok_)
            return *this;
        return f(error_);
    }

private:
    Errc error_;
    bool ok_;
};

/// The success value of Result<void>: `return ok();`.
constexpr Result<void> ok() noexcept { return {}; }

} // namespace xen

/// Evaluate a Result-returning expression; on error, return its error from the
/// enclosing function (which must return some Result). Pigweed's PW_TRY idea.
#define XEN_TRY(expr)                                                    \
    do {                                                                 \
        if (auto xen_try_result_ = (expr); !xen_try_result_.has_value()) \
            return ::xen::Error{xen_try_result_.error()};                \
    } while (0)

/// Like XEN_TRY, but binds the value: `XEN_TRY_ASSIGN(auto up, vcpu_is_up(id));`
#define XEN_TRY_ASSIGN(decl, expr) XEN_TRY_ASSIGN_IMPL_(decl, expr, XEN_TRY_CAT_(xen_try_, __LINE__))
/// \cond INTERNAL
// XEN_TRY_ASSIGN's implementation: a temporary named after the line.
#define XEN_TRY_CAT2_(a, b) a##b
#define XEN_TRY_CAT_(a, b) XEN_TRY_CAT2_(a, b)
// NOLINTBEGIN(bugprone-macro-parentheses): `decl` is a declaration and `tmp` a name; neither can be parenthesised
#define XEN_TRY_ASSIGN_IMPL_(decl, expr, tmp) \
    auto tmp = (expr);                        \
    if (!tmp.has_value())                     \
        return ::xen::Error{tmp.error()};     \
    decl = *tmp
// NOLINTEND(bugprone-macro-parentheses)
/// \endcond
