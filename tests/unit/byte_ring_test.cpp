// ByteRing: the shared byte ring of the console and xenstore, alone: round
// trips across the 2^32 wrap, discarding, the fill level, and indices a
// hostile backend writes (it never touches memory outside its array).
#include <xen/ring/byte_ring.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

using xen::ByteRing;
using xen::Errc;

namespace {

constexpr uint32_t size = 16;

/// A ring with guard bytes on both sides, laid out as in a shared page.
struct Page {
    char before[64];
    char data[size];
    char after[64];
    uint32_t prod = 0;
    uint32_t cons = 0;

    Page()
    {
        std::memset(before, 0x5a, sizeof(before));
        std::memset(data, 0, sizeof(data));
        std::memset(after, 0xa5, sizeof(after));
    }
    ByteRing<size> ring() { return ByteRing<size>(data, prod, cons); }
    bool guards_intact() const
    {
        for (char c : before)
            if (c != 0x5a)
                return false;
        for (char c : after)
            if (c != static_cast<char>(0xa5))
                return false;
        return true;
    }
};

} // namespace

TEST_CASE("ByteRing: bytes come out in order across the 2^32 index wrap", "[ring]")
{
    Page p;
    p.prod = p.cons = 0xfffffff9u;
    std::string in, out;
    for (int i = 0; i < 200; ++i)
        in += static_cast<char>('a' + i % 26);
    size_t sent = 0;
    while (out.size() < in.size()) {
        auto n = p.ring().produce(in.data() + sent, in.size() - sent > 5 ? 5 : in.size() - sent);
        REQUIRE(n);
        sent += *n;
        char buf[size];
        auto m = p.ring().consume(buf, 3);
        REQUIRE(m);
        out.append(buf, *m);
        if (sent == in.size()) {
            auto rest = p.ring().consume(buf, sizeof(buf));
            REQUIRE(rest);
            out.append(buf, *rest);
        }
    }
    CHECK(out == in);
    CHECK(p.prod == p.cons);
    CHECK(p.guards_intact());
}

TEST_CASE("ByteRing: produce takes what fits; a full ring takes nothing", "[ring]")
{
    Page p;
    const std::string big(40, 'x');
    auto n = p.ring().produce(big.data(), big.size());
    REQUIRE(n);
    CHECK(*n == size);
    CHECK(p.ring().fill().value() == size);
    auto again = p.ring().produce("y", 1);
    REQUIRE(again);
    CHECK(*again == 0);
    CHECK(p.prod == size);
}

TEST_CASE("ByteRing: consume with a null buffer discards and hands the slots back", "[ring]")
{
    Page p;
    REQUIRE(p.ring().produce("abcdef", 6));
    auto n = p.ring().consume(nullptr, 4);
    REQUIRE(n);
    CHECK(*n == 4);
    CHECK(p.cons == 4);
    char buf[8];
    auto m = p.ring().consume(buf, sizeof(buf));
    REQUIRE(m);
    CHECK(std::string(buf, *m) == "ef");
    CHECK(p.ring().fill().value() == 0);
}

TEST_CASE("ByteRing: indices more than the size apart are ring_corrupt, in both roles, indices untouched", "[ring]")
{
    Page p;
    p.prod = 0;
    p.cons = 1; // prod - cons = 2^32 - 1
    CHECK(p.ring().fill().error() == Errc::ring_corrupt);
    CHECK(p.ring().produce("x", 1).error() == Errc::ring_corrupt);
    char buf[4];
    CHECK(p.ring().consume(buf, sizeof(buf)).error() == Errc::ring_corrupt);
    CHECK(p.prod == 0);
    CHECK(p.cons == 1);
    p.prod = size + 1;
    p.cons = 0;
    CHECK(p.ring().consume(buf, sizeof(buf)).error() == Errc::ring_corrupt);
    p.prod = size; // exactly full is fine
    CHECK(p.ring().fill().value() == size);
}

TEST_CASE("ByteRing: whatever a hostile backend writes into the indices, no byte outside the ring moves", "[ring]")
{
    std::mt19937_64 rng(20240611);
    const uint32_t edges[] = {0, 1, size - 1, size, size + 1, 0x7fffffffu, 0x80000000u, 0xfffffff0u, 0xffffffffu};
    char src[3 * size];
    std::memset(src, 'q', sizeof(src));
    for (int i = 0; i < 200'000; ++i) {
        Page p;
        auto pick = [&] { return (rng() & 1) ? edges[rng() % std::size(edges)] : static_cast<uint32_t>(rng()); };
        p.prod = pick();
        p.cons = (rng() & 1) ? p.prod - static_cast<uint32_t>(rng() % (2 * size)) : pick();
        const uint32_t prod0 = p.prod, cons0 = p.cons;
        const uint32_t used = prod0 - cons0;
        const size_t len = rng() % sizeof(src);
        char dst[3 * size];
        if (rng() & 1) {
            auto n = p.ring().produce(src, len);
            if (used > size) {
                REQUIRE(n.error() == Errc::ring_corrupt);
                REQUIRE(p.prod == prod0);
            } else {
                REQUIRE(n);
                REQUIRE(*n <= size - used);
                REQUIRE(p.prod == static_cast<uint32_t>(prod0 + *n));
            }
            REQUIRE(p.cons == cons0);
        } else {
            auto n = p.ring().consume((rng() & 1) ? dst : nullptr, len);
            if (used > size) {
                REQUIRE(n.error() == Errc::ring_corrupt);
                REQUIRE(p.cons == cons0);
            } else {
                REQUIRE(n);
                REQUIRE(*n <= used);
                REQUIRE(p.cons == static_cast<uint32_t>(cons0 + *n));
            }
            REQUIRE(p.prod == prod0);
        }
        REQUIRE(p.guards_intact());
    }
}
