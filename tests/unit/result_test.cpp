#include <xen/support/result.hpp>

#include <catch2/catch.hpp>

using xen::Errc;
using xen::Result;

namespace {
Result<int> half(int v)
{
    if (v % 2 != 0)
        return xen::err(Errc::invalid_argument);
    return v / 2;
}

Result<int> quarter(int v)
{
    XEN_TRY_ASSIGN(int h, half(v));
    return half(h);
}
} // namespace

TEST_CASE("Result: holds a value or a typed error", "[support]")
{
    REQUIRE(half(4).has_value());
    REQUIRE(*half(4) == 2);
    REQUIRE_FALSE(half(3).has_value());
    REQUIRE(half(3).error() == Errc::invalid_argument);
}

TEST_CASE("Result: XEN_TRY_ASSIGN passes the first error through", "[support]")
{
    REQUIRE(*quarter(8) == 2);
    REQUIRE(quarter(6).error() == Errc::invalid_argument);
}

TEST_CASE("Result: and_then, transform and or_else follow std::expected", "[support]")
{
    REQUIRE(*half(8).and_then(half) == 2);
    REQUIRE(*half(8).transform([](int v) { return v + 1; }) == 5);
    REQUIRE(half(1).transform([](int v) { return v + 1; }).error() == Errc::invalid_argument);
    REQUIRE(*half(1).or_else([](Errc) -> Result<int> { return 7; }) == 7);
    REQUIRE(half(1).value_or(9) == 9);
}

TEST_CASE("Result<void>: ok() and errors", "[support]")
{
    Result<void> good = xen::ok();
    Result<void> bad = xen::err(Errc::enoent);
    REQUIRE(good.has_value());
    REQUIRE(bad.error() == Errc::enoent);
}

TEST_CASE("Errc: unknown Xen errno values are preserved, names are stable", "[support]")
{
    auto e = static_cast<Errc>(123);
    REQUIRE(static_cast<int>(e) == 123);
    REQUIRE(std::string(xen::errc_name(Errc::enoent)) == "ENOENT");
    REQUIRE(std::string(xen::errc_name(e)) == "E?");
    REQUIRE(xen::is_xen_errno(Errc::etime));
    REQUIRE_FALSE(xen::is_xen_errno(Errc::timed_out));
}
