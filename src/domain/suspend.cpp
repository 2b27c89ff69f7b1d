// Domain::suspend: the suspend/resume sequence for save, restore,
// checkpoint and live migration. docs/lifecycle.md walks through it; the
// Xen facts are in docs/xen-contracts.md, "Save, restore and migration".
#include <xen/domain.hpp>

#include <xen/hypercall/platform_op.hpp>
#include <xen/hypercall/sched_op.hpp>
#include <xen/hypercall/xen_version.hpp>
#include <xen/runstate/area.hpp>
#include <xen/smp.hpp>
#include <xen/time/timer_driver.hpp>

namespace xen {

namespace {

// Record the first failure and turn it into the sequence's error.
Errc fail(SuspendReport& r, SuspendStep step, VcpuId v, Errc cause) noexcept
{
    r.failed_step = step;
    r.failed_vcpu = v;
    r.cause = cause;
    return step <= SuspendStep::suspend_call ? Errc::suspend_failed : Errc::resume_failed;
}

} // namespace

void Domain::bring_back(const SuspendConfig& config, SuspendReport& report, bool new_domain) noexcept
{
    // The APs parked for the suspend come back. Cancelled: where they
    // stopped (right after their own VCPUOP_down, VCPUOP_up), their
    // after_resume hook re-arming their timers. In a new domain they are
    // not initialised (the save stream has only vCPUs that were up): they
    // start afresh through their entry, which sets them up as at boot.
    // The first failure is kept in the report; the others still come.
    // PV: the AP context names the kernel's L4 by machine frame.
    if (new_domain && kind_ == GuestKind::pv && config.smp != nullptr && config.hooks.pv_cr3 != nullptr)
        config.smp->set_pv_cr3(config.hooks.pv_cr3(config.hooks.ctx));
    for (uint32_t v = 1; v < managed(); ++v) {
        VcpuSlot& s = slots_[v];
        if (!s.parked_for_suspend)
            continue;
        if (config.smp == nullptr)
            break;
        const auto r = new_domain ? config.smp->restart(VcpuId{v}, config.bound)
                                  : config.smp->online(VcpuId{v}, config.bound);
        if (!r.has_value()) {
            if (report.failed_step == SuspendStep::none)
                (void)fail(report, SuspendStep::aps, VcpuId{v}, r.error());
            continue;
        }
        s.parked_for_suspend = false;
        ++report.aps_back;
    }
}

Result<void> Domain::check_suspend_config(const SuspendConfig& config, bool brings_back_aps) const noexcept
{
    if (slots_ == nullptr)
        return err(Errc::invalid_argument);
    // vCPU 0: the PV restorer rewrites vCPU 0's third argument register
    // (start_info) only (docs/xen-contracts.md, "The suspend hypercall"),
    // and vCPU 0 is the one vCPU Smp never parks.
    if (self() != boot_vcpu)
        return err(Errc::not_current_vcpu);
    // PV: the new shared_info is the kernel's to map, and restarted APs
    // need the L4's new frame; PVH: shared_info goes back at its GFN.
    if (kind_ == GuestKind::pv && (config.hooks.remap_shared_info == nullptr ||
                                   (brings_back_aps && config.smp != nullptr && config.hooks.pv_cr3 == nullptr)))
        return err(Errc::invalid_argument);
    if (kind_ == GuestKind::pvh && hooks_.frame_of == nullptr)
        return err(Errc::invalid_argument);
    return ok();
}

Result<SuspendOutcome> Domain::suspend(const SuspendConfig& config, SuspendReport* report) noexcept
{
    SuspendReport local{};
    SuspendReport& out = report != nullptr ? *report : local;
    out = SuspendReport{};
    XEN_TRY(check_suspend_config(config, true));

    // 1. Park every online AP: Xen then holds no AP inside the kernel, and
    // in a new domain they are down, which registration on Xen <= 4.17
    // needs (map_vcpu_info: -EINVAL for another vCPU that is up), and not
    // initialised (the save stream has only vCPUs that are up): they come
    // back through Smp::restart (docs/lifecycle.md, "The sequence").
    if (config.smp != nullptr) {
        for (uint32_t v = 1; v < managed(); ++v) {
            if (config.smp->state(VcpuId{v}) != CpuState::online)
                continue;
            if (auto r = config.smp->offline(VcpuId{v}, config.bound); !r.has_value()) {
                const Errc e = fail(out, SuspendStep::park_aps, VcpuId{v}, r.error());
                bring_back(config, out, false);
                return err(e);
            }
            slots_[v].parked_for_suspend = true;
            ++out.aps_parked;
        }
    }

    // 2. The caller's timers: stopped, still armed.
    TimerCpu& timers0 = slots_[0].timers;
    const bool restart_timers = config.timers != nullptr && timers0.started();
    if (restart_timers) {
        if (auto r = config.timers->stop(boot_vcpu); !r.has_value()) {
            const Errc e = fail(out, SuspendStep::stop_timers, boot_vcpu, r.error());
            bring_back(config, out, false);
            return err(e);
        }
    }
    auto undo = [&](SuspendStep step, Errc cause) {
        const Errc e = fail(out, step, boot_vcpu, cause);
        if (restart_timers)
            (void)config.timers->start(boot_vcpu);
        bring_back(config, out, false);
        return err(e);
    };

    // 3. Steal: count what this domain's totals hold, before Xen drops them
    // (docs/xen-contracts.md, "Steal across restarts and unplug").
    for (uint32_t v = 0; v < managed(); ++v) {
        VcpuSlot& s = slots_[v];
        if (!s.steal.started())
            continue;
        if (const auto info = hc::vcpu_get_runstate_info(VcpuId{v}); info.has_value())
            s.steal.update(*info);
    }

    // 4. The kernel's last word, then the hypercall.
    if (config.hooks.before_suspend != nullptr) {
        if (auto r = config.hooks.before_suspend(config.hooks.ctx); !r.has_value())
            return undo(SuspendStep::before_suspend, r.error());
    }
    const uint64_t raw_before = raw_now();
    const uint64_t own_before = raw_own_now();
    const uint64_t before = (raw_before > own_before ? raw_before : own_before) + static_cast<uint64_t>(clock_offset());
    out.clock_before_ns = before;
    const auto rc = hc::sched_suspend(kind_ == GuestKind::pv ? config.start_info_mfn : 0);
    if (!rc.has_value())
        return undo(SuspendStep::suspend_call, rc.error());

    if (*rc != 0) {
        // Cancelled (docs/xen-contracts.md, "The suspend hypercall": the
        // toolstack set the return value to 1 and resumed the same domain):
        // Xen kept every registration, binding and timer. Undo only what
        // the sequence did.
        out.outcome = SuspendOutcome::cancelled;
        if (restart_timers) {
            if (auto r = config.timers->start(boot_vcpu); !r.has_value())
                (void)fail(out, SuspendStep::timers, boot_vcpu, r.error());
        }
        bring_back(config, out, false);
        out.clock_after_ns = now();
        out.offset_ns = clock_offset();
        if (out.failed_step != SuspendStep::none)
            return err(Errc::resume_failed);
        return SuspendOutcome::cancelled;
    }

    out.outcome = SuspendOutcome::resumed;
    ++restores_;
    if (auto r = resume_new_domain(config, out, before); !r.has_value())
        return err(r.error());
    if (restart_timers) {
        if (auto r = config.timers->start(boot_vcpu); !r.has_value())
            return err(fail(out, SuspendStep::timers, boot_vcpu, r.error()));
    }
    bring_back(config, out, true);
    if (out.failed_step != SuspendStep::none)
        return err(Errc::resume_failed);
    return SuspendOutcome::resumed;
}

Result<void> Domain::resumed(const SuspendConfig& config, uint64_t before_ns, SuspendReport* report) noexcept
{
    SuspendReport local{};
    SuspendReport& out = report != nullptr ? *report : local;
    out = SuspendReport{};
    XEN_TRY(check_suspend_config(config, false));
    // The kernel's hypercall returned 0: the same steps as suspend()'s
    // resumed path, from the clock reading the kernel took before it.
    out.outcome = SuspendOutcome::resumed;
    out.clock_before_ns = before_ns;
    ++restores_;
    const bool restart_timers = config.timers != nullptr && slots_[0].timers.started();
    if (auto r = resume_new_domain(config, out, before_ns); !r.has_value())
        return err(r.error());
    if (restart_timers) {
        if (auto r = config.timers->start(boot_vcpu); !r.has_value())
            return err(fail(out, SuspendStep::timers, boot_vcpu, r.error()));
    }
    return ok();
}

Result<void> Domain::resume_new_domain(const SuspendConfig& config, SuspendReport& report, uint64_t before) noexcept
{
    const uint32_t n = managed();
    // The clock's cache of the old host goes first, before any step that
    // can fail: no pvclock record, scale or stable flag survives (the floor
    // holds the last record's mul and shift).
    clock_.reset_floor();
    for (uint32_t v = 0; v < n; ++v) {
        slots_[v].clock.last_ns = 0;
        slots_[v].clock.stopped_version = 0;
    }
    // The clock goes on from `before`: the first reading in the new domain
    // (through the emptied floor, so every later reading on any vCPU is at
    // least this one) becomes `before` by the offset. Done as soon as
    // vCPU 0 reads a record Xen updates, and also when a step fails before
    // that, so that the clock never reads lower than before.
    bool rebased = false;
    auto rebase = [&] {
        if (rebased)
            return;
        rebased = true;
        const uint64_t raw = raw_now();
        const int64_t offset = static_cast<int64_t>(before - raw);
        __atomic_store_n(&offset_, offset, __ATOMIC_RELEASE);
        report.offset_ns = offset;
        report.clock_after_ns = now();
    };
    auto stop = [&](SuspendStep step, VcpuId v, Errc cause) {
        rebase();
        return err(fail(report, step, v, cause));
    };

    // Each step below redoes one thing a new domain does not have
    // (docs/xen-contracts.md, "What a new domain does not have").
    // shared_info: a new page.
    if (kind_ == GuestKind::pv) {
        abi::shared_info* sh = config.hooks.remap_shared_info(config.hooks.ctx);
        if (sh == nullptr)
            return stop(SuspendStep::shared_info, boot_vcpu, Errc::invalid_argument);
        shared_ = sh;
        events_.set_shared(*sh);
    } else {
        const FrameNumber gfn = hooks_.frame_of(hooks_.ctx, shared_);
        if (auto r = hc::add_to_physmap(abi::xenmapspace::shared_info, 0, gfn.value); !r.has_value())
            return stop(SuspendStep::shared_info, boot_vcpu, r.error());
    }

    // vcpu_info: nothing is registered in a new domain. Xen <= 4.17
    // registers another vCPU's only while it is down (map_vcpu_info:
    // -EINVAL otherwise); 4.18+ pauses it. The APs Smp parked are down; a
    // vCPU found up (one the kernel runs itself) is taken down for the
    // registration and brought up again after, as Linux's xen_vcpu_restore
    // does: it resumes where it was.
    uint32_t version_major = 0, version_minor = 0;
    if (const auto ver = hc::xen_version(); ver.has_value()) {
        version_major = ver->major;
        version_minor = ver->minor;
    }
    const bool busy_means_registered = version_major > 4 || (version_major == 4 && version_minor >= 18);
    for (uint32_t v = 1; v < n; ++v) {
        VcpuSlot& s = slots_[v];
        s.downed_to_register = false;
        if (!s.vcpu_info_registered)
            continue;
        const auto up = hc::vcpu_is_up(VcpuId{v});
        if (!up.has_value())
            return stop(SuspendStep::vcpu_info, VcpuId{v}, up.error());
        if (*up) {
            if (auto r = hc::vcpu_down(VcpuId{v}); !r.has_value())
                return stop(SuspendStep::vcpu_info, VcpuId{v}, r.error());
            s.downed_to_register = true;
            ++report.downed_to_register;
        }
    }
    for (uint32_t v = 0; v < n; ++v) {
        VcpuSlot& s = slots_[v];
        if (s.vcpu_info_registered) {
            const FrameNumber frame = hooks_.frame_of(hooks_.ctx, s.vcpu_info.get());
            if (auto r = hc::register_vcpu_info(VcpuId{v}, s.vcpu_info, frame); !r.has_value()) {
                // Registered before: -EBUSY from 4.18, -EINVAL up to 4.17
                // (the vCPU is the caller or down, so not the "other vCPU
                // up" -EINVAL). Only a toolstack that reset this domain
                // instead of creating one leaves it so; Xen still writes
                // the same area, which is all the step wants.
                const bool held = busy_means_registered ? r.error() == Errc::ebusy : r.error() == Errc::einval;
                if (!held)
                    return stop(SuspendStep::vcpu_info, VcpuId{v}, r.error());
                ++report.still_registered;
            }
        }
        if (abi::vcpu_info* vi = vcpu_info(VcpuId{v}))
            s.clock.record = &vi->time;
    }
    for (uint32_t v = 1; v < n; ++v) {
        VcpuSlot& s = slots_[v];
        if (!s.downed_to_register)
            continue;
        s.downed_to_register = false;
        if (auto r = hc::vcpu_up(VcpuId{v}); !r.has_value())
            return stop(SuspendStep::vcpu_info, VcpuId{v}, r.error());
    }

    rebase();

    // The runstate update flag and the areas.
    if (config.runstate != nullptr) {
        if (auto r = config.runstate->restore_update_flag(); !r.has_value())
            return err(fail(report, SuspendStep::update_flag, boot_vcpu, r.error()));
    }
    Runstate plain;
    Runstate& rs = config.runstate != nullptr ? *config.runstate : plain;
    for (uint32_t v = 0; v < n; ++v) {
        if (auto r = rs.reregister_area(VcpuId{v}, slots_[v].runstate); !r.has_value())
            return err(fail(report, SuspendStep::runstate_area, VcpuId{v}, r.error()));
    }
    for (uint32_t v = 0; v < n; ++v) {
        VcpuSlot& s = slots_[v];
        Result<void> r = ok();
        if (s.time_area_kind == AreaKind::physical_address)
            r = hc::register_vcpu_time_phys_area(VcpuId{v}, *s.time_area, s.time_area_pa);
        else if (s.time_area_kind == AreaKind::virtual_address)
            r = hc::register_vcpu_time_memory_area(VcpuId{v}, *s.time_area);
        if (!r.has_value())
            return err(fail(report, SuspendStep::time_area, VcpuId{v}, r.error()));
    }
    // Steal: the new domain's totals start from 0 and are added whole.
    for (uint32_t v = 0; v < n; ++v)
        slots_[v].steal.restart();

    // PVH upcalls: the per-vCPU vector (vCPU 0 first: Xen logs a vector
    // that differs from vCPU 0's, hvmop_set_evtchn_upcall_vector) and the
    // callback param, which the save stream does not carry.
    if (kind_ == GuestKind::pvh) {
        if (config.upcall_vector != 0) {
            for (uint32_t v = 0; v < n; ++v) {
                if (auto r = hc::hvm_set_evtchn_upcall_vector(VcpuId{v}, config.upcall_vector); !r.has_value())
                    return err(fail(report, SuspendStep::upcall_vector, VcpuId{v}, r.error()));
            }
        }
        const uint64_t via = config.callback_via != 0 ? config.callback_via : (config.upcall_vector != 0 ? 1 : 0);
        if (via != 0) {
            if (auto r = hc::hvm_set_param(abi::hvm_param::callback_irq, via); !r.has_value())
                return err(fail(report, SuspendStep::callback_irq, boot_vcpu, r.error()));
        }
    }

    // Event channels: VIRQs and IPIs again; every cached port follows.
    VcpuId who = boot_vcpu;
    const auto rebound = events_.rebind_all(&who);
    if (!rebound.has_value())
        return err(fail(report, SuspendStep::events, who, rebound.error()));
    report.ports_rebound = *rebound;
    if (config.smp != nullptr) {
        if (auto r = config.smp->restored(&who); !r.has_value())
            return err(fail(report, SuspendStep::events, who, r.error()));
    }
    if (config.timers != nullptr) {
        if (auto r = config.timers->restored(&who); !r.has_value())
            return err(fail(report, SuspendStep::events, who, r.error()));
    }

    // PV: every vCPU of the new domain starts with the 100 Hz tick
    // (pv/domain.c); stop it on each managed vCPU (any vCPU may).
    if (kind_ == GuestKind::pv) {
        for (uint32_t v = 0; v < n; ++v) {
            if (auto r = hc::stop_periodic_timer(VcpuId{v}); !r.has_value())
                return err(fail(report, SuspendStep::periodic_timer, VcpuId{v}, r.error()));
        }
    }
    return ok();
}

} // namespace xen
