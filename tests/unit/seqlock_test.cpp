// seqlock_read: the one bounded retry loop of the record readers.
#include <xen/support/seqlock.hpp>

#include <catch2/catch.hpp>

using xen::Errc;

TEST_CASE("seqlock_read: returns the first consistent attempt's copy", "[support]")
{
    unsigned calls = 0;
    auto r = xen::seqlock_read<int>(10, [&](int& out) {
        ++calls;
        out = static_cast<int>(calls) * 7;
        return calls == 3; // two torn reads, then a good one
    });
    REQUIRE(r.has_value());
    CHECK(*r == 21);
    CHECK(calls == 3);
}

TEST_CASE("seqlock_read: busy_retry after exactly max_attempts failed attempts (none for a bound of 0)", "[support]")
{
    for (const uint32_t bound : {0u, 1u, 5u}) {
        uint32_t calls = 0;
        auto r = xen::seqlock_read<int>(bound, [&](int&) {
            ++calls;
            return bound == 0; // a bound of 0 must not even try
        });
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == Errc::busy_retry);
        CHECK(calls == bound);
    }
}
