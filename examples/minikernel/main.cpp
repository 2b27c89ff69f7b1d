// The part both guest types share: say where we are, run the scenarios the
// command line asks for, print a summary and end the machine.
#include <xen/hypercall/xen_version.hpp>
#include <xen/time/pvclock.hpp>

#include "cmdline.hpp"
#include "console.hpp"
#include "domu.hpp"
#include "kernel.hpp"
#include "scenarios.hpp"
#include "framework/tap.hpp"

namespace mk {

namespace {

Cmdline cmdline;

// XENFEAT_* names (public features.h), for the log.
const char* const feature_names[] = {
    "writable_page_tables", "writable_descriptor_tables", "auto_translated_physmap",
    "supervisor_mode_kernel", "pae_pgdir_above_4gb", "mmu_pt_update_preserve_ad",
    "highmem_assist", "gnttab_map_avail_bits", "hvm_callback_vector", "hvm_safe_pvclock",
    "hvm_pirqs", "dom0", "grant_map_identity", "memory_op_vnode_supported",
    "arm_smccc_supported", "linux_rsdp_unrestricted", "not_direct_mapped", "direct_mapped",
    "runstate_phys_area", "vcpu_time_phys_area", "dm_msix_all_writes",
};

// From kernel.ld.
extern "C" char __kernel_start[], __kernel_end[];

void describe_xen(Tap& tap, const Context& context) noexcept
{
    const auto extra = xen::hc::xen_extraversion();
    tap.comment("xen: ", context.version.major, ".", context.version.minor, extra ? extra->text : "");
    tap.comment("guest: ", guest_type_name(context.boot.type), domu::active() ? " domU" : " dom0");
    console::print("# xenfeat: ", console::Hex{context.features});
    constexpr unsigned named = sizeof(feature_names) / sizeof(feature_names[0]);
    for (unsigned bit = 0; bit < 32; ++bit) {
        if (((context.features >> bit) & 1u) == 0)
            continue;
        if (bit < named)
            console::print(" ", feature_names[bit]);
        else
            console::print(" bit", bit); // newer than this list
    }
    console::print("\n");
    tap.comment("cmdline: ", cmdline.text());
    using console::Hex;
    // Xen's system time counts from Xen's own boot: how long Xen took to
    // build and start us (in the machine's time, emulated or not).
    tap.metric("boot", "xen_uptime_ns", pvclock_now_ns(context.boot.shared->vcpu_info[0]));
    tap.comment("layout: image ", Hex{reinterpret_cast<uint64_t>(__kernel_start)}, "-",
                Hex{reinterpret_cast<uint64_t>(__kernel_end)}, " start_info ", Hex{context.boot.start_info},
                " shared_info ", Hex{reinterpret_cast<uint64_t>(context.boot.shared)});
}

// tests= absent (or "all"): the default scenarios; otherwise those named.
bool selected(const Scenario& s, const char* tests) noexcept
{
    if (tests == nullptr || *tests == '\0' || str_equal(tests, "all"))
        return s.by_default;
    return list_contains(tests, s.name);
}

// Names in tests= that match no scenario: each becomes a failed TAP result,
// so a typo cannot pass as "nothing to run".
template <class Visit>
void for_each_unknown(const char* tests, Visit visit) noexcept
{
    if (tests == nullptr)
        return;
    char item[32];
    while (*tests != '\0') {
        unsigned n = 0;
        for (; *tests != '\0' && *tests != ','; ++tests)
            if (n + 1 < sizeof(item))
                item[n++] = *tests;
        item[n] = '\0';
        if (*tests == ',')
            ++tests;
        bool known = n == 0 || str_equal(item, "all");
        for (unsigned i = 0; i < scenario_count && !known; ++i)
            known = str_equal(item, scenarios[i].name);
        if (!known)
            visit(static_cast<const char*>(item));
    }
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

    Tap tap;
    tap.version();
    describe_xen(tap, context);

    const char* tests = cmdline.get("tests");
    unsigned planned = 0;
    for (unsigned i = 0; i < scenario_count; ++i)
        if (selected(scenarios[i], tests))
            planned += scenarios[i].points;
    for_each_unknown(tests, [&](const char*) { ++planned; });
    tap.plan(planned);

    for (unsigned i = 0; i < scenario_count; ++i) {
        const Scenario& s = scenarios[i];
        if (!selected(s, tests))
            continue;
        const unsigned before = tap.reported();
        s.run(tap, context);
        // Keep the plan honest if a scenario reported fewer results than it declared.
        for (unsigned n = tap.reported() - before; n < s.points; ++n)
            tap.result(false, s.name, "scenario ended without reporting this result");
    }
    for_each_unknown(tests, [&](const char* name) { tap.result(false, "tests", "no scenario named '", name, "'"); });

    tap.comment("xenvcpu: ", guest_type_name(boot.type), " on Xen ", context.version.major, ".",
                context.version.minor, ": ", tap.passed(), " passed, ", tap.failed(), " failed, ", tap.skipped(),
                " skipped, of ", planned);
    tap.comment("xenvcpu: done");
    machine_reboot();
}

} // namespace mk
