// Save, restore, checkpoint and migration as the guest sees them
// (docs/lifecycle.md; docs/xen-contracts.md, "Save, restore and migration"):
// SCHEDOP_shutdown(SHUTDOWN_suspend) returns 1 for a cancelled suspend (the
// same domain), or 0 in a new domain, which this models:
// - a new shared_info page; PV: the vcpu_info slots and arch part copied from
//   the old one, arch.pfn_to_mfn_frame_list_list 0, every port masked and
//   none pending (xg_sr_restore_x86_pv.c, handle_shared_info); PVH: a fresh
//   page, found by the guest only through XENMEM_add_to_physmap;
// - no vcpu_info, runstate or time area registered; the runstate update
//   VMASST off; runstate totals from 0;
// - no event channel bound; no upcall vector; HVM_PARAM_CALLBACK_IRQ 0
//   (the save stream does not carry it, xg_sr_save_x86_hvm.c);
// - no single-shot timer; PV vCPUs with the 100 Hz tick again;
// - system time from another host: it may jump back or forward, with
//   another TSC rate. vCPUs that were up keep their state and context; those
//   that were down are not initialised (the stream has only up vCPUs).
// XENMEM_add_to_physmap (memory_op 12, cmd 7) with XENMAPSPACE_shared_info
// is here too: it makes Xen's shared_info the guest page at `gpfn`.
#include <algorithm>
#include <cstring>

#include "state.hpp"

namespace xen::sim {

void Hypervisor::plan_suspend(const SuspendPlan& plan)
{
    Lock l(mu_);
    plan_ = plan;
}

uint32_t Hypervisor::suspends() const
{
    Lock l(mu_);
    return suspends_;
}

uint32_t Hypervisor::restores() const
{
    Lock l(mu_);
    return restores_;
}

uint64_t Hypervisor::suspend_start_info() const
{
    Lock l(mu_);
    return suspend_start_info_;
}

long Hypervisor::suspend(uint64_t start_info)
{
    ++suspends_;
    suspend_start_info_ = start_info;
    if (plan_.cancel)
        return 1;
    // The PV restorer translates the start_info frame in vCPU 0's register;
    // a wrong one fails the restore (process_start_info), which a guest
    // would never see return: model it as a crash of the save.
    if (cfg_.guest == GuestType::pv && plan_.expect_start_info != 0 && start_info != plan_.expect_start_info)
        return fail(Errc::einval);
    restore_new_domain();
    return 0;
}

void Hypervisor::restore_new_domain()
{
    ++restores_;
    auto fresh = std::make_unique<SharedPage>();
    abi::shared_info& page = fresh->info;
    if (cfg_.guest == GuestType::pv) {
        std::memcpy(page.vcpu_info, shared_->vcpu_info, sizeof page.vcpu_info);
        page.arch = shared_->arch;
        page.arch.pfn_to_mfn_frame_list_list = 0;
        for (auto& vi : page.vcpu_info)
            vi.evtchn_pending_sel = 0;
        std::memset(page.evtchn_pending, 0, sizeof page.evtchn_pending);
        std::memset(page.evtchn_mask, 0xff, sizeof page.evtchn_mask);
    }
    retired_pages_.push_back(std::move(shared_page_));
    shared_page_ = std::move(fresh);
    shared_ = &shared_page_->info;

    // Another host's system time and TSC; the wall clock goes on, so its
    // base at system time 0 moves the other way.
    const uint64_t wall = wall_at_zero_ns_ + now_;
    if (plan_.time_jump_ns < 0) {
        const uint64_t back = static_cast<uint64_t>(-plan_.time_jump_ns);
        now_ = now_ > back + 1 ? now_ - back : 1;
    } else {
        now_ += static_cast<uint64_t>(plan_.time_jump_ns);
    }
    wall_at_zero_ns_ = wall - now_;
    write_wallclock();
    if (plan_.new_tsc_hz != 0) {
        cfg_.tsc_hz = plan_.new_tsc_hz;
        cfg_.tsc_mul = 0;
        init_time_scale();
    }

    for (auto& p : ports_)
        p = PortState{};
    for (uint32_t i = 0; i < plan_.toolstack_ports && i + 1 < ports_.size(); ++i)
        ports_[i + 1] = PortState{abi::evtchn_stat::unbound, 0, 0, 0};
    vm_assist_ = 0;
    hvm_params_.erase(
        std::remove_if(hvm_params_.begin(), hvm_params_.end(),
                       [](const auto& kv) { return kv.first == static_cast<uint32_t>(abi::hvm_param::callback_irq); }),
        hvm_params_.end());
    for (auto& vp : vcpus_) {
        VcpuState& v = *vp;
        v.registered_info = nullptr;
        v.runstate_va = nullptr;
        v.runstate_phys = nullptr;
        v.time_va = nullptr;
        v.time_phys = nullptr;
        v.virq_to_port = {};
        v.upcall_vector = 0;
        v.singleshot.reset();
        v.periodic_period = cfg_.guest == GuestType::pv ? 10'000'000 : 0;
        v.periodic_last = now_;
        // Only vCPUs that were up are in the save stream: one that was down
        // comes back down and not initialised (write_all_vcpu_information,
        // hvm_save_cpu_ctxt).
        if (v.down) {
            v.initialised = false;
            v.woken = false;
        }
        v.rs = abi::vcpu_runstate_info{};
        v.rs.state = static_cast<int32_t>(v.down ? abi::runstate::offline : abi::runstate::running);
        v.rs.state_entry_time = now_;
        write_time(v);
    }
}

uint64_t Hypervisor::wall_ns() const
{
    Lock l(mu_);
    return wall_at_zero_ns_ + now_;
}

void Hypervisor::write_wallclock()
{
    // update_domain_wallclock_time(): odd version, the fields, even version.
    const uint64_t sec = wall_at_zero_ns_ / 1'000'000'000;
    put(shared_->wc_version, shared_->wc_version + 1);
    write_barrier();
    put(shared_->wc_sec, static_cast<uint32_t>(sec));
    put(shared_->wc_sec_hi, static_cast<uint32_t>(sec >> 32));
    put(shared_->wc_nsec, static_cast<uint32_t>(wall_at_zero_ns_ % 1'000'000'000));
    write_barrier();
    put(shared_->wc_version, shared_->wc_version + 1);
}

long Hypervisor::memory_op(uint32_t cmd, uint64_t arg)
{
    if (static_cast<abi::xenmem>(cmd) != abi::xenmem::add_to_physmap)
        return fail(Errc::enosys);
    abi::xen_add_to_physmap a{};
    if (!copy_from_guest(a, arg))
        return fail(Errc::efault);
    // A PV guest's memory is not translated: XENMAPSPACE_shared_info is for
    // HVM/PVH (a PV guest finds shared_info in start_info).
    if (cfg_.guest != GuestType::pvh)
        return fail(Errc::eacces);
    if (a.domid != abi::domid_self)
        return fail(Errc::esrch);
    if (static_cast<abi::xenmapspace>(a.space) != abi::xenmapspace::shared_info || a.idx != 0)
        return fail(Errc::einval);
    auto* target = guest_ptr<abi::shared_info>(a.gpfn << 12);
    if (target != shared_)
        std::memcpy(static_cast<void*>(target), shared_, sizeof(abi::shared_info));
    shared_ = target;
    for (auto& v : vcpus_)
        write_time(*v);
    return 0;
}

} // namespace xen::sim
