// Smp::start, await_online and bring_up: the controller's side of bringing
// APs online.
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load_state;

Result<void> Smp::start(uint32_t cpu) noexcept
{
    XEN_TRY(check_cpu(cpu));
    SmpCpu& c = cpus_[cpu];
    // A vCPU stays initialised after VCPUOP_down; a second VCPUOP_initialise
    // is -EEXIST (docs/vcpuop.md, "Semantics worth knowing"). Say so without
    // asking Xen.
    if (c.initialised)
        return err(Errc::already_initialised);
    const SmpHooks& h = config_.hooks;
    if (load_state(c) != CpuState::prepared || h.stack_of == nullptr || config_.entry_stub == 0 ||
        config_.ap_entry == nullptr)
        return err(Errc::invalid_argument);
    // The rule of common VCPUOP_initialise, kept by construction: a vCPU
    // >= 32 starts only with its own vcpu_info (prepare registered it).
    if (c.vcpu.value >= abi::legacy_max_vcpus && !c.info_registered)
        return err(Errc::invalid_argument);

    const ApStack st = h.stack_of(h.ctx, cpu);
    ApHandshake& hs = c.handshake;
    hs.stage = static_cast<uint32_t>(ApStage::idle);
    hs.generation = 0;
    hs.cpu = cpu;
    hs.vcpu = c.vcpu.value;
    hs.stack_top = st.stack_top;
    hs.entry = reinterpret_cast<uintptr_t>(config_.ap_entry);
    hs.arg = st.arg;
    hs.online_ns = 0;
    hs.reserved = 0;
    const ApLaunch launch{config_.entry_stub, st.stack_top, reinterpret_cast<uintptr_t>(&hs), st.gs_base};

    Result<void> built = config_.guest == SmpGuest::pv ? make_pv_context(config_.pv, launch, scratch_->pv)
                                                       : make_hvm_context(config_.hvm, launch, scratch_->hvm);
    if (!built.has_value()) {
        c.last_error = built.error();
        return built;
    }
    // The handshake is complete before Xen can run the AP: the hypercall
    // orders our stores before the vCPU's first instruction.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    hs.start_ns = now();
    const auto init = config_.guest == SmpGuest::pv ? hc::vcpu_initialise(c.vcpu, scratch_->pv)
                                                    : hc::vcpu_initialise(c.vcpu, scratch_->hvm);
    if (!init.has_value()) {
        if (init.error() == Errc::eexist) {
            // Someone initialised it behind our back: never again.
            c.initialised = true;
            c.last_error = Errc::already_initialised;
            return err(Errc::already_initialised);
        }
        c.last_error = init.error();
        return init;
    }
    c.initialised = true;
    c.remote_down = false;
    c.awaited_generation = 1;
    set_state(cpu, CpuState::starting);

    // Initialise left it down (PV without VGCF_online, and always for HVM):
    // VCPUOP_up clears _VPF_down and wakes it.
    if (auto up = hc::vcpu_up(c.vcpu); !up.has_value()) {
        // Initialised and down, never run: online() can still up it, and it
        // then starts from this context and checks in.
        c.last_error = up.error();
        set_state(cpu, CpuState::parked);
        return up;
    }
    return ok();
}

Result<void> Smp::await_online(uint32_t cpu, const WaitBound& bound) noexcept
{
    XEN_TRY(check_cpu(cpu));
    SmpCpu& c = cpus_[cpu];
    const CpuState s = load_state(c);
    if (s == CpuState::online)
        return ok();
    if (s != CpuState::starting && s != CpuState::resuming)
        return err(Errc::invalid_argument);
    const auto r = wait_until(bound, [&] { return ap_generation(c.handshake) >= c.awaited_generation; });
    if (!r.has_value()) {
        c.last_error = r.error();
        return r;
    }
    if (s == CpuState::starting) {
        const uint64_t start = c.handshake.start_ns;
        const uint64_t seen = c.handshake.online_ns;
        c.bringup_ns = seen > start ? seen - start : 0;
    } else {
        ++c.cycles;
    }
    c.last_error = Errc{};
    set_state(cpu, CpuState::online);
    return ok();
}

BringUpReport Smp::bring_up(BringUpMode mode, const WaitBound& bound) noexcept
{
    BringUpReport report;
    auto note = [&](Errc e) {
        if (report.first_error == Errc{})
            report.first_error = e;
    };
    const uint64_t t0 = now();

    if (mode == BringUpMode::serial) {
        for (uint32_t cpu = 1; cpu < count_; ++cpu) {
            const CpuState s = load_state(cpus_[cpu]);
            if (s != CpuState::down && s != CpuState::prepared)
                continue;
            auto r = prepare(cpu);
            if (r.has_value())
                r = start(cpu);
            if (r.has_value())
                r = await_online(cpu, bound);
            if (!r.has_value())
                note(r.error());
        }
    } else {
        // Parallel: prepare them all while none runs yet (registering a
        // vcpu_info makes Xen map the page, work best done with the other
        // pCPUs idle), then initialise and up them all in one burst.
        for (uint32_t cpu = 1; cpu < count_; ++cpu)
            if (load_state(cpus_[cpu]) == CpuState::down)
                if (auto r = prepare(cpu); !r.has_value())
                    note(r.error());
        report.prepare_phase_ns = now() - t0;
        for (uint32_t cpu = 1; cpu < count_; ++cpu)
            if (load_state(cpus_[cpu]) == CpuState::prepared)
                if (auto r = start(cpu); !r.has_value())
                    note(r.error());
    }

    report.start_phase_ns = now() - t0;
    if (mode == BringUpMode::parallel) {
        // Every AP runs (or waits for a pCPU) by now: wait for all of them
        // within one bound, taking each in as it checks in.
        auto all_in = [&] {
            bool all = true;
            for (uint32_t cpu = 1; cpu < count_; ++cpu) {
                SmpCpu& c = cpus_[cpu];
                if (load_state(c) != CpuState::starting)
                    continue;
                if (ap_generation(c.handshake) >= c.awaited_generation) {
                    const uint64_t start = c.handshake.start_ns;
                    const uint64_t seen = c.handshake.online_ns;
                    c.bringup_ns = seen > start ? seen - start : 0;
                    c.last_error = Errc{};
                    set_state(cpu, CpuState::online);
                } else {
                    all = false;
                }
            }
            return all;
        };
        if (!wait_until(bound, all_in).has_value()) {
            for (uint32_t cpu = 1; cpu < count_; ++cpu)
                if (load_state(cpus_[cpu]) == CpuState::starting)
                    cpus_[cpu].last_error = Errc::timed_out;
            note(Errc::timed_out);
        }
    }

    report.total_ns = now() - t0;
    report.online = online_count();
    report.failed = count_ - report.online;
    return report;
}

} // namespace xen
