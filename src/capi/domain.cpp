// The C API's domain, VCPUOPs and event channels: each function forwards
// to xen::Domain or its EventChannels (include/xenvcpu.h).
#include <new>

#include "capi.hpp"

using namespace xen;
using namespace xen::capi;

namespace xen::capi {
namespace {

// The storage the C header declares is the C++ objects' own size and
// alignment: a slot array's stride must match, and the rest must fit.
static_assert(sizeof(CDomain) == XENVCPU_DOMAIN_SIZE && alignof(CDomain) == XENVCPU_DOMAIN_ALIGN);
static_assert(sizeof(VcpuSlot) == XENVCPU_VCPU_SLOT_SIZE && alignof(VcpuSlot) == XENVCPU_VCPU_SLOT_ALIGN);
static_assert(sizeof(EventSlot) == XENVCPU_EVENT_SLOT_SIZE && alignof(EventSlot) == XENVCPU_EVENT_SLOT_ALIGN);
static_assert(sizeof(xenvcpu_vcpu_slot) == sizeof(VcpuSlot) && sizeof(xenvcpu_event_slot) == sizeof(EventSlot));
static_assert(sizeof(xenvcpu_domain) == sizeof(CDomain));
static_assert(alignof(xenvcpu_domain) == alignof(CDomain));
static_assert(max_probed_vcpus == XENVCPU_MAX_PROBED_VCPUS);
static_assert(hc::phys_area_none == XENVCPU_PHYS_AREA_NONE);

// Xen's structures, as the header spells them.
static_assert(sizeof(xenvcpu_runstate_info) == sizeof(abi::vcpu_runstate_info));
static_assert(offsetof(xenvcpu_runstate_info, state_entry_time) == offsetof(abi::vcpu_runstate_info, state_entry_time));
static_assert(offsetof(xenvcpu_runstate_info, time) == offsetof(abi::vcpu_runstate_info, time));
static_assert(sizeof(xenvcpu_vcpu_time_info) == sizeof(abi::vcpu_time_info));
static_assert(offsetof(xenvcpu_vcpu_time_info, tsc_to_system_mul) == offsetof(abi::vcpu_time_info, tsc_to_system_mul));
static_assert(offsetof(xenvcpu_vcpu_time_info, flags) == offsetof(abi::vcpu_time_info, flags));
static_assert(sizeof(xenvcpu_runstate_area) == sizeof(Area<abi::vcpu_runstate_info>) &&
              alignof(xenvcpu_runstate_area) == alignof(Area<abi::vcpu_runstate_info>));
static_assert(sizeof(xenvcpu_time_area) == sizeof(Area<abi::vcpu_time_info>) &&
              alignof(xenvcpu_time_area) == alignof(Area<abi::vcpu_time_info>));
static_assert(sizeof(xenvcpu_vcpu_info_area) == sizeof(Area<abi::vcpu_info>) &&
              alignof(xenvcpu_vcpu_info_area) == alignof(Area<abi::vcpu_info>));
static_assert(XENVCPU_RUNSTATE_RUNNING == static_cast<int>(abi::runstate::running) &&
              XENVCPU_RUNSTATE_RUNNABLE == static_cast<int>(abi::runstate::runnable) &&
              XENVCPU_RUNSTATE_BLOCKED == static_cast<int>(abi::runstate::blocked) &&
              XENVCPU_RUNSTATE_OFFLINE == static_cast<int>(abi::runstate::offline));
static_assert(XENVCPU_GUEST_PV == static_cast<int>(GuestKind::pv) &&
              XENVCPU_GUEST_PVH == static_cast<int>(GuestKind::pvh));
static_assert(XENVCPU_VIRQ_TIMER == static_cast<int>(abi::virq::timer) &&
              XENVCPU_VIRQ_DEBUG == static_cast<int>(abi::virq::debug));

// Event handlers are handed to EventChannels as they are: the C handler
// takes (uint32_t, uint32_t, void*), xen::EventHandler (Port, VcpuId,
// void*), and on x86-64 (SysV) a trivially copyable struct of one uint32_t
// is passed exactly as a uint32_t. A trampoline would need a second
// pointer per port, which EventSlot has no room for.
static_assert(sizeof(Port) == 4 && std::is_trivially_copyable_v<Port> && std::is_standard_layout_v<Port>);
static_assert(sizeof(VcpuId) == 4 && std::is_trivially_copyable_v<VcpuId> && std::is_standard_layout_v<VcpuId>);
EventHandler handler_of(xenvcpu_event_handler h) noexcept
{
    return reinterpret_cast<EventHandler>(reinterpret_cast<void (*)()>(h));
}

// KernelHooks trampolines: ctx is the xenvcpu_hooks copy in the CDomain.
const xenvcpu_hooks& hooks(void* ctx) noexcept { return *static_cast<const xenvcpu_hooks*>(ctx); }
VcpuId current(void* ctx) noexcept { return VcpuId{hooks(ctx).current(hooks(ctx).ctx)}; }
FrameNumber frame_of(void* ctx, const void* p) noexcept { return FrameNumber{hooks(ctx).frame_of(hooks(ctx).ctx, p)}; }
ApStack ap_stack(void* ctx, VcpuId v) noexcept
{
    const xenvcpu_ap_stack s = hooks(ctx).ap_stack(hooks(ctx).ctx, v.value);
    return ApStack{s.stack_top, s.arg, s.gs_base};
}
uint64_t now_ns(void* ctx) noexcept { return hooks(ctx).now_ns(hooks(ctx).ctx); }
void relax(void* ctx) noexcept { hooks(ctx).relax(hooks(ctx).ctx); }
void log(void* ctx, const char* text, size_t len) noexcept { hooks(ctx).log(hooks(ctx).ctx, text, len); }
Result<void> ap_prepare(void* ctx, VcpuId v) noexcept
{
    const xenvcpu_errc e = hooks(ctx).ap_prepare(hooks(ctx).ctx, v.value);
    if (e != XENVCPU_OK)
        return err(static_cast<Errc>(e));
    return ok();
}
void before_park(void* ctx, VcpuId v) noexcept { hooks(ctx).before_park(hooks(ctx).ctx, v.value); }
void after_resume(void* ctx, VcpuId v) noexcept { hooks(ctx).after_resume(hooks(ctx).ctx, v.value); }

/// The KernelHooks over `h` (stored in the CDomain): a hook the kernel left
/// NULL stays null, so the library's default applies.
KernelHooks kernel_hooks(xenvcpu_hooks& h) noexcept
{
    KernelHooks k;
    k.ctx = &h;
    k.current = h.current != nullptr ? &current : nullptr;
    k.frame_of = h.frame_of != nullptr ? &frame_of : nullptr;
    k.ap_stack = h.ap_stack != nullptr ? &ap_stack : nullptr;
    k.now_ns = h.now_ns != nullptr ? &now_ns : nullptr;
    k.relax = h.relax != nullptr ? &relax : nullptr;
    k.log = h.log != nullptr ? &log : nullptr;
    k.ap_prepare = h.ap_prepare != nullptr ? &ap_prepare : nullptr;
    k.before_park = h.before_park != nullptr ? &before_park : nullptr;
    k.after_resume = h.after_resume != nullptr ? &after_resume : nullptr;
    return k;
}

bool zero_filled(const unsigned char* p, size_t n) noexcept
{
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0)
            return false;
    return true;
}

VcpuId id(uint32_t v) noexcept { return VcpuId{v}; }

/// Run `op` on the C area as the Area<T> it is laid out as (checked above);
/// invalid_argument for NULL.
template <class T, class CArea, class Op>
xenvcpu_errc with_area(CArea* area, Op op) noexcept
{
    if (area == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    return code(op(*reinterpret_cast<Area<T>*>(area)));
}

} // namespace
} // namespace xen::capi

extern "C" {

xenvcpu_errc xenvcpu_domain_init(xenvcpu_domain* d, const xenvcpu_domain_config* config, xenvcpu_vcpu_slot* slots,
                                 uint32_t nr_slots, xenvcpu_event_slot* ports, uint32_t nr_ports) noexcept
{
    if (d == nullptr || config == nullptr || slots == nullptr || ports == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    // Zero-filled storage has never held a domain: construct it. A domain
    // that init() accepted has its hooks (Domain::init sets them only on
    // success): refuse a second init as Domain::init does, before its hooks
    // or its live slots are touched. Otherwise (first init, or one after a
    // refused attempt) the slots given now become the domain's: construct them.
    if (zero_filled(d->opaque, sizeof d->opaque))
        new (d->opaque) CDomain();
    else if (dom(d).hooks().current != nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    for (uint32_t i = 0; i < nr_slots; ++i)
        new (slots[i].opaque) VcpuSlot();
    for (uint32_t i = 0; i < nr_ports; ++i)
        new (ports[i].opaque) EventSlot();
    CDomain& cd = of(d);
    cd.hooks = config->hooks;
    DomainConfig dc;
    dc.kind = config->kind == XENVCPU_GUEST_PVH ? GuestKind::pvh : GuestKind::pv;
    dc.shared = static_cast<abi::shared_info*>(config->shared_info);
    dc.features = XenFeatures{config->features};
    dc.hooks = kernel_hooks(cd.hooks);
    return code(cd.domain.init(dc, reinterpret_cast<VcpuSlot*>(slots), nr_slots, reinterpret_cast<EventSlot*>(ports),
                               nr_ports));
}

xenvcpu_errc xenvcpu_domain_discover(xenvcpu_domain* d, uint32_t limit, uint32_t* count) noexcept
{
    const Result<uint32_t> r = dom(d).discover(limit);
    if (r.has_value() && count != nullptr)
        *count = *r;
    return code(r);
}

void xenvcpu_domain_set_vcpu_count(xenvcpu_domain* d, uint32_t n) noexcept { dom(d).set_vcpu_count(n); }
uint32_t xenvcpu_domain_vcpu_count(const xenvcpu_domain* d) noexcept { return dom(d).vcpu_count(); }
uint32_t xenvcpu_domain_managed(const xenvcpu_domain* d) noexcept { return dom(d).managed(); }
uint32_t xenvcpu_domain_self(const xenvcpu_domain* d) noexcept { return dom(d).self().value; }
xenvcpu_guest_kind xenvcpu_domain_kind(const xenvcpu_domain* d) noexcept
{
    return dom(d).kind() == GuestKind::pvh ? XENVCPU_GUEST_PVH : XENVCPU_GUEST_PV;
}
uint64_t xenvcpu_domain_now(xenvcpu_domain* d) noexcept { return dom(d).now(); }
uint64_t xenvcpu_domain_own_now(xenvcpu_domain* d) noexcept { return dom(d).own_now(); }
void xenvcpu_domain_relax(xenvcpu_domain* d) noexcept { dom(d).relax(); }
void* xenvcpu_domain_vcpu_info(xenvcpu_domain* d, uint32_t v) noexcept { return dom(d).vcpu_info(id(v)); }
xenvcpu_errc xenvcpu_domain_place_vcpu_info(xenvcpu_domain* d, uint32_t v) noexcept
{
    return code(dom(d).place_vcpu_info(id(v)));
}
xenvcpu_errc xenvcpu_domain_adopt_vcpu_info(xenvcpu_domain* d, uint32_t v) noexcept
{
    return code(dom(d).adopt_vcpu_info(id(v)));
}

// --- the VCPUOPs --------------------------------------------------------------

xenvcpu_errc xenvcpu_vcpu_initialise_pv(xenvcpu_domain* d, uint32_t v, const void* context) noexcept
{
    if (context == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    return code(dom(d).initialise(id(v), *static_cast<const abi::vcpu_guest_context*>(context)));
}
xenvcpu_errc xenvcpu_vcpu_initialise_hvm(xenvcpu_domain* d, uint32_t v, const void* context) noexcept
{
    if (context == nullptr)
        return XENVCPU_INVALID_ARGUMENT;
    return code(dom(d).initialise(id(v), *static_cast<const abi::vcpu_hvm_context*>(context)));
}
xenvcpu_errc xenvcpu_vcpu_up(xenvcpu_domain* d, uint32_t v) noexcept { return code(dom(d).up(id(v))); }
xenvcpu_errc xenvcpu_vcpu_down(xenvcpu_domain* d, uint32_t v) noexcept { return code(dom(d).down(id(v))); }
xenvcpu_errc xenvcpu_vcpu_is_up(xenvcpu_domain* d, uint32_t v, bool* up) noexcept
{
    const Result<bool> r = dom(d).is_up(id(v));
    if (r.has_value() && up != nullptr)
        *up = *r;
    return code(r);
}
xenvcpu_errc xenvcpu_vcpu_get_runstate_info(xenvcpu_domain* d, uint32_t v, xenvcpu_runstate_info* out) noexcept
{
    const Result<abi::vcpu_runstate_info> r = dom(d).get_runstate_info(id(v));
    if (r.has_value() && out != nullptr)
        __builtin_memcpy(out, &*r, sizeof *out);
    return code(r);
}
xenvcpu_errc xenvcpu_vcpu_register_runstate_memory_area(xenvcpu_domain* d, uint32_t v,
                                                        xenvcpu_runstate_area* area) noexcept
{
    return with_area<abi::vcpu_runstate_info>(area,
                                              [&](auto& a) { return dom(d).register_runstate_memory_area(id(v), a); });
}
xenvcpu_errc xenvcpu_vcpu_set_periodic_timer(xenvcpu_domain* d, uint32_t v, uint64_t period_ns) noexcept
{
    return code(dom(d).set_periodic_timer(id(v), period_ns));
}
xenvcpu_errc xenvcpu_vcpu_stop_periodic_timer(xenvcpu_domain* d, uint32_t v) noexcept
{
    return code(dom(d).stop_periodic_timer(id(v)));
}
xenvcpu_errc xenvcpu_vcpu_set_singleshot_timer(xenvcpu_domain* d, uint32_t v, uint64_t deadline_ns) noexcept
{
    return code(dom(d).set_singleshot_timer(id(v), deadline_ns));
}
xenvcpu_errc xenvcpu_vcpu_stop_singleshot_timer(xenvcpu_domain* d, uint32_t v) noexcept
{
    return code(dom(d).stop_singleshot_timer(id(v)));
}
xenvcpu_errc xenvcpu_vcpu_register_vcpu_info(xenvcpu_domain* d, uint32_t v, xenvcpu_vcpu_info_area* area,
                                             uint64_t frame) noexcept
{
    return with_area<abi::vcpu_info>(area,
                                     [&](auto& a) { return dom(d).register_vcpu_info(id(v), a, FrameNumber{frame}); });
}
xenvcpu_errc xenvcpu_vcpu_send_nmi(xenvcpu_domain* d, uint32_t v) noexcept { return code(dom(d).send_nmi(id(v))); }
xenvcpu_errc xenvcpu_vcpu_get_physid(xenvcpu_domain* d, uint32_t v, xenvcpu_physid* out) noexcept
{
    const Result<hc::PhysId> r = dom(d).get_physid(id(v));
    if (r.has_value() && out != nullptr)
        *out = xenvcpu_physid{r->apic_id, r->acpi_id};
    return code(r);
}
xenvcpu_errc xenvcpu_vcpu_register_vcpu_time_memory_area(xenvcpu_domain* d, uint32_t v,
                                                         xenvcpu_time_area* area) noexcept
{
    return with_area<abi::vcpu_time_info>(area,
                                          [&](auto& a) { return dom(d).register_vcpu_time_memory_area(id(v), a); });
}
xenvcpu_errc xenvcpu_vcpu_register_runstate_phys_area(xenvcpu_domain* d, uint32_t v, xenvcpu_runstate_area* area,
                                                      uint64_t pa) noexcept
{
    return with_area<abi::vcpu_runstate_info>(
        area, [&](auto& a) { return dom(d).register_runstate_phys_area(id(v), a, PhysAddr{pa}); });
}
xenvcpu_errc xenvcpu_vcpu_register_vcpu_time_phys_area(xenvcpu_domain* d, uint32_t v, xenvcpu_time_area* area,
                                                       uint64_t pa) noexcept
{
    return with_area<abi::vcpu_time_info>(
        area, [&](auto& a) { return dom(d).register_vcpu_time_phys_area(id(v), a, PhysAddr{pa}); });
}

// --- event channels -----------------------------------------------------------

void xenvcpu_events_mask_all(xenvcpu_domain* d) noexcept { dom(d).events().mask_all(); }

xenvcpu_errc xenvcpu_events_bind_virq(xenvcpu_domain* d, uint32_t virq, uint32_t v, xenvcpu_event_handler handler,
                                      void* ctx, uint32_t* port) noexcept
{
    const Result<Port> r = dom(d).events().bind_virq(static_cast<abi::virq>(virq), id(v), handler_of(handler), ctx);
    if (r.has_value() && port != nullptr)
        *port = r->value;
    return code(r);
}
xenvcpu_errc xenvcpu_events_bind_ipi(xenvcpu_domain* d, uint32_t v, xenvcpu_event_handler handler, void* ctx,
                                     uint32_t* port) noexcept
{
    const Result<Port> r = dom(d).events().bind_ipi(id(v), handler_of(handler), ctx);
    if (r.has_value() && port != nullptr)
        *port = r->value;
    return code(r);
}
xenvcpu_errc xenvcpu_events_attach(xenvcpu_domain* d, uint32_t port, uint32_t v, xenvcpu_event_handler handler,
                                   void* ctx) noexcept
{
    return code(dom(d).events().attach(Port{port}, id(v), handler_of(handler), ctx));
}
xenvcpu_errc xenvcpu_events_send(xenvcpu_domain* d, uint32_t port) noexcept
{
    return code(dom(d).events().send(Port{port}));
}
xenvcpu_errc xenvcpu_events_mask(xenvcpu_domain* d, uint32_t port) noexcept
{
    return code(dom(d).events().mask(Port{port}));
}
xenvcpu_errc xenvcpu_events_unmask(xenvcpu_domain* d, uint32_t port) noexcept
{
    return code(dom(d).events().unmask(Port{port}));
}
xenvcpu_errc xenvcpu_events_close(xenvcpu_domain* d, uint32_t port, uint32_t self) noexcept
{
    return code(dom(d).events().close(Port{port}, id(self)));
}
xenvcpu_errc xenvcpu_events_raise_local(xenvcpu_domain* d, uint32_t port, uint32_t self) noexcept
{
    abi::vcpu_info* vi = dom(d).vcpu_info(id(self));
    if (vi == nullptr)
        return XENVCPU_VCPU_OUT_OF_RANGE;
    return code(dom(d).events().raise_local(Port{port}, id(self), *vi));
}
xenvcpu_errc xenvcpu_events_dispatch(xenvcpu_domain* d, uint32_t self, uint32_t budget, uint32_t* handled,
                                     bool* more) noexcept
{
    abi::vcpu_info* vi = dom(d).vcpu_info(id(self));
    if (vi == nullptr)
        return XENVCPU_VCPU_OUT_OF_RANGE;
    const DispatchResult r = dom(d).events().dispatch(id(self), *vi, budget != 0 ? budget : default_dispatch_budget);
    if (handled != nullptr)
        *handled = r.handled;
    if (more != nullptr)
        *more = r.more;
    return XENVCPU_OK;
}

} // extern "C"
