// bring_up(parallel)'s batched passes: preparing APs with their vcpu_info
// registrations and IPI bindings in multicalls, and initialising PVH APs
// with their contexts in multicalls (docs/smp.md, "Bring-up of one AP").
// On PVH every hypercall and every clock read is a VM exit; a batch makes
// one hypercall and two clock reads where prepare() and launch() make
// those per AP.
#include <xen/domain.hpp>
#include <xen/smp.hpp>

#include "internal.hpp"

namespace xen {

using smp_detail::prepare_batch_max;
using smp_detail::store_state;

void Smp::prepare_batch(const VcpuId* vs, uint32_t n, Errc& first) noexcept
{
    if (n > prepare_batch_max)
        n = prepare_batch_max; // the caller's batches are never larger
    bool alive[prepare_batch_max];
    auto fail = [&](uint32_t i, Errc e) {
        part(vs[i]).last_error = e;
        alive[i] = false;
        if (first == Errc{})
            first = e;
    };
    // One stamp for the batch: the moment its work starts (every AP in it
    // is down).
    const uint64_t begin = now();
    for (uint32_t i = 0; i < n; ++i) {
        SmpCpu& c = part(vs[i]);
        c.timeline = SmpTimeline{};
        c.timeline.prepare_begin_ns = begin;
        alive[i] = true;
    }
    VcpuId want[prepare_batch_max];
    uint32_t at[prepare_batch_max];
    Errc errors[prepare_batch_max];

    // 1. vcpu_info in each vCPU's slot, as prepare() places it (mandatory
    // from vCPU 32 on), in one multicall.
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (config_.placement == VcpuInfoPlacement::every_ap || vs[i].value >= abi::legacy_max_vcpus) {
            want[m] = vs[i];
            at[m++] = i;
        }
    }
    domain_->place_vcpu_info_many(want, m, errors);
    for (uint32_t j = 0; j < m; ++j)
        if (errors[j] != Errc{})
            fail(at[j], errors[j]);

    // 2. Upcalls masked in the vcpu_info each AP will use (see prepare()).
    // After the registration: Xen copies the old vcpu_info into the new area.
    for (uint32_t i = 0; i < n; ++i) {
        if (!alive[i])
            continue;
        abi::vcpu_info* vi = domain_->vcpu_info(vs[i]);
        if (vi == nullptr) {
            fail(i, Errc::invalid_argument);
            continue;
        }
        __atomic_store_n(&vi->evtchn_upcall_mask, uint8_t{1}, __ATOMIC_SEQ_CST);
    }

    // 3. The call IPIs, in one multicall.
    void* ctxs[prepare_batch_max];
    Port ports[prepare_batch_max];
    m = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (alive[i] && !part(vs[i]).ipi_bound) {
            want[m] = vs[i];
            ctxs[m] = &part(vs[i]);
            at[m++] = i;
        }
    }
    EventChannels& events = domain_->events();
    events.bind_ipi_many(want, m, &Smp::on_ipi, ctxs, ports, errors);
    for (uint32_t j = 0; j < m; ++j) {
        if (errors[j] != Errc{}) {
            fail(at[j], errors[j]);
            continue;
        }
        SmpCpu& c = part(vs[at[j]]);
        c.ipi_port = ports[j];
        c.ipi_bound = true;
    }

    // 4. The kernel's own per-vCPU setup, AP by AP.
    const KernelHooks& h = domain_->hooks();
    if (h.ap_prepare != nullptr) {
        for (uint32_t i = 0; i < n; ++i) {
            if (!alive[i])
                continue;
            if (auto r = h.ap_prepare(h.ctx, vs[i]); !r.has_value()) {
                // The vCPU is down, so closing its port from here is allowed.
                SmpCpu& c = part(vs[i]);
                if (events.close(c.ipi_port, vs[i]).has_value())
                    c.ipi_bound = false;
                fail(i, r.error());
            }
        }
    }

    // One stamp for the batch: every AP in it that got here is prepared.
    const uint64_t end = now();
    for (uint32_t i = 0; i < n; ++i) {
        if (!alive[i])
            continue;
        SmpCpu& c = part(vs[i]);
        c.last_error = Errc{};
        c.timeline.prepare_end_ns = end;
        store_state(c, CpuState::prepared);
    }
}

void Smp::launch_batch(const VcpuId* vs, uint32_t n, Errc& first) noexcept
{
    if (n > SmpScratch::hvm_batch_size)
        n = SmpScratch::hvm_batch_size; // the caller's batches are never larger
    auto note = [&](Errc e) {
        if (first == Errc{})
            first = e;
    };
    VcpuId ready[SmpScratch::hvm_batch_size];
    SmpCpu* cpus[SmpScratch::hvm_batch_size];
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; ++i) {
        SmpCpu& c = part(vs[i]);
        if (auto r = stage(c, vs[i], scratch_->hvm_batch[k]); !r.has_value()) {
            note(r.error());
            continue;
        }
        ready[k] = vs[i];
        cpus[k++] = &c;
    }
    if (k == 0)
        return;
    // The handshakes are complete before Xen can run an AP: the hypercall
    // orders our stores before any vCPU's first instruction. One stamp for
    // the batch: Xen time before its initialises.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    const uint64_t t = now();
    for (uint32_t j = 0; j < k; ++j)
        cpus[j]->handshake.start_ns = t;
    Errc errors[SmpScratch::hvm_batch_size];
    domain_->initialise_many(ready, scratch_->hvm_batch, k, errors);
    for (uint32_t j = 0; j < k; ++j)
        if (auto r = initialised(*cpus[j], errors[j]); !r.has_value())
            note(r.error());
}

} // namespace xen
