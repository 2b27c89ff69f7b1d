// The update protocols Xen follows when it rewrites guest-visible records:
// XEN_RUNSTATE_UPDATE for runstate areas (Xen commit 2529c850ea, 4.8;
// always for phys areas, 4.18) and the odd/even version of vcpu_time_info.
#include "writers.hpp"

#include "state.hpp"

namespace xen::sim {

namespace {

void put_runstate_body(abi::vcpu_runstate_info& dst, const abi::vcpu_runstate_info& v, uint64_t entry) noexcept
{
    put(dst.state, v.state);
    for (int i = 0; i < 4; ++i)
        put(dst.time[i], v.time[i]);
    put(dst.state_entry_time, entry);
}

void put_time_body(abi::vcpu_time_info& dst, const abi::vcpu_time_info& v) noexcept
{
    put(dst.tsc_timestamp, v.tsc_timestamp);
    put(dst.system_time, v.system_time);
    put(dst.tsc_to_system_mul, v.tsc_to_system_mul);
    put(dst.tsc_shift, v.tsc_shift);
    put(dst.flags, v.flags);
}

} // namespace

bool RunstateWriter::step() noexcept
{
    if (done())
        return false;
    auto& dst = *target_;
    const uint64_t entry = value_.state_entry_time & ~abi::runstate_update_flag;
    if (!protocol_) {
        put_runstate_body(dst, value_, entry);
    } else if (next_ == 0) {
        put(dst.state_entry_time, entry | abi::runstate_update_flag);
        write_barrier();
    } else if (next_ == 1) {
        put_runstate_body(dst, value_, entry | abi::runstate_update_flag);
        write_barrier();
    } else {
        put(dst.state_entry_time, entry);
    }
    ++next_;
    return true;
}

TimeWriter::TimeWriter(abi::vcpu_time_info* const (&targets)[max_targets], const abi::vcpu_time_info& value) noexcept
    : value_(value)
{
    for (auto* t : targets)
        if (t != nullptr)
            targets_[count_++] = t;
}

bool TimeWriter::step() noexcept
{
    if (done())
        return false;
    for (int i = 0; i < count_; ++i) {
        auto& dst = *targets_[i];
        if (next_ == 0) {
            put(dst.version, value_.version - 1); // odd: update in progress
        } else if (next_ == 1) {
            put_time_body(dst, value_);
        } else {
            put(dst.version, value_.version);
        }
    }
    write_barrier();
    ++next_;
    return true;
}

} // namespace xen::sim
