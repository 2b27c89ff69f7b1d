/// \file
/// PerVcpu<T>: one layer's view of its per-vCPU part inside the kernel's
/// storage, keyed by Xen's vcpu_id.
///
/// The kernel declares one VcpuSlot per vCPU (xen/vcpu_slot.hpp); each layer
/// owns one member of it (the event cursor, the timer queue, ...). A layer
/// that is tested on its own must not need the whole slot, so it sees its
/// part through this view: the address of vCPU 0's part and the distance
/// between two vCPUs' parts. A plain array of parts is the case stride ==
/// sizeof(T).
#pragma once

#include <cstddef>
#include <cstdint>
#include <xen/support/types.hpp>

namespace xen {

/// One layer's part `T` of every vCPU's slot, by vcpu_id: a base address,
/// a stride and a count (see the file's description).
template <class T>
class PerVcpu {
public:
    /// An empty view: every lookup finds nothing.
    constexpr PerVcpu() noexcept = default;
    /// vCPU v's part is at `first` + v * `stride` bytes, for v < `count`.
    constexpr PerVcpu(T* first, size_t stride, uint32_t count) noexcept
        : base_(first), stride_(stride), count_(first != nullptr ? count : 0)
    {
    }
    /// A plain array: vCPU v's part is parts[v].
    constexpr PerVcpu(T* parts, uint32_t count) noexcept : PerVcpu(parts, sizeof(T), count) {}

    /// vCPU `v`'s part, or nullptr when the storage has none for it.
    T* find(VcpuId v) const noexcept
    {
        if (v.value >= count_)
            return nullptr;
        return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(base_) + stride_ * v.value);
    }
    /// vCPU `v`'s part; `v` must be below size().
    T& operator[](VcpuId v) const noexcept { return *find(v); }
    /// vCPUs the storage holds parts for (0 .. size()-1).
    constexpr uint32_t size() const noexcept { return count_; }

private:
    T* base_ = nullptr;
    size_t stride_ = sizeof(T);
    uint32_t count_ = 0;
};

} // namespace xen
