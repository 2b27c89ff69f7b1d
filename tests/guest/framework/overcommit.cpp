// The pCPUs, scheduler and time slice the tests size their windows by
// (overcommit.hpp says where each comes from).
#include "framework/overcommit.hpp"

#include <xen/abi/version.hpp>
#include <xen/hypercall/transport.hpp>
#include <xen/hypercall/vcpu_op.hpp>

#include "cmdline.hpp"

namespace mk::guest_tests {

namespace {

constexpr uint64_t ms = 1'000'000;

Overcommit found;
bool known = false;

// XENVER_commandline: Xen's own command line (1024 bytes, public
// version.h). The hardware domain may read it; a domU gets -EPERM.
char xen_cmdline[1024];

bool read_xen_cmdline() noexcept
{
    const long rc = xen::transport::hypercall2<xen::abi::hypercall::xen_version>(
        static_cast<uint32_t>(xen::abi::xenver::commandline), xen::transport::arg(xen_cmdline));
    xen_cmdline[sizeof(xen_cmdline) - 1] = '\0';
    return rc >= 0;
}

/// The value of `key=` in a space-separated line, copied into `out`
/// (NUL-terminated); false if absent.
bool word_value(const char* line, const char* key, char* out, unsigned out_len) noexcept
{
    for (const char* p = line; *p != '\0';) {
        while (*p == ' ')
            ++p;
        const char* k = key;
        const char* q = p;
        while (*k != '\0' && *q == *k) {
            ++k;
            ++q;
        }
        if (*k == '\0' && *q == '=') {
            ++q;
            unsigned n = 0;
            while (*q != '\0' && *q != ' ' && n + 1 < out_len)
                out[n++] = *q++;
            out[n] = '\0';
            return true;
        }
        while (*p != '\0' && *p != ' ')
            ++p;
    }
    return false;
}

bool parse_sched(const char* name, Sched& out) noexcept
{
    constexpr Sched all[] = {Sched::credit2, Sched::credit, Sched::null, Sched::rtds};
    for (Sched s : all)
        if (str_equal(name, sched_name(s))) {
            out = s;
            return true;
        }
    return false;
}

uint64_t parse_uint(const char* text, uint64_t fallback) noexcept
{
    uint64_t v = 0;
    if (*text == '\0')
        return fallback;
    for (; *text != '\0'; ++text) {
        if (*text < '0' || *text > '9')
            return fallback;
        v = v * 10 + static_cast<uint64_t>(*text - '0');
    }
    return v;
}

// Xen answers VCPUOP_get_physid (pinned hardware domain only) with the
// APIC id of the pCPU that has the vCPU's *number*, and BAD_APICID (~0)
// past the last pCPU: the valid answers count the pCPUs (up to `vcpus`).
uint32_t pcpus_by_physid(uint32_t vcpus) noexcept
{
    uint32_t pcpus = 0;
    for (uint32_t c = 0; c < vcpus; ++c) {
        const auto p = xen::hc::get_physid(xen::VcpuId{c});
        if (!p)
            return 0;
        pcpus += p->apic_id != ~uint32_t{0} ? 1 : 0;
    }
    return pcpus;
}

} // namespace

const char* sched_name(Sched s) noexcept
{
    switch (s) {
    case Sched::credit2: return "credit2";
    case Sched::credit: return "credit";
    case Sched::null: return "null";
    case Sched::rtds: return "rtds";
    }
    return "?";
}

const Overcommit& overcommit(const Context& context, uint32_t vcpus) noexcept
{
    if (known)
        return found;
    known = true;
    Overcommit o;
    o.vcpus = vcpus == 0 ? 1 : vcpus;

    // pCPUs: Xen's answer (it counts at most `vcpus` of them, all a pinned
    // dom0 can be spread over), else the harness's word.
    if (const uint32_t p = pcpus_by_physid(o.vcpus); p != 0) {
        o.pcpus = p;
        o.pcpus_from = "VCPUOP_get_physid";
    } else if (const uint64_t p = context.cmdline.get_uint("xen_pcpus", 0); p != 0) {
        o.pcpus = p > o.vcpus ? o.vcpus : static_cast<uint32_t>(p);
        o.pcpus_from = "xen_pcpus= on the kernel command line";
    } else {
        o.pcpus = 1;
        o.pcpus_from = "unknown, 1 assumed";
    }

    // The scheduler and its slice: Xen's command line, else the harness's word.
    char value[24];
    const bool have_xen_line = read_xen_cmdline();
    if (have_xen_line && word_value(xen_cmdline, "sched", value, sizeof(value)) && parse_sched(value, o.sched))
        o.sched_from = "Xen's command line";
    else if (const char* s = context.cmdline.get("xen_sched"); s != nullptr && parse_sched(s, o.sched))
        o.sched_from = "xen_sched= on the kernel command line";
    else
        o.sched_from = have_xen_line ? "Xen's default (no sched= on its command line)" : "credit2 assumed";
    switch (o.sched) {
    case Sched::credit: {
        uint64_t tslice = 30;
        if (have_xen_line && word_value(xen_cmdline, "sched_credit_tslice_ms", value, sizeof(value)))
            tslice = parse_uint(value, tslice);
        o.slice_ns = tslice * ms;
        break;
    }
    case Sched::credit2: o.slice_ns = 10 * ms; break; // CSCHED2_MAX_TIMER
    case Sched::rtds: o.slice_ns = 4 * ms; break;     // the default budget (period 10 ms)
    case Sched::null: o.slice_ns = 0; break;          // a vCPU keeps its pCPU
    }
    found = o;
    return found;
}

} // namespace mk::guest_tests
