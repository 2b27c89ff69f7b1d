// VCPUOP (hypercall 24): ops 0-15 as docs/vcpuop.md describes them, with the
// per-version differences of Xen 4.17 and 4.18+. Every op on a vcpu_id the
// domain never created answers -ENOENT (domain_vcpu() == NULL), before the
// op is even decoded.
#include <stdexcept>

#include <xen/abi/guest_context.hpp>
#include <xen/abi/hvm_context.hpp>

#include "state.hpp"

namespace xen::sim {

namespace {

constexpr bool is_canonical(uint64_t va) noexcept
{
    const auto top = static_cast<int64_t>(va) >> 47;
    return top == 0 || top == -1;
}

constexpr bool crosses_page(uint64_t addr, uint64_t size) noexcept { return (addr % page_size) + size > page_size; }

// The checks of arch_set_info_guest this model applies (x86/domain.c):
// non-canonical callbacks, too many GDT entries, user mode without a user L4.
bool pv_context_ok(const abi::vcpu_guest_context& c) noexcept
{
    if (!is_canonical(c.event_callback_eip) || !is_canonical(c.failsafe_callback_eip) ||
        !is_canonical(c.syscall_callback_eip))
        return false;
    if (c.gdt_ents > 16 * 512)
        return false;
    if ((c.flags & abi::vgcf_in_kernel) == 0 && c.ctrlreg[1] == 0)
        return false;
    return true;
}

// A subset of arch_set_info_hvm_guest's checks (hvm/domain.c): padding,
// mode, and what 64-bit mode needs (CR0.PG, CR4.PAE, EFER.LME, canonical RIP).
bool hvm_context_ok(const abi::vcpu_hvm_context& c) noexcept
{
    if (c.pad != 0)
        return false;
    if (c.mode == static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_32b)) {
        const auto& r = c.cpu_regs.x86_32;
        return r.pad1 == 0 && r.pad2[0] == 0 && r.pad2[1] == 0 && r.pad2[2] == 0;
    }
    if (c.mode != static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_64b))
        return false;
    const auto& r = c.cpu_regs.x86_64;
    constexpr uint64_t cr0_pg = 1ull << 31, cr4_pae = 1ull << 5, efer_lme = 1ull << 8;
    return (r.cr0 & cr0_pg) && (r.cr4 & cr4_pae) && (r.efer & efer_lme) && is_canonical(r.rip);
}

} // namespace

Hypervisor::VcpuState* Hypervisor::find(uint32_t id) { return id < vcpus_.size() ? vcpus_[id].get() : nullptr; }

const Hypervisor::VcpuState* Hypervisor::find(uint32_t id) const
{
    return id < vcpus_.size() ? vcpus_[id].get() : nullptr;
}

Hypervisor::VcpuState& Hypervisor::at(VcpuId id)
{
    if (auto* v = find(id.value))
        return *v;
    throw std::out_of_range("xen::sim: no such vCPU");
}

const Hypervisor::VcpuState& Hypervisor::at(VcpuId id) const
{
    if (auto* v = find(id.value))
        return *v;
    throw std::out_of_range("xen::sim: no such vCPU");
}

long Hypervisor::vcpu_op(VcpuId caller, int32_t cmd, uint32_t id, uint64_t arg)
{
    auto* vp = find(id);
    if (vp == nullptr)
        return fail(Errc::enoent);
    auto& v = *vp;
    const bool has_phys_areas = cfg_.version.at_least(4, 18);

    switch (static_cast<abi::vcpuop>(cmd)) {
    case abi::vcpuop::initialise: return vcpu_initialise(v, arg);
    case abi::vcpuop::up: return vcpu_up(v);
    case abi::vcpuop::down: return vcpu_down(caller, v);
    case abi::vcpuop::is_up: return vcpu_is_up(v);
    case abi::vcpuop::get_runstate_info: return copy_to_guest(arg, runstate_snapshot(v)) ? 0 : fail(Errc::efault);
    case abi::vcpuop::register_runstate_memory_area: {
        // No containment or mapping check (best effort by design); NULL
        // stops updates. Written at once, current or not.
        abi::vcpu_register_area_va a{};
        if (!copy_from_guest(a, arg))
            return fail(Errc::efault);
        v.runstate_va = guest_ptr<abi::vcpu_runstate_info>(a.addr);
        if (v.runstate_va != nullptr && v.runstate_phys == nullptr)
            write_runstate_area(v);
        return 0;
    }
    case abi::vcpuop::set_periodic_timer: {
        abi::vcpu_set_periodic_timer p{};
        if (!copy_from_guest(p, arg))
            return fail(Errc::efault);
        if (p.period_ns < abi::periodic_period_min_ns || p.period_ns > abi::periodic_period_max_ns)
            return fail(Errc::einval);
        v.periodic_period = p.period_ns;
        v.periodic_last = now_;
        return 0;
    }
    case abi::vcpuop::stop_periodic_timer: v.periodic_period = 0; return 0;
    case abi::vcpuop::set_singleshot_timer: {
        if (v.id != caller.value)
            return fail(Errc::einval);
        abi::vcpu_set_singleshot_timer s{};
        if (!copy_from_guest(s, arg))
            return fail(Errc::efault);
        if (s.timeout_abs_ns < now_) {
            // Xen 4.18 (commit 19c6cbd909), backported to 4.17.3: the flag is
            // ignored and the event is sent at once. Before: -ETIME, nothing armed.
            if ((s.flags & abi::sshottmr_future) != 0 && !cfg_.version.at_least(4, 17, 3))
                return fail(Errc::etime);
            v.singleshot.reset();
            timer_fire(v);
            return 0;
        }
        arm_singleshot(v, s.timeout_abs_ns);
        return 0;
    }
    case abi::vcpuop::stop_singleshot_timer:
        if (v.id != caller.value)
            return fail(Errc::einval);
        v.singleshot.reset();
        return 0;
    case abi::vcpuop::register_vcpu_info: return vcpu_register_vcpu_info(caller, v, arg);
    case abi::vcpuop::send_nmi:
        if (arg != 0)
            return fail(Errc::einval);
        ++v.nmis;
        return 0;
    case abi::vcpuop::get_physid: return vcpu_get_physid(v, arg);
    case abi::vcpuop::register_vcpu_time_memory_area: {
        abi::vcpu_register_area_va a{};
        if (!copy_from_guest(a, arg))
            return fail(Errc::efault);
        v.time_va = guest_ptr<abi::vcpu_time_info>(a.addr);
        write_time(v); // force_update_vcpu_system_time
        return 0;
    }
    case abi::vcpuop::register_runstate_phys_area: {
        if (!has_phys_areas)
            return fail(Errc::enosys);
        const long rc = vcpu_register_phys_area(v, arg, true);
        // runstate_area_populate writes the area only for the calling vCPU;
        // another vCPU's area stays as the guest left it until that vCPU
        // next changes state.
        if (rc == 0 && v.runstate_phys != nullptr && v.id == caller.value)
            write_runstate_area(v);
        return rc;
    }
    case abi::vcpuop::register_vcpu_time_phys_area:
        if (!has_phys_areas)
            return fail(Errc::enosys);
        return vcpu_register_phys_area(v, arg, false);
    }
    return fail(Errc::enosys);
}

long Hypervisor::vcpu_initialise(VcpuState& v, uint64_t arg)
{
    const bool pv = cfg_.guest == GuestType::pv;
    // common_vcpu_op: a vCPU >= 32 still on the dummy vcpu_info cannot be
    // initialised. Xen 4.17 and 4.20 check this for every guest type; only
    // newer trees limit it to PV (is_pv_domain()).
    const bool dummy_check = pv || !cfg_.version.at_least(4, 21);
    if (dummy_check && v.id >= abi::legacy_max_vcpus && v.registered_info == nullptr)
        return fail(Errc::einval);

    if (pv) {
        abi::vcpu_guest_context ctx{};
        if (!copy_from_guest(ctx, arg))
            return fail(Errc::efault);
        if (v.initialised)
            return fail(Errc::eexist);
        if (!pv_context_ok(ctx))
            return fail(Errc::einval);
        v.initialised = true;
        // arch_set_info_guest: VGCF_online clears _VPF_down but never calls
        // vcpu_wake(): the vCPU reads as up yet does not run (the PV trap).
        v.down = (ctx.flags & abi::vgcf_online) == 0;
        return 0;
    }
    abi::vcpu_hvm_context ctx{};
    if (!copy_from_guest(ctx, arg))
        return fail(Errc::efault);
    if (v.initialised)
        return fail(Errc::eexist);
    if (!hvm_context_ok(ctx))
        return fail(Errc::einval);
    v.initialised = true;
    v.down = true; // arch_set_info_hvm_guest leaves it down: VCPUOP_up next
    return 0;
}

void Hypervisor::wake(VcpuState& v)
{
    v.woken = true;
    change_runstate(v, abi::runstate::running);
}

long Hypervisor::vcpu_up(VcpuState& v)
{
    if (!v.initialised)
        return fail(Errc::einval);
    // wake = test_and_clear_bit(_VPF_down): nothing happens if already clear.
    const bool was_down = v.down;
    v.down = false;
    v.deferred_polls = 0;
    if (was_down)
        wake(v);
    return 0;
}

bool Hypervisor::others_down(const VcpuState& v) const
{
    for (const auto& o : vcpus_)
        if (o->id != v.id && !o->down)
            return false;
    return true;
}

long Hypervisor::vcpu_down(VcpuId caller, VcpuState& v)
{
    if (others_down(v)) {
        // The last vCPU going down powers the domain off (common_vcpu_op).
        shutdown_ = abi::shutdown_reason::poweroff;
        return 0;
    }
    if (v.down || v.deferred_polls > 0)
        return 0;
    if (v.id != caller.value && cfg_.deferred_down_polls > 0) {
        // Deferred mode: the down lands only after the target has been
        // polled deferred_down_polls times; until then it runs and counts
        // as up (like a Linux vCPU that parks itself in play_dead later).
        v.deferred_polls = cfg_.deferred_down_polls + 1; // K answers of 1, then the down lands
        return 0;
    }
    v.down = true;
    v.woken = false;
    change_runstate(v, abi::runstate::offline);
    return 0;
}

long Hypervisor::vcpu_is_up(VcpuState& v)
{
    if (v.deferred_polls > 0 && --v.deferred_polls == 0) {
        // The deferred down lands now, with the same last-vCPU rule.
        if (others_down(v)) {
            shutdown_ = abi::shutdown_reason::poweroff;
        } else {
            v.down = true;
            v.woken = false;
            change_runstate(v, abi::runstate::offline);
        }
        return v.down ? 0 : 1;
    }
    return v.down ? 0 : 1;
}

long Hypervisor::vcpu_register_vcpu_info(VcpuId caller, VcpuState& v, uint64_t arg)
{
    abi::vcpu_register_vcpu_info r{};
    if (!copy_from_guest(r, arg))
        return fail(Errc::efault);
    const uint64_t gaddr = (r.mfn << 12) + r.offset;
    if (cfg_.version.at_least(4, 18)) {
        // map_guest_area: xen_ulong_t aligned, within one page; then once only.
        if (gaddr % 8 != 0 || r.offset >= page_size || crosses_page(gaddr, sizeof(abi::vcpu_info)))
            return fail(Errc::enxio);
        if (v.registered_info != nullptr)
            return fail(Errc::ebusy);
    } else {
        // Xen <= 4.17 map_vcpu_info: offset range and alignment (-ENXIO),
        // already registered (-EINVAL), another vCPU that is not down (-EINVAL).
        if (r.offset > page_size - sizeof(abi::vcpu_info) || r.offset % 8 != 0)
            return fail(Errc::enxio);
        if (v.registered_info != nullptr)
            return fail(Errc::einval);
        if (v.id != caller.value && !v.down)
            return fail(Errc::einval);
    }
    if (r.mfn == 0)
        return fail(Errc::einval); // no page behind frame 0 in this model

    auto* fresh = guest_ptr<abi::vcpu_info>(gaddr);
    auto& old = info_of(v);
    if (&old == &dummy_info_) {
        std::memset(static_cast<void*>(fresh), 0, sizeof(*fresh));
        fresh->evtchn_upcall_mask = 1;
    } else {
        std::memmove(static_cast<void*>(fresh), &old, sizeof(*fresh));
    }
    v.registered_info = fresh;
    // "Mark everything as being pending just to make sure nothing gets lost."
    put(fresh->evtchn_pending_sel, ~uint64_t{0});
    put(fresh->evtchn_upcall_pending, uint8_t{1});
    write_time(v);
    return 0;
}

long Hypervisor::vcpu_get_physid(VcpuState& v, uint64_t arg)
{
    // is_hwdom_pinned_vcpu(): only the hardware domain, vCPU pinned to one pCPU.
    if (!cfg_.hardware_domain || !cfg_.pinned)
        return fail(Errc::einval);
    // The model's pCPU numbering: vCPU n is pinned to pCPU n mod pcpus, whose
    // APIC id is 2 * pcpu and ACPI id pcpu + 1 (distinct on purpose, so a
    // test notices swapped halves).
    const uint64_t pcpu = v.id % cfg_.pcpus;
    const abi::vcpu_get_physid out{(pcpu + 1) << 32 | (2 * pcpu)};
    return copy_to_guest(arg, out) ? 0 : fail(Errc::efault);
}

long Hypervisor::vcpu_register_phys_area(VcpuState& v, uint64_t arg, bool runstate_area)
{
    abi::vcpu_register_area_phys a{};
    if (!copy_from_guest(a, arg))
        return fail(Errc::efault);
    if (a.addr == ~uint64_t{0}) { // ~0 unregisters
        if (runstate_area)
            v.runstate_phys = nullptr;
        else
            v.time_phys = nullptr;
        return 0;
    }
    const uint64_t size = runstate_area ? sizeof(abi::vcpu_runstate_info) : sizeof(abi::vcpu_time_info);
    if (a.addr % 8 != 0 || crosses_page(a.addr, size))
        return fail(Errc::enxio);
    if ((a.addr >> 12) == 0)
        return fail(Errc::einval);
    if (runstate_area) {
        v.runstate_phys = guest_ptr<abi::vcpu_runstate_info>(a.addr);
    } else {
        v.time_phys = guest_ptr<abi::vcpu_time_info>(a.addr);
        write_time(v);
    }
    return 0;
}

VcpuView Hypervisor::vcpu(VcpuId id) const
{
    Lock l(mu_);
    const auto& v = at(id);
    return VcpuView{v.initialised,
                    v.down,
                    v.woken,
                    static_cast<abi::runstate>(v.rs.state),
                    v.periodic_period,
                    v.singleshot,
                    v.nmis,
                    v.timer_fires,
                    v.kicks,
                    v.registered_info != nullptr,
                    v.deferred_polls > 0,
                    v.upcall_vector};
}

} // namespace xen::sim
