// PV: publishing the p2m frame lists for the toolstack (include/xen/pv/p2m.hpp).
#include <xen/pv/p2m.hpp>

#include <catch2/catch.hpp>

#include <memory>

#include <sim/hypervisor.hpp>
#include <xen/domain.hpp>

using namespace xen;

namespace {

// A made-up "machine" frame for every kernel address: what a PV kernel's
// frame_of hook answers (its p2m entry for the page).
constexpr uint64_t mfn_bias = 0x80000;
FrameNumber fake_frame_of(void*, const void* p) noexcept
{
    return FrameNumber{(reinterpret_cast<uintptr_t>(p) >> 12) + mfn_bias};
}
uint64_t mfn_of(const void* p) { return fake_frame_of(nullptr, p).value; }

struct Rig {
    explicit Rig(GuestKind kind, bool with_frame_of = true)
        : hv(sim::Config{.guest = kind == GuestKind::pvh ? sim::GuestType::pvh : sim::GuestType::pv}), scope(hv)
    {
        DomainConfig dc;
        dc.kind = kind;
        dc.shared = &hv.shared_info();
        dc.hooks.current = [](void*) noexcept { return sim::current_vcpu(); };
        dc.hooks.frame_of = with_frame_of ? &fake_frame_of : nullptr;
        REQUIRE(domain.init(dc, storage));
    }
    sim::Hypervisor hv;
    sim::Scope scope;
    Domain domain;
    DomainStorage<1, 8> storage;
};

// A p2m of `pages` pages, page aligned, as start_info's mfn_list would be.
struct P2m {
    explicit P2m(size_t pages) : words(new (std::align_val_t{4096}) uint64_t[pages * 512]) {}
    ~P2m() { ::operator delete[](words, std::align_val_t{4096}); }
    uint64_t* words;
};

} // namespace

TEST_CASE("p2m: the three levels name the p2m's pages, and shared_info names the root and the pfn count")
{
    Rig r(GuestKind::pv);
    // 1030 p2m pages (just over 2 GiB of guest memory): three frame-list
    // pages, the last one two entries in.
    const uint64_t nr_pfns = 1029 * 512 + 7;
    P2m p2m(1030);
    auto lists = std::make_unique<pv::P2mFrameLists<4>>();
    REQUIRE(pv::publish_p2m(r.domain, p2m.words, nr_pfns, *lists));

    const auto& arch = r.hv.shared_info().arch;
    CHECK(arch.max_pfn == nr_pfns);
    CHECK(arch.pfn_to_mfn_frame_list_list == mfn_of(lists->list_list));
    for (uint32_t j = 0; j < 3; ++j)
        CHECK(lists->list_list[j] == mfn_of(lists->lists[j]));
    CHECK(lists->list_list[3] == 0); // the fourth list page covers nothing
    for (uint32_t i = 0; i < 1030; ++i)
        CHECK(lists->lists[i / 512][i % 512] == mfn_of(p2m.words + i * 512));
    CHECK(lists->lists[2][6] == 0); // past the last p2m page
}

TEST_CASE("p2m: publishing again (after a resume, into a new shared_info) writes the same lists")
{
    Rig r(GuestKind::pv);
    P2m p2m(8);
    pv::P2mFrameLists<1> lists{};
    REQUIRE(pv::publish_p2m(r.domain, p2m.words, 8 * 512, lists));
    r.hv.shared_info().arch.max_pfn = 0; // what a restored domain finds
    r.hv.shared_info().arch.pfn_to_mfn_frame_list_list = 0;
    REQUIRE(pv::publish_p2m(r.domain, p2m.words, 8 * 512, lists));
    CHECK(r.hv.shared_info().arch.max_pfn == 8 * 512);
    CHECK(r.hv.shared_info().arch.pfn_to_mfn_frame_list_list == mfn_of(lists.list_list));
}

TEST_CASE("p2m: refused without a PV domain, a frame_of hook, an aligned p2m or room in the lists")
{
    P2m p2m(600);
    pv::P2mFrameLists<1> lists{};
    {
        Rig pvh(GuestKind::pvh);
        CHECK(pv::publish_p2m(pvh.domain, p2m.words, 512, lists).error() == Errc::unsupported);
    }
    Rig no_hook(GuestKind::pv, false);
    CHECK(pv::publish_p2m(no_hook.domain, p2m.words, 512, lists).error() == Errc::invalid_argument);
    Rig r(GuestKind::pv);
    CHECK(pv::publish_p2m(r.domain, nullptr, 512, lists).error() == Errc::invalid_argument);
    CHECK(pv::publish_p2m(r.domain, p2m.words, 0, lists).error() == Errc::invalid_argument);
    CHECK(pv::publish_p2m(r.domain, p2m.words + 1, 512, lists).error() == Errc::area_misaligned);
    // 600 p2m pages need two frame-list pages; one is all there is.
    CHECK(pv::publish_p2m(r.domain, p2m.words, 600 * 512, lists).error() == Errc::no_space);
    CHECK(r.hv.shared_info().arch.pfn_to_mfn_frame_list_list == 0); // nothing published
}
