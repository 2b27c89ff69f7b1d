// The C API of Domain::suspend (include/xenvcpu.h): the C config's hooks
// reached through trampolines, the report copied out field by field.
#include "capi.hpp"

#include <xen/lifecycle.hpp>

using namespace xen;
using namespace xen::capi;

namespace {

static_assert(static_cast<int>(SuspendStep::aps) == XENVCPU_STEP_APS, "the C steps follow xen::SuspendStep");
static_assert(static_cast<int>(SuspendStep::vcpu_info) == XENVCPU_STEP_VCPU_INFO);
static_assert(static_cast<int>(SuspendStep::events) == XENVCPU_STEP_EVENTS);
static_assert(static_cast<int>(SuspendOutcome::cancelled) == XENVCPU_SUSPEND_CANCELLED);

abi::shared_info* remap(void* ctx) noexcept
{
    const auto* c = static_cast<const xenvcpu_suspend_config*>(ctx);
    return static_cast<abi::shared_info*>(c->remap_shared_info(c->ctx));
}

Result<void> before(void* ctx) noexcept
{
    const auto* c = static_cast<const xenvcpu_suspend_config*>(ctx);
    const xenvcpu_errc e = c->before_suspend(c->ctx);
    if (e != XENVCPU_OK)
        return err(static_cast<Errc>(e));
    return ok();
}

uint64_t cr3(void* ctx) noexcept
{
    const auto* c = static_cast<const xenvcpu_suspend_config*>(ctx);
    return c->pv_cr3(c->ctx);
}

SuspendConfig convert(xenvcpu_domain* d, const xenvcpu_suspend_config* config) noexcept
{
    SuspendConfig c;
    c.start_info_mfn = config->start_info_mfn;
    c.upcall_vector = config->upcall_vector;
    c.callback_via = config->callback_via;
    c.smp = config->smp != nullptr ? &of(config->smp) : nullptr;
    c.timers = config->timers != nullptr ? &of(config->timers) : nullptr;
    c.runstate = &of(d).runstate;
    c.bound = bound_of(config->bound);
    c.hooks.ctx = const_cast<xenvcpu_suspend_config*>(config);
    c.hooks.remap_shared_info = config->remap_shared_info != nullptr ? &remap : nullptr;
    c.hooks.before_suspend = config->before_suspend != nullptr ? &before : nullptr;
    c.hooks.pv_cr3 = config->pv_cr3 != nullptr ? &cr3 : nullptr;
    return c;
}

void copy_out(const SuspendReport& r, xenvcpu_suspend_report* report) noexcept
{
    if (report == nullptr)
        return;
    report->outcome = static_cast<xenvcpu_suspend_outcome>(r.outcome);
    report->failed_step = static_cast<xenvcpu_suspend_step>(r.failed_step);
    report->failed_vcpu = r.failed_vcpu.value;
    report->cause = code(r.cause);
    report->clock_before_ns = r.clock_before_ns;
    report->clock_after_ns = r.clock_after_ns;
    report->offset_ns = r.offset_ns;
    report->aps_parked = r.aps_parked;
    report->aps_back = r.aps_back;
    report->ports_rebound = r.ports_rebound;
    report->downed_to_register = r.downed_to_register;
    report->still_registered = r.still_registered;
}

} // namespace

extern "C" {

xenvcpu_errc xenvcpu_domain_suspend(xenvcpu_domain* d, const xenvcpu_suspend_config* config,
                                    xenvcpu_suspend_outcome* outcome, xenvcpu_suspend_report* report) noexcept
{
    if (d == nullptr || config == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    const SuspendConfig c = convert(d, config);
    SuspendReport r;
    const Result<SuspendOutcome> got = dom(d).suspend(c, &r);
    copy_out(r, report);
    if (got.has_value() && outcome != nullptr)
        *outcome = static_cast<xenvcpu_suspend_outcome>(*got);
    return code(got);
}

xenvcpu_errc xenvcpu_domain_resumed(xenvcpu_domain* d, const xenvcpu_suspend_config* config, uint64_t before_ns,
                                    xenvcpu_suspend_report* report) noexcept
{
    if (d == nullptr || config == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    const SuspendConfig c = convert(d, config);
    SuspendReport r;
    const Result<void> got = dom(d).resumed(c, before_ns, &r);
    copy_out(r, report);
    return code(got);
}

int64_t xenvcpu_domain_clock_offset(const xenvcpu_domain* d) noexcept { return dom(d).clock_offset(); }

uint64_t xenvcpu_domain_to_xen_time(const xenvcpu_domain* d, uint64_t t) noexcept { return dom(d).to_xen_time(t); }

const char* xenvcpu_suspend_step_name(xenvcpu_suspend_step step) noexcept
{
    return suspend_step_name(static_cast<SuspendStep>(step));
}

} // extern "C"
