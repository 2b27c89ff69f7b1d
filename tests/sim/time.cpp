// The simulated TSC and vcpu_time_info (pvclock) records, docs/xen-contracts.md,
// "pvclock records": time = system_time + scale(tsc - tsc_timestamp) with Xen's 32.32
// mul and power-of-two shift; every copy (the vcpu_info in use, and the
// op 13 or op 15 area; op 15 wins) is rewritten with the version protocol.
#include <cstdlib>

#include "state.hpp"

namespace xen::sim {

namespace {
__extension__ typedef unsigned __int128 u128;
} // namespace

void Hypervisor::init_time_scale()
{
    if (cfg_.tsc_mul != 0) {
        tsc_mul_ = cfg_.tsc_mul;
        tsc_shift_ = cfg_.tsc_shift;
        return;
    }
    // Xen's set_time_scale(): bring ticks/s into (1e9, 2e9] by powers of
    // two, then mul = 1e9 * 2^32 / that.
    uint64_t tps = cfg_.tsc_hz == 0 ? 1'000'000'000 : cfg_.tsc_hz;
    int shift = 0;
    while (tps > 2'000'000'000ull) {
        tps >>= 1;
        --shift;
    }
    while (tps <= 1'000'000'000ull) {
        tps <<= 1;
        ++shift;
    }
    tsc_mul_ = static_cast<uint32_t>((uint64_t{1'000'000'000} << 32) / tps);
    tsc_shift_ = static_cast<int8_t>(shift);
}

uint64_t Hypervisor::tsc_at(const VcpuState& v, uint64_t t) const
{
    // The inverse of the pvclock scale, so a guest's pvclock read never runs
    // ahead of virtual time (only rounding down, by at most a few ns).
    u128 ticks = (static_cast<u128>(t) << 32) / tsc_mul_;
    if (tsc_shift_ >= 0)
        ticks >>= tsc_shift_;
    else
        ticks <<= -tsc_shift_;
    return static_cast<uint64_t>(ticks) + static_cast<uint64_t>(v.tsc_skew);
}

TimeWriter Hypervisor::time_writer(VcpuState& v)
{
    v.time_version += 2;
    abi::vcpu_time_info t{};
    t.version = v.time_version;
    t.tsc_timestamp = tsc_at(v, now_);
    t.system_time = now_;
    t.tsc_to_system_mul = tsc_mul_;
    t.tsc_shift = tsc_shift_;
    t.flags = pvclock_flags_;
    abi::vcpu_time_info* const targets[TimeWriter::max_targets] = {&info_of(v).time,
                                                                   v.time_phys ? v.time_phys : v.time_va};
    return TimeWriter(targets, t);
}

void Hypervisor::write_time(VcpuState& v) { time_writer(v).finish(); }

uint64_t Hypervisor::tsc(VcpuId id) const
{
    Lock l(mu_);
    return tsc_at(at(id), now_);
}

void Hypervisor::set_tsc_skew(VcpuId id, int64_t ticks)
{
    Lock l(mu_);
    at(id).tsc_skew = ticks;
}

void Hypervisor::set_tsc_stable(bool stable)
{
    Lock l(mu_);
    set_pvclock_flags(stable ? (pvclock_flags_ | abi::pvclock_tsc_stable)
                             : (pvclock_flags_ & ~abi::pvclock_tsc_stable));
}

void Hypervisor::set_pvclock_flags(uint8_t flags)
{
    Lock l(mu_);
    pvclock_flags_ = flags;
    for (auto& v : vcpus_)
        write_time(*v);
}

uint32_t Hypervisor::tsc_to_system_mul() const
{
    Lock l(mu_);
    return tsc_mul_;
}

int8_t Hypervisor::tsc_shift() const
{
    Lock l(mu_);
    return tsc_shift_;
}

void Hypervisor::update_time(VcpuId id)
{
    Lock l(mu_);
    write_time(at(id));
}

TimeWriter Hypervisor::begin_time_update(VcpuId id)
{
    Lock l(mu_);
    return time_writer(at(id));
}

abi::vcpu_time_info* Hypervisor::time_area_va(VcpuId id) const
{
    Lock l(mu_);
    return at(id).time_va;
}

abi::vcpu_time_info* Hypervisor::time_area_phys(VcpuId id) const
{
    Lock l(mu_);
    return at(id).time_phys;
}

} // namespace xen::sim
