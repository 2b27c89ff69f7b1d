// register_phys_or_virt alone: which op it calls for each feature set,
// address and answer of the physical op (the runstate and time-area tests
// show the same against the simulated Xen).
#include <xen/hypercall/area_registration.hpp>

#include <catch2/catch.hpp>

using namespace xen;

namespace {

constexpr XenFeatures with_phys{1u << static_cast<uint32_t>(abi::xenfeat::runstate_phys_area)};
constexpr XenFeatures other_bits{1u << static_cast<uint32_t>(abi::xenfeat::vcpu_time_phys_area)};
constexpr PhysAddr somewhere{0x12340};

struct Case {
    const char* what;
    XenFeatures features;
    PhysAddr pa;
    Errc phys_error; // Errc{} = the op succeeds
    Errc virt_error;
    int phys_calls;
    int virt_calls;
    Result<AreaKind> expected;
};

} // namespace

TEST_CASE("register_phys_or_virt: the physical op when offered and the address is known; the virtual op "
          "otherwise and after ENOSYS only",
          "[area_registration]")
{
    const Case cases[] = {
        {"offered, address known", with_phys, somewhere, Errc{}, Errc{}, 1, 0, AreaKind::physical_address},
        {"feature bit missing", other_bits, somewhere, Errc{}, Errc{}, 0, 1, AreaKind::virtual_address},
        {"address unknown", with_phys, phys_unknown, Errc{}, Errc{}, 0, 1, AreaKind::virtual_address},
        {"physical op disabled (ENOSYS)", with_phys, somewhere, Errc::enosys, Errc{}, 1, 1, AreaKind::virtual_address},
        {"physical op refuses the area", with_phys, somewhere, Errc::einval, Errc{}, 1, 0, err(Errc::einval)},
        {"virtual op fails", XenFeatures{}, somewhere, Errc{}, Errc::efault, 0, 1, err(Errc::efault)},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        int phys_calls = 0, virt_calls = 0;
        auto answer = [](Errc e) { return e == Errc{} ? ok() : Result<void>(err(e)); };
        const auto r = register_phys_or_virt(
            c.features, abi::xenfeat::runstate_phys_area, c.pa,
            [&] {
                ++phys_calls;
                return answer(c.phys_error);
            },
            [&] {
                ++virt_calls;
                return answer(c.virt_error);
            });
        CHECK(r.has_value() == c.expected.has_value());
        if (r.has_value() && c.expected.has_value())
            CHECK(*r == *c.expected);
        else
            CHECK(r.error() == c.expected.error());
        CHECK(phys_calls == c.phys_calls);
        CHECK(virt_calls == c.virt_calls);
    }
}
