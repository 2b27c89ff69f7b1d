// The runner: which tests run, whether this domain fits each, and the TAP
// stream around their results. The plan is printed last and counts what
// the tests reported, so no table of result counts is kept anywhere; a
// stream that stops early (a hang, a crash, lost console output) has no
// plan, or a gap in its numbers, and the boot harness fails it.

#include "cmdline.hpp"
#include "domain.hpp"
#include "framework/overcommit.hpp"
#include "framework/test.hpp"

namespace mk::guest_tests {

// all_tests.cpp: every test, in the order they run.
extern const Test* const all_tests[];

uint32_t nmi_sent_to_down_vcpu = ~0u;
extern const unsigned all_tests_size;

namespace {

/// What the declarations are matched against.
struct Environment {
    GuestType guest;
    bool dom0;
    uint32_t vcpus; ///< the domain's, counted with VCPUOP_is_up
};

Environment environment(Tap& tap, const Context& context) noexcept
{
    // Only vCPU 0 runs here; counting probes VCPUOP_is_up and starts nothing.
    const auto vcpus = domain().discover();
    // Never seen; but a count we do not have must not quietly skip tests.
    if (!vcpus)
        tap.result(false, "tests",
                   "could not count the domain's vCPUs with VCPUOP_is_up: ", xen::errc_name(vcpus.error()),
                   "; taking 1");
    return Environment{context.boot.type, xen::hc::has_feature(context.features, xen::abi::xenfeat::dom0),
                       vcpus.value_or(1)};
}

const char* domain_name(bool dom0) noexcept { return dom0 ? "dom0" : "domU"; }

/// Report `test` as skipped and return true if this domain does not fit it.
bool skipped_here(Tap& tap, const Test& test, const Environment& env) noexcept
{
    const bool guest_fits = test.guests == Guests::both || (test.guests == Guests::pv) == (env.guest == GuestType::pv);
    const bool domain_fits = test.domains == Domains::both || (test.domains == Domains::dom0) == env.dom0;
    if (!guest_fits)
        tap.not_run(test.name, "needs a ", test.guests == Guests::pv ? "PV" : "PVH", " guest, this is ",
                    guest_type_name(env.guest));
    else if (!domain_fits)
        tap.not_run(test.name, "needs a ", test.domains == Domains::dom0 ? "dom0" : "domU", ", this is ",
                    domain_name(env.dom0), test.domains == Domains::domu ? " (run it with scripts/boot --domu)" : "");
    else if (env.vcpus < test.min_vcpus)
        tap.not_run(test.name, "needs ", test.min_vcpus, " vCPUs, the domain has ", env.vcpus);
    return !(guest_fits && domain_fits && env.vcpus >= test.min_vcpus);
}

// tests= absent (or "all"): the default tests; otherwise those named.
bool selected(const Test& t, const char* tests) noexcept
{
    if (tests == nullptr || *tests == '\0' || str_equal(tests, "all"))
        return t.by_default;
    return list_contains(tests, t.name);
}

// Names in tests= that match no test: each becomes a failed TAP result,
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
        for (unsigned i = 0; i < all_tests_size && !known; ++i)
            known = str_equal(item, all_tests[i]->name);
        if (!known)
            visit(static_cast<const char*>(item));
    }
}

} // namespace

void run_all(const Context& context) noexcept
{
    Tap tap;
    tap.version();
    const Environment env = environment(tap, context);
    tap.comment("tests: ", guest_type_name(env.guest), " ", domain_name(env.dom0), " with ", env.vcpus,
                " vCPU(s) on Xen ", context.version.major, ".", context.version.minor);
    // Xen's system time counts from Xen's own boot: how long Xen took to
    // build and start us (in the machine's time, emulated or not).
    tap.metric("boot", "xen_uptime_ns", now_ns());
    // How crowded the machine is: tests that need every vCPU to run in a
    // window size it by this (framework/overcommit.hpp).
    const Overcommit& oc = overcommit(context, env.vcpus);
    tap.comment("tests: ", oc.vcpus, " vCPU(s) on ", oc.pcpus, " pCPU(s) (", oc.pcpus_from, "), ", oc.ratio(),
                " per pCPU at most; scheduler ", sched_name(oc.sched), " (", oc.sched_from, "), slice ",
                oc.slice_ns / 1000, " us");
    tap.metric("tests", "pcpus", oc.pcpus);
    tap.metric("tests", "overcommit_ratio", oc.ratio());
    tap.metric("tests", "slice_ns", oc.slice_ns);

    const char* tests = context.cmdline.get("tests");
    for (unsigned i = 0; i < all_tests_size; ++i) {
        const Test& t = *all_tests[i];
        if (!selected(t, tests) || skipped_here(tap, t, env))
            continue;
        const unsigned before = tap.reported();
        t.run(tap, context);
        if (tap.reported() == before)
            tap.result(false, t.name, "the test returned without reporting a result");
    }
    for_each_unknown(tests, [&](const char* name) { tap.result(false, "tests", "no test named '", name, "'"); });

    tap.plan(tap.reported());
    tap.comment("xenvcpu: ", guest_type_name(env.guest), " on Xen ", context.version.major, ".", context.version.minor,
                ": ", tap.passed(), " passed, ", tap.failed(), " failed, ", tap.skipped(), " skipped, of ",
                tap.reported());
    tap.comment("xenvcpu: done");
}

} // namespace mk::guest_tests
