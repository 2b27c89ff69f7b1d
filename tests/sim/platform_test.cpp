// xen_version, vm_assist, console_io, hvm_op and callback_op in the simulator.
#include <catch2/catch.hpp>
#include <cstring>
#include <sim/hypervisor.hpp>
#include <xen/hypercall.hpp>

using namespace xen;

TEST_CASE("sim: XENVER_version and extraversion follow the configured release")
{
    sim::Hypervisor a({.version = sim::xen_4_17_2});
    sim::Hypervisor b({.version = sim::xen_4_20, .extraversion = ".4+63-g7abfd2bce2"});
    {
        sim::Scope s(a);
        CHECK(hc::xen_version()->major == 4);
        CHECK(hc::xen_version()->minor == 17);
        CHECK(std::strcmp(hc::xen_extraversion()->text, ".2") == 0);
    }
    sim::Scope s(b);
    CHECK(hc::xen_version()->minor == 20);
    CHECK(std::strcmp(hc::xen_extraversion()->text, ".4+63-g7abfd2bc") == 0); // 15 chars and NUL
}

TEST_CASE("sim: XENFEAT 18 and 19 appear from Xen 4.18; PVH gets callback_vector and safe_pvclock")
{
    auto features = [](sim::Config c) {
        sim::Hypervisor hv(c);
        sim::Scope s(hv);
        return hc::xen_features().value();
    };
    const uint32_t old_pv = features({.version = sim::xen_4_17_7});
    const uint32_t new_pvh = features({.version = sim::xen_4_20, .guest = sim::GuestType::pvh});
    CHECK_FALSE(hc::has_feature(old_pv, abi::xenfeat::runstate_phys_area));
    CHECK_FALSE(hc::has_feature(old_pv, abi::xenfeat::hvm_callback_vector));
    CHECK(hc::has_feature(new_pvh, abi::xenfeat::runstate_phys_area));
    CHECK(hc::has_feature(new_pvh, abi::xenfeat::vcpu_time_phys_area));
    CHECK(hc::has_feature(new_pvh, abi::xenfeat::hvm_callback_vector));
    CHECK(hc::has_feature(new_pvh, abi::xenfeat::hvm_safe_pvclock));
    sim::Hypervisor hv;
    sim::Scope s(hv);
    CHECK(hc::xen_features(1).error() == Errc::einval);
}

TEST_CASE("sim: vm_assist runstate_update_flag needs Xen 4.8; unknown types are -EINVAL")
{
    sim::Hypervisor old({.version = {4, 7, 0}});
    sim::Hypervisor pvh({.guest = sim::GuestType::pvh});
    {
        sim::Scope s(old);
        CHECK(hc::vm_assist(abi::vmasst_cmd::enable, abi::vmasst_type::runstate_update_flag).error() == Errc::einval);
    }
    sim::Scope s(pvh);
    CHECK(hc::vm_assist(abi::vmasst_cmd::enable, abi::vmasst_type::runstate_update_flag));
    CHECK(pvh.vm_assist_enabled(abi::vmasst_type::runstate_update_flag));
    CHECK(hc::vm_assist(abi::vmasst_cmd::enable, abi::vmasst_type::writable_pagetables).error() == Errc::einval);
    CHECK(hc::vm_assist(abi::vmasst_cmd::enable, static_cast<abi::vmasst_type>(17)).error() == Errc::einval);
    CHECK(hc::vm_assist(abi::vmasst_cmd::disable, abi::vmasst_type::runstate_update_flag));
    CHECK_FALSE(pvh.vm_assist_enabled(abi::vmasst_type::runstate_update_flag));
}

TEST_CASE("sim: console_io write is captured; refused with -EPERM when not allowed")
{
    sim::Hypervisor hv;
    sim::Hypervisor quiet({.console_allowed = false});
    {
        sim::Scope s(hv);
        REQUIRE(hc::console_write("hello ", 6));
        REQUIRE(hc::console_write("xen\n", 4));
        CHECK(hv.console_output() == "hello xen\n");
    }
    sim::Scope s(quiet);
    CHECK(hc::console_write("x", 1).error() == Errc::eperm);
}

TEST_CASE("sim: hvm_op params work for PVH only; callback_op for PV only")
{
    sim::Hypervisor pvh({.guest = sim::GuestType::pvh});
    sim::Hypervisor pv;
    {
        sim::Scope s(pvh);
        REQUIRE(hc::hvm_set_param(abi::hvm_param::callback_irq, abi::hvm_callback_via_vector(0xf3)));
        CHECK(hc::hvm_get_param(abi::hvm_param::callback_irq).value() == abi::hvm_callback_via_vector(0xf3));
        CHECK(pvh.hvm_param(abi::hvm_param::callback_irq) == abi::hvm_callback_via_vector(0xf3));
        CHECK(hc::register_callback(abi::callback_type::event, 0x1000).error() == Errc::enosys);
    }
    sim::Scope s(pv);
    CHECK(hc::hvm_get_param(abi::hvm_param::callback_irq).error() == Errc::einval);
    REQUIRE(hc::register_callback(abi::callback_type::event, 0xffff800000001000));
    CHECK(pv.callback_address(abi::callback_type::event) == 0xffff800000001000);
}

TEST_CASE("sim: set_segment_base sets the calling vCPU's FS, user GS and kernel GS bases on 64-bit PV")
{
    sim::Hypervisor hv({.initially_up = 2});
    sim::Scope s(hv);
    REQUIRE(hc::set_segment_base(abi::segbase::gs_kernel, 0xffff800012345000ull));
    REQUIRE(hc::set_segment_base(abi::segbase::fs, 0x7f0000001000ull));
    REQUIRE(hc::set_segment_base(abi::segbase::gs_user, 0x1000));
    REQUIRE(hc::set_segment_base(abi::segbase::gs_user_sel, 0x2b));
    CHECK(hv.segment_base(VcpuId{0}, abi::segbase::gs_kernel) == 0xffff800012345000ull);
    CHECK(hv.segment_base(VcpuId{0}, abi::segbase::fs) == 0x7f0000001000ull);
    CHECK(hv.segment_base(VcpuId{0}, abi::segbase::gs_user) == 0x1000);
    CHECK(hv.segment_base(VcpuId{0}, abi::segbase::gs_user_sel) == 0x2b);
    sim::set_current_vcpu(VcpuId{1});
    REQUIRE(hc::set_segment_base(abi::segbase::gs_kernel, 0x5000));
    CHECK(hv.segment_base(VcpuId{1}, abi::segbase::gs_kernel) == 0x5000);
    CHECK(hv.segment_base(VcpuId{0}, abi::segbase::gs_kernel) == 0xffff800012345000ull); // per vCPU
}

TEST_CASE("sim: set_segment_base refuses a non-canonical base (-EINVAL), an unknown `which`, and PVH (-ENOSYS)")
{
    sim::Hypervisor pv;
    sim::Hypervisor pvh({.guest = sim::GuestType::pvh});
    {
        sim::Scope s(pv);
        CHECK(hc::set_segment_base(abi::segbase::gs_kernel, 0x0000800000000000ull).error() == Errc::einval);
        CHECK(hc::set_segment_base(abi::segbase::fs, 0xfff0000000000000ull).error() == Errc::einval);
        CHECK(pv.segment_base(VcpuId{0}, abi::segbase::fs) == 0); // unchanged
        // The selector form ignores everything above bit 15, as Xen does.
        CHECK(hc::set_segment_base(abi::segbase::gs_user_sel, 0x8000000000000033ull));
        CHECK(pv.segment_base(VcpuId{0}, abi::segbase::gs_user_sel) == 0x33);
        // A `which` Xen does not define: the wrapper refuses it before the call...
        const uint64_t calls = pv.calls(abi::hypercall::set_segment_base);
        CHECK(hc::set_segment_base(static_cast<abi::segbase>(4), 0).error() == Errc::invalid_argument);
        CHECK(pv.calls(abi::hypercall::set_segment_base) == calls);
        // ...and the simulated Xen, like Xen, answers -EINVAL if it gets one.
        CHECK(xen::transport::hypercall2<abi::hypercall::set_segment_base>(4, 0) == -static_cast<long>(Errc::einval));
    }
    sim::Scope s(pvh);
    CHECK(hc::set_segment_base(abi::segbase::gs_kernel, 0x1000).error() == Errc::enosys);
}
