// The part both guest types share: say where we are, run the in-guest tests
// (tests/guest/) and end the machine.
#include <xen/hypercall/xen_version.hpp>

#include "cmdline.hpp"
#include "console.hpp"
#include "domu.hpp"
#include "framework/guest_tests.hpp"
#include "kernel.hpp"
#include "lifecycle.hpp"

namespace mk {

namespace {

Cmdline cmdline;

// XENFEAT_* names (public features.h), for the log.
const char* const feature_names[] = {
    "writable_page_tables",
    "writable_descriptor_tables",
    "auto_translated_physmap",
    "supervisor_mode_kernel",
    "pae_pgdir_above_4gb",
    "mmu_pt_update_preserve_ad",
    "highmem_assist",
    "gnttab_map_avail_bits",
    "hvm_callback_vector",
    "hvm_safe_pvclock",
    "hvm_pirqs",
    "dom0",
    "grant_map_identity",
    "memory_op_vnode_supported",
    "arm_smccc_supported",
    "linux_rsdp_unrestricted",
    "not_direct_mapped",
    "direct_mapped",
    "runstate_phys_area",
    "vcpu_time_phys_area",
    "dm_msix_all_writes",
};

// From kernel.ld.
extern "C" char __kernel_start[], __kernel_end[];

// A few lines for the serial log, before the tests' TAP stream.
void describe_xen(const Context& context) noexcept
{
    using console::Hex;
    using console::print;
    const auto extra = xen::hc::xen_extraversion();
    print("# xen: ", context.version.major, ".", context.version.minor, extra ? extra->text : "", "\n");
    print("# guest: ", guest_type_name(context.boot.type), domu::active() ? " domU" : " dom0", "\n");
    print("# xenfeat: ", Hex{context.features});
    constexpr unsigned named = sizeof(feature_names) / sizeof(feature_names[0]);
    for (unsigned bit = 0; bit < 32; ++bit) {
        if (((context.features >> bit) & 1u) == 0)
            continue;
        if (bit < named)
            print(" ", feature_names[bit]);
        else
            print(" bit", bit); // newer than this list
    }
    print("\n# cmdline: ", cmdline.text(), "\n");
    print("# layout: image ", Hex{reinterpret_cast<uint64_t>(__kernel_start)}, "-",
          Hex{reinterpret_cast<uint64_t>(__kernel_end)}, " start_info ", Hex{context.boot.start_info}, " shared_info ",
          Hex{reinterpret_cast<uint64_t>(context.boot.shared)}, "\n");
}

} // namespace

[[noreturn]] void kernel_main(const BootInfo& boot) noexcept
{
    cmdline.parse(boot.cmdline);
    // Never fail on a working Xen; zeros in the log would show otherwise.
    const auto version = xen::hc::xen_version();
    const auto features = xen::hc::xen_features();
    const Context context{boot, cmdline, version.value_or(xen::hc::XenVersion{0, 0}), features.value_or(0)};
    // Before the first line: a domU prints through its console ring.
    domu::init(boot, context.features);
    lifecycle::init(boot);

    describe_xen(context);
    guest_tests::run_all(context);
    machine_reboot();
}

} // namespace mk
