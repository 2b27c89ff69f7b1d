// Domain: set-up, vCPU discovery, slots and vcpu_info placement, the clock
// and the bounded-wait step. The VCPUOPs are in vcpu_ops.cpp.
#include <xen/domain.hpp>
#include <xen/hypercall/sched_op.hpp>

#include "time/clock_read.hpp"

namespace xen {

Result<void> Domain::init(const DomainConfig& config, VcpuSlot* slots, uint32_t nr_slots, EventSlot* ports,
                          uint32_t nr_ports) noexcept
{
    if (shared_ != nullptr || config.shared == nullptr || config.hooks.current == nullptr || slots == nullptr ||
        nr_slots == 0 || ports == nullptr || nr_ports == 0)
        return err(Errc::invalid_argument);
    hooks_ = config.hooks;
    shared_ = config.shared;
    kind_ = config.kind;
    features_ = config.features;
    slots_ = slots;
    nr_slots_ = nr_slots;
    vcpus_ = nr_slots;
    events_.init(*shared_, ports, nr_ports, parts(&VcpuSlot::events));
    // vCPUs below XEN_LEGACY_MAX_VCPUS start on their shared_info slot
    // (Xen's vcpu_info_reset), and read their pvclock record there.
    for (uint32_t v = 0; v < nr_slots; ++v) {
        VcpuSlot& s = slots[v];
        s.smp.vcpu = VcpuId{v};
        if (abi::vcpu_info* vi = vcpu_info(VcpuId{v}))
            s.clock.record = &vi->time;
    }
    return ok();
}

Result<uint32_t> Domain::discover(uint32_t limit) noexcept
{
    // Xen answers -ENOENT for every op on a vcpu_id it never created
    // (domain_vcpu() == NULL), and creates d->vcpu[] densely up to
    // max_vcpus: the first -ENOENT is the count (Linux PV and NetBSD count
    // the same way). Vcpu `limit` is probed too: only its -ENOENT shows that
    // a domain of exactly `limit` vCPUs has no more.
    for (uint32_t n = 0; n <= limit; ++n) {
        const auto up = hc::vcpu_is_up(VcpuId{n});
        if (up.has_value())
            continue;
        if (up.error() != Errc::enoent)
            return err(up.error());
        vcpus_ = n;
        return n;
    }
    return err(Errc::no_space);
}

Result<void> Domain::check(VcpuId v) const noexcept
{
    if (v.value >= vcpus_)
        return err(Errc::vcpu_out_of_range);
    return ok();
}

Result<VcpuSlot*> Domain::slot(VcpuId v) noexcept
{
    VcpuSlot* s = find(v);
    if (s == nullptr)
        return err(Errc::vcpu_out_of_range);
    return s;
}

abi::vcpu_info* Domain::vcpu_info(VcpuId v) noexcept
{
    VcpuSlot* s = v.value < nr_slots_ ? &slots_[v.value] : nullptr;
    if (s != nullptr && s->vcpu_info_registered)
        return s->vcpu_info.get();
    // vcpu_info_reset(): vCPUs below XEN_LEGACY_MAX_VCPUS use their slot in
    // shared_info until they register one; the others share a dummy in Xen.
    if (shared_ != nullptr && v.value < abi::legacy_max_vcpus && v.value < nr_slots_)
        return &shared_->vcpu_info[v.value];
    return nullptr;
}

Result<void> Domain::place_vcpu_info(VcpuId v) noexcept
{
    XEN_TRY_ASSIGN(VcpuSlot * s, slot(v));
    if (s->vcpu_info_registered)
        return ok();
    if (hooks_.frame_of == nullptr)
        return err(Errc::invalid_argument);
    const FrameNumber frame = hooks_.frame_of(hooks_.ctx, s->vcpu_info.get());
    XEN_TRY(hc::register_vcpu_info(v, s->vcpu_info, frame));
    return adopt_vcpu_info(v);
}

Result<void> Domain::adopt_vcpu_info(VcpuId v) noexcept
{
    XEN_TRY_ASSIGN(VcpuSlot * s, slot(v));
    s->vcpu_info_registered = true;
    // Xen copied the old vcpu_info (time record included) into the area:
    // the clock's last reading stays valid across the switch. Placement
    // happens on the vCPU itself or while it is down, so no reader races.
    s->clock.record = &s->vcpu_info.get()->time;
    return ok();
}

uint64_t Domain::raw_now() noexcept
{
    if (hooks_.now_ns != nullptr)
        return hooks_.now_ns(hooks_.ctx);
    VcpuSlot* s = find(self());
    if (s == nullptr)
        return 0;
    const auto t = detail::read_clock(clock_, s->clock);
    return t.has_value() ? t->ns : s->clock.last_ns;
}

uint64_t Domain::raw_own_now() noexcept
{
    if (hooks_.now_ns != nullptr)
        return hooks_.now_ns(hooks_.ctx);
    VcpuSlot* s = find(self());
    if (s == nullptr || s->clock.record == nullptr)
        return raw_now();
    const auto t = pvclock_read(*s->clock.record);
    return t.has_value() ? t->system_time_ns : raw_now();
}

// The offset is 0 until a restore (docs/lifecycle.md, "Time across the
// gap"); the sum wraps like the offset's choice did.
uint64_t Domain::now() noexcept { return raw_now() + static_cast<uint64_t>(clock_offset()); }

uint64_t Domain::own_now() noexcept { return raw_own_now() + static_cast<uint64_t>(clock_offset()); }

Result<WallTime> Domain::wallclock_now() noexcept { return xen::wallclock_now(*shared_, raw_now()); }

uint64_t Domain::to_xen_time(uint64_t t) const noexcept
{
    const int64_t off = clock_offset();
    if (off >= 0)
        return t > static_cast<uint64_t>(off) ? t - static_cast<uint64_t>(off) : 1;
    const uint64_t up = static_cast<uint64_t>(-(off + 1)) + 1;
    return t > ~uint64_t{0} - up ? ~uint64_t{0} : t + up;
}

[[gnu::cold]] void Domain::log(const char* what, const VcpuId* vcpu, const char* detail) noexcept
{
    if (hooks_.log == nullptr)
        return;
    // One line on the stack: the library has no heap and no printf.
    char line[160];
    size_t n = 0;
    auto put = [&](const char* s) {
        for (; s != nullptr && *s != '\0' && n < sizeof(line); ++s)
            line[n++] = *s;
    };
    put("xenvcpu: ");
    put(what);
    if (vcpu != nullptr) {
        char digits[10];
        size_t d = 0;
        uint32_t v = vcpu->value;
        do {
            digits[d++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        put(" vCPU ");
        while (d > 0 && n < sizeof(line))
            line[n++] = digits[--d];
    }
    if (detail != nullptr) {
        put(": ");
        put(detail);
    }
    hooks_.log(hooks_.ctx, line, n);
}

void Domain::relax() noexcept
{
    if (hooks_.relax != nullptr)
        hooks_.relax(hooks_.ctx);
    else
        (void)hc::sched_yield();
}

} // namespace xen
