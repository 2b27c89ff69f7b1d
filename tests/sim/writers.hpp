// Step-by-step writers for the areas Xen rewrites while the guest may be
// reading them. A test thread can stop a writer between steps and read, to
// show that a reader never accepts a torn record.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/abi/vcpu.hpp>

namespace xen::sim {

/// Rewrites one registered runstate area. With the XEN_RUNSTATE_UPDATE
/// protocol (phys area, or VA area after VMASST_TYPE_runstate_update_flag)
/// the steps are: (1) state_entry_time | flag, barrier; (2) the body, flag
/// still set, barrier; (3) state_entry_time with the flag clear. Without it
/// there is one step: the body, state_entry_time last, no flag (a remote
/// reader can see it torn: that is why Xen 4.8 added the flag).
class RunstateWriter {
public:
    RunstateWriter() = default;
    RunstateWriter(abi::vcpu_runstate_info* target, const abi::vcpu_runstate_info& value, bool protocol) noexcept
        : target_(target), value_(value), protocol_(protocol)
    {
    }

    /// Do the next step; false once every step is done (or no area).
    bool step() noexcept;
    /// Do every remaining step.
    void finish() noexcept
    {
        while (step()) {
        }
    }
    /// How many steps this writer takes in total (0 with no area).
    int steps() const noexcept { return target_ == nullptr ? 0 : (protocol_ ? 3 : 1); }
    bool done() const noexcept { return next_ >= steps(); }
    bool uses_protocol() const noexcept { return protocol_; }
    abi::vcpu_runstate_info* target() const noexcept { return target_; }

private:
    abi::vcpu_runstate_info* target_ = nullptr;
    abi::vcpu_runstate_info value_{};
    bool protocol_ = false;
    int next_ = 0;
};

/// Rewrites every copy of one vCPU's vcpu_time_info (its vcpu_info, and the
/// secondary area of op 13 or 15) with the version protocol: (1) version
/// odd, barrier; (2) the body; (3) barrier, version even.
class TimeWriter {
public:
    static constexpr int max_targets = 2;

    TimeWriter() = default;
    TimeWriter(abi::vcpu_time_info* const (&targets)[max_targets], const abi::vcpu_time_info& value) noexcept;

    bool step() noexcept;
    void finish() noexcept
    {
        while (step()) {
        }
    }
    int steps() const noexcept { return count_ == 0 ? 0 : 3; }
    bool done() const noexcept { return next_ >= steps(); }

private:
    abi::vcpu_time_info* targets_[max_targets]{};
    int count_ = 0;
    abi::vcpu_time_info value_{}; // version field = the final (even) version
    int next_ = 0;
};

} // namespace xen::sim
