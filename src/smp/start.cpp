// Smp::start, await_online and bring_up: the controller's side of bringing
// APs online.
#include <xen/domain.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::load_state;
using smp_detail::store_state;

namespace {

// Record a check-in seen by the controller (at `seen_ns`, its own clock):
// bring-up time by Xen system time, from the controller's stamp before
// initialise to the AP's own.
void take_in(SmpCpu& c, uint64_t seen_ns) noexcept
{
    c.timeline.online_ns = seen_ns;
    const uint64_t start = c.handshake.start_ns;
    const uint64_t seen = c.handshake.online_ns;
    c.bringup_ns = seen > start ? seen - start : 0;
    c.last_error = Errc{};
    store_state(c, CpuState::online);
}

// One pass of a parallel bring-up over vCPUs 0..count-1: each that `pick`s,
// in id order, goes to `one` alone (PV) or to `many` with up to `Max` others
// (PVH).
template <uint32_t Max, class Pick, class One, class Many>
void each_picked(uint32_t count, bool alone, Pick pick, One one, Many many) noexcept
{
    VcpuId batch[Max];
    uint32_t k = 0;
    for (uint32_t id = 0; id < count; ++id) {
        if (!pick(VcpuId{id}))
            continue;
        if (alone) {
            one(VcpuId{id});
            continue;
        }
        batch[k++] = VcpuId{id};
        if (k == Max) {
            many(batch, k);
            k = 0;
        }
    }
    if (k != 0)
        many(batch, k);
}

} // namespace

Result<void> Smp::stage(SmpCpu& c, VcpuId v, abi::vcpu_hvm_context& hvm_ctx) noexcept
{
    // A vCPU stays initialised after VCPUOP_down; a second VCPUOP_initialise
    // is -EEXIST (docs/vcpuop.md, "Semantics worth knowing"). Say so without
    // asking Xen.
    if (c.initialised)
        return err(Errc::already_initialised);
    const KernelHooks& h = domain_->hooks();
    if (load_state(c) != CpuState::prepared || h.ap_stack == nullptr || config_.entry_stub == 0 ||
        config_.ap_entry == nullptr)
        return err(Errc::invalid_argument);
    // The rule of common VCPUOP_initialise, kept by construction: a vCPU
    // >= 32 starts only with its own vcpu_info (prepare registered it).
    if (v.value >= abi::legacy_max_vcpus && domain_->vcpu_info(v) == nullptr)
        return err(Errc::invalid_argument);

    const ApStack st = h.ap_stack(h.ctx, v);
    ApHandshake& hs = c.handshake;
    hs.stage = static_cast<uint32_t>(ApStage::idle);
    hs.generation = 0;
    hs.reserved0 = 0;
    hs.vcpu = v.value;
    hs.stack_top = st.stack_top;
    hs.entry = reinterpret_cast<uintptr_t>(config_.ap_entry);
    hs.arg = st.arg;
    hs.online_ns = 0;
    hs.reserved = 0;
    const ApLaunch launch{config_.entry_stub, st.stack_top, reinterpret_cast<uintptr_t>(&hs), st.gs_base};

    Result<void> built = domain_->kind() == GuestKind::pv ? make_pv_context(config_.pv, launch, scratch_->pv)
                                                          : make_hvm_context(config_.hvm, launch, hvm_ctx);
    if (!built.has_value())
        c.last_error = built.error();
    return built;
}

Result<void> Smp::initialised(SmpCpu& c, Errc e) noexcept
{
    if (e == Errc::eexist) {
        // Someone initialised it behind our back: never again.
        c.initialised = true;
        c.last_error = Errc::already_initialised;
        return err(Errc::already_initialised);
    }
    if (e != Errc{}) {
        c.last_error = e;
        return err(e);
    }
    c.initialised = true;
    c.remote_down = false;
    c.awaited_generation = 1;
    store_state(c, CpuState::starting);
    return ok();
}

Result<void> Smp::launch(VcpuId v) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * cp, managed(v));
    SmpCpu& c = *cp;
    XEN_TRY(stage(c, v, scratch_->hvm));
    // The handshake is complete before Xen can run the AP: the hypercall
    // orders our stores before the vCPU's first instruction.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    c.handshake.start_ns = now();
    const auto init = domain_->kind() == GuestKind::pv ? domain_->initialise(v, scratch_->pv)
                                                       : domain_->initialise(v, scratch_->hvm);
    return initialised(c, init.has_value() ? Errc{} : init.error());
}

void Smp::upped(SmpCpu& c, Errc e, uint64_t at_ns) noexcept
{
    if (e == Errc{}) {
        c.timeline.up_ns = at_ns;
        return;
    }
    // Initialised and down, never run: online() can still up it, and it
    // then starts from this context and checks in.
    c.last_error = e;
    store_state(c, CpuState::parked);
}

Result<void> Smp::start(VcpuId v) noexcept
{
    XEN_TRY(launch(v));
    // Initialise left it down (PV without VGCF_online, and always for HVM):
    // VCPUOP_up clears _VPF_down and wakes it.
    const auto up = domain_->up(v);
    upped(part(v), up.has_value() ? Errc{} : up.error(), now());
    return up;
}

Result<void> Smp::restart(VcpuId v, const WaitBound& bound) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * cp, managed(v));
    SmpCpu& c = *cp;
    if (v == boot_vcpu || load_state(c) != CpuState::parked)
        return err(Errc::invalid_argument);
    // docs/xen-contracts.md, "What a new domain does not have": a vCPU that
    // was down at the save is not in the stream (write_all_vcpu_information,
    // hvm_save_cpu_ctxt), so the new domain has it uninitialised.
    c.initialised = false;
    c.remote_down = false;
    c.timeline = SmpTimeline{}; // not prepared again: only up and online get stamps
    __atomic_store_n(&c.mailbox.park, 0u, __ATOMIC_RELEASE);
    store_state(c, CpuState::prepared);
    XEN_TRY(start(v));
    return await_online(v, bound);
}

Result<void> Smp::await_online(VcpuId v, const WaitBound& bound) noexcept
{
    XEN_TRY_ASSIGN(SmpCpu * cp, managed(v));
    SmpCpu& c = *cp;
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
        take_in(c, now());
        return ok();
    }
    ++c.cycles;
    c.last_error = Errc{};
    store_state(c, CpuState::online);
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
    report.start_ns = t0;

    if (mode == BringUpMode::serial) {
        for (uint32_t id = 0; id < count(); ++id) {
            const VcpuId v{id};
            const CpuState s = state(v);
            if (v == boot_vcpu || (s != CpuState::down && s != CpuState::prepared))
                continue;
            auto r = prepare(v);
            if (r.has_value())
                r = start(v);
            if (r.has_value())
                r = await_online(v, bound);
            if (!r.has_value())
                note(r.error());
        }
    } else {
        // Parallel: prepare them all while none runs yet (registering a
        // vcpu_info makes Xen map the page, work best done with the other
        // pCPUs idle), then initialise and up them all in one burst.
        // On PVH, where every hypercall and clock read is a VM exit, the
        // preparing and the initialising go in batches: prepare_batch puts
        // Domain::place_batch vcpu_infos and EventChannels::bind_batch IPI
        // ports in one multicall each, launch_batch SmpScratch::hvm_batch_size
        // contexts in one. PV prepares and initialises one AP at a time: its
        // hypercalls cost no VM exit, so a batch saves nothing (measured:
        // docs/smp.md), and a PV context is 5 KiB.
        const bool pv = domain_->kind() == GuestKind::pv;
        each_picked<smp_detail::prepare_batch_max>(
            count(), pv, [&](VcpuId v) { return v != boot_vcpu && state(v) == CpuState::down; },
            [&](VcpuId v) {
                if (auto r = prepare(v); !r.has_value())
                    note(r.error());
            },
            [&](const VcpuId* vs, uint32_t n) { prepare_batch(vs, n, report.first_error); });
        report.prepare_phase_ns = now() - t0;
        // Initialise every AP first: nothing runs yet (initialise leaves a
        // vCPU down), so no AP takes the controller's pCPU in the middle.
        each_picked<SmpScratch::hvm_batch_size>(
            count(), pv, [&](VcpuId v) { return state(v) == CpuState::prepared; },
            [&](VcpuId v) {
                if (auto r = launch(v); !r.has_value())
                    note(r.error());
            },
            [&](const VcpuId* vs, uint32_t n) { launch_batch(vs, n, report.first_error); });
        // Then up them all in a burst, Domain::up_batch VCPUOP_ups per
        // multicall (on PVH one VM exit per batch instead of one per AP).
        // The APs launched by this call are the starting ones stamped
        // after t0 (an AP still starting from an earlier, timed-out call
        // was stamped before it).
        VcpuId batch[Domain::up_batch];
        Errc errors[Domain::up_batch];
        uint32_t k = 0;
        auto flush = [&] {
            domain_->up_many(batch, k, errors);
            const uint64_t at = now();
            for (uint32_t j = 0; j < k; ++j) {
                upped(part(batch[j]), errors[j], at);
                if (errors[j] != Errc{})
                    note(errors[j]);
            }
            k = 0;
        };
        for (uint32_t id = 0; id < count(); ++id) {
            const SmpCpu& c = part(VcpuId{id});
            if (load_state(c) != CpuState::starting || c.handshake.start_ns < t0 || c.timeline.up_ns != 0)
                continue;
            batch[k++] = VcpuId{id};
            if (k == Domain::up_batch)
                flush();
        }
        if (k != 0)
            flush();
    }

    report.start_phase_ns = now() - t0;
    if (mode == BringUpMode::parallel) {
        // Every AP runs (or waits for a pCPU) by now: wait for all of them
        // within one bound, taking each in as it checks in.
        auto all_in = [&] {
            bool all = true;
            uint64_t seen = 0; // read once per poll, only when someone checked in
            for (uint32_t id = 0; id < count(); ++id) {
                SmpCpu& c = part(VcpuId{id});
                if (load_state(c) != CpuState::starting)
                    continue;
                if (ap_generation(c.handshake) >= c.awaited_generation)
                    take_in(c, seen != 0 ? seen : (seen = now()));
                else
                    all = false;
            }
            return all;
        };
        if (!wait_until(bound, all_in).has_value()) {
            for (uint32_t id = 0; id < count(); ++id)
                if (state(VcpuId{id}) == CpuState::starting)
                    part(VcpuId{id}).last_error = Errc::timed_out;
            note(Errc::timed_out);
        }
    }

    report.total_ns = now() - t0;
    // Say which APs did not make it, and why: a kernel that logs sees it
    // without walking the slots.
    for (uint32_t id = 0; id < count(); ++id) {
        const VcpuId v{id};
        if (state(v) != CpuState::online)
            domain_->log("bring-up:", &v, errc_name(part(v).last_error));
    }
    report.online = online_count();
    report.failed = count() - report.online;
    return report;
}

} // namespace xen
