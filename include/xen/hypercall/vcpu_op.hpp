/// \file
/// One typed wrapper per VCPUOP (ops 0-15). Each is a thin inline function:
/// stateless checks the library can make on its own (alignment, page
/// crossing, Xen's documented ranges), then one hypercall. Checks that need
/// to know the domain (vCPU count, which vCPU is calling) live in the
/// Domain (xen/domain.hpp), which wraps these.
///
/// Error paths per op and per Xen version: docs/vcpuop.md.
#pragma once

#include <cstdint>
#include <xen/abi/guest_context.hpp>
#include <xen/abi/hvm_context.hpp>
#include <xen/abi/shared_info.hpp>
#include <xen/abi/vcpu.hpp>
#include <xen/hypercall/result_from_xen.hpp>
#include <xen/hypercall/transport.hpp>
#include <xen/support/types.hpp>

/// The typed hypercall wrappers: one function per operation, checking what
/// it can before calling Xen, returning Result with Xen's errno as Errc.
namespace xen::hc {

namespace detail {

inline long vcpu_op(abi::vcpuop op, VcpuId id, uint64_t arg) noexcept
{
    return transport::hypercall3<abi::hypercall::vcpu_op>(static_cast<uint32_t>(op), id.value, arg);
}

/// Ops 10, 14, 15 (and our own rule for 5 and 13): 8-byte aligned, within one page.
inline Result<void> check_area(uint64_t addr, uint64_t size) noexcept
{
    if (addr % 8 != 0)
        return err(Errc::area_misaligned);
    if (!within_one_page(addr, size))
        return err(Errc::area_crosses_page);
    return ok();
}

} // namespace detail

/// Xen's "unregister" value for ops 14 and 15.
inline constexpr uint64_t phys_area_none = ~uint64_t{0};

/// The APIC and ACPI ids of the pCPU a vCPU is pinned to (op 12).
struct PhysId {
    uint32_t apic_id; ///< the pCPU's local APIC id
    uint32_t acpi_id; ///< the pCPU's ACPI processor id
};

/// Op 0, PV: give vCPU `id` its initial register state. Xen: -EEXIST if
/// already initialised (also after VCPUOP_down), -EINVAL for a bad context
/// or for vCPU >= 32 without a registered vcpu_info, -EFAULT, -ENOMEM.
inline Result<void> vcpu_initialise(VcpuId id, const abi::vcpu_guest_context& ctx) noexcept
{
    return result_of(detail::vcpu_op(abi::vcpuop::initialise, id, transport::arg(&ctx)));
}

/// Op 0, HVM/PVH (Xen 4.7+): the vCPU is left down; call vcpu_up next.
/// Refuses a context with non-zero padding or an unknown mode before the call.
inline Result<void> vcpu_initialise(VcpuId id, const abi::vcpu_hvm_context& ctx) noexcept
{
    if (ctx.pad != 0 || ctx.mode > static_cast<uint32_t>(abi::vcpu_hvm_mode::mode_64b))
        return err(Errc::invalid_argument);
    return result_of(detail::vcpu_op(abi::vcpuop::initialise, id, transport::arg(&ctx)));
}

/// Op 1: let an initialised vCPU run. Xen: -EINVAL if not initialised;
/// 0 and no effect if already up.
inline Result<void> vcpu_up(VcpuId id) noexcept { return result_of(detail::vcpu_op(abi::vcpuop::up, id, 0)); }

/// Op 2: stop a vCPU. Asynchronous for another vCPU (poll vcpu_is_up);
/// downing the last running vCPU powers the domain off (see Domain::down).
inline Result<void> vcpu_down(VcpuId id) noexcept { return result_of(detail::vcpu_op(abi::vcpuop::down, id, 0)); }

/// Op 3: true if up, false if down (or never brought up). -ENOENT: no such vCPU.
inline Result<bool> vcpu_is_up(VcpuId id) noexcept
{
    return value_of(detail::vcpu_op(abi::vcpuop::is_up, id, 0)).transform([](long v) { return v != 0; });
}

/// Op 4: a consistent snapshot of any vCPU's runstate, the time in the
/// current state already added. -ENOENT, -EFAULT.
inline Result<abi::vcpu_runstate_info> vcpu_get_runstate_info(VcpuId id) noexcept
{
    abi::vcpu_runstate_info info{};
    XEN_TRY(result_of(detail::vcpu_op(abi::vcpuop::get_runstate_info, id, transport::arg(&info))));
    return info;
}

/// Op 5: Xen keeps `area` current (by guest virtual address) at every
/// context switch. Xen itself does not require page containment here, but
/// we do, so the area is usable by op 14 too and never half-mapped.
/// Beware: HVM/PVH registration "succeeds" even for an unmapped address.
inline Result<void> register_runstate_memory_area(VcpuId id, Area<abi::vcpu_runstate_info>& area) noexcept
{
    XEN_TRY(detail::check_area(area.address(), sizeof(abi::vcpu_runstate_info)));
    abi::vcpu_register_area_va arg{area.address()};
    return result_of(detail::vcpu_op(abi::vcpuop::register_runstate_memory_area, id, transport::arg(&arg)));
}

/// Op 5 with a null address: Xen stops updating the virtual-address area.
inline Result<void> unregister_runstate_memory_area(VcpuId id) noexcept
{
    abi::vcpu_register_area_va arg{0};
    return result_of(detail::vcpu_op(abi::vcpuop::register_runstate_memory_area, id, transport::arg(&arg)));
}

/// Op 6: periodic VIRQ_TIMER every `period_ns` (only while the vCPU runs; it
/// never wakes a blocked vCPU). Refused before the call: under 1 ms
/// (period_too_short) or above 2^62-1 ns (invalid_argument), as Xen would.
inline Result<void> set_periodic_timer(VcpuId id, uint64_t period_ns) noexcept
{
    if (period_ns < abi::periodic_period_min_ns)
        return err(Errc::period_too_short);
    if (period_ns > abi::periodic_period_max_ns)
        return err(Errc::invalid_argument);
    abi::vcpu_set_periodic_timer arg{period_ns};
    return result_of(detail::vcpu_op(abi::vcpuop::set_periodic_timer, id, transport::arg(&arg)));
}

/// Op 7: stop the periodic timer (PV vCPUs start with a 100 Hz one). Never fails
/// for an existing vCPU.
inline Result<void> stop_periodic_timer(VcpuId id) noexcept
{
    return result_of(detail::vcpu_op(abi::vcpuop::stop_periodic_timer, id, 0));
}

/// Op 8: one VIRQ_TIMER at absolute system time `deadline_ns`, replacing any
/// earlier deadline. Only for the calling vCPU (Xen: -EINVAL otherwise).
/// A past deadline fires at once (Xen 4.17.3+/4.18+). `flags` defaults to 0:
/// VCPU_SSHOTTMR_future is exposed only for tests; with it, older Xen and
/// KVM's emulation answer -ETIME for a past deadline
/// (docs/timers.md, "The Xen contracts behind it").
inline Result<void> set_singleshot_timer(VcpuId id, uint64_t deadline_ns, uint32_t flags = 0) noexcept
{
    abi::vcpu_set_singleshot_timer arg{deadline_ns, flags, 0};
    return result_of(detail::vcpu_op(abi::vcpuop::set_singleshot_timer, id, transport::arg(&arg)));
}

/// Op 9: cancel the calling vCPU's single-shot timer. -EINVAL for another vCPU.
inline Result<void> stop_singleshot_timer(VcpuId id) noexcept
{
    return result_of(detail::vcpu_op(abi::vcpuop::stop_singleshot_timer, id, 0));
}

/// Op 10: move vCPU `id`'s vcpu_info into `area`, found by Xen at `frame`
/// (PV: MFN, HVM/PVH: GFN) plus the area's offset in its page. Once per vCPU
/// lifetime: a second call is -EINVAL on Xen <= 4.17, -EBUSY on 4.18+.
/// Mandatory before initialising a PV vCPU >= 32. Xen errors: -ENXIO
/// (crosses a page / misaligned; refused here first), -EINVAL, -EAGAIN,
/// -EPERM, -EACCES, -ENOMEM. Expect one spurious upcall afterwards.
inline Result<void> register_vcpu_info(VcpuId id, Area<abi::vcpu_info>& area, FrameNumber frame) noexcept
{
    XEN_TRY(detail::check_area(area.address(), sizeof(abi::vcpu_info)));
    abi::vcpu_register_vcpu_info arg{frame.value, static_cast<uint32_t>(area.address() % page_size), 0};
    return result_of(detail::vcpu_op(abi::vcpuop::register_vcpu_info, id, transport::arg(&arg)));
}

/// Op 11: raise an NMI on vCPU `id`.
inline Result<void> send_nmi(VcpuId id) noexcept { return result_of(detail::vcpu_op(abi::vcpuop::send_nmi, id, 0)); }

/// Op 12: physical CPU ids. -EINVAL unless the caller is the hardware domain
/// and vCPU `id` is pinned to one pCPU (boot Xen with dom0_vcpus_pin).
inline Result<PhysId> get_physid(VcpuId id) noexcept
{
    abi::vcpu_get_physid arg{};
    XEN_TRY(result_of(detail::vcpu_op(abi::vcpuop::get_physid, id, transport::arg(&arg))));
    return PhysId{abi::physid_to_apic_id(arg.phys_id), abi::physid_to_acpi_id(arg.phys_id)};
}

/// Op 13: a secondary vcpu_time_info copy by virtual address (Xen 4.3+;
/// -ENOSYS on 4.0-4.2). -EFAULT.
inline Result<void> register_vcpu_time_memory_area(VcpuId id, Area<abi::vcpu_time_info>& area) noexcept
{
    XEN_TRY(detail::check_area(area.address(), sizeof(abi::vcpu_time_info)));
    abi::vcpu_register_area_va arg{area.address()};
    return result_of(detail::vcpu_op(abi::vcpuop::register_vcpu_time_memory_area, id, transport::arg(&arg)));
}

/// Op 13 with a null address: stop updating the secondary copy.
inline Result<void> unregister_vcpu_time_memory_area(VcpuId id) noexcept
{
    abi::vcpu_register_area_va arg{0};
    return result_of(detail::vcpu_op(abi::vcpuop::register_vcpu_time_memory_area, id, transport::arg(&arg)));
}

/// Op 14 (Xen 4.18+, XENFEAT_runstate_phys_area; -ENOSYS before): the
/// runstate area by guest-physical address `pa` (the kernel's translation of
/// `area`). Always updated with the XEN_RUNSTATE_UPDATE protocol. While it is
/// registered, op 5's area is not serviced.
inline Result<void> register_runstate_phys_area(VcpuId id, Area<abi::vcpu_runstate_info>& area, PhysAddr pa) noexcept
{
    XEN_TRY(detail::check_area(pa.value, sizeof(abi::vcpu_runstate_info)));
    if (pa.value % page_size != area.address() % page_size)
        return err(Errc::invalid_argument); // pa is not where `area` lives
    abi::vcpu_register_area_phys arg{pa.value};
    return result_of(detail::vcpu_op(abi::vcpuop::register_runstate_phys_area, id, transport::arg(&arg)));
}

/// Op 14 with ~0: unregister the physical runstate area.
inline Result<void> unregister_runstate_phys_area(VcpuId id) noexcept
{
    abi::vcpu_register_area_phys arg{phys_area_none};
    return result_of(detail::vcpu_op(abi::vcpuop::register_runstate_phys_area, id, transport::arg(&arg)));
}

/// Op 15 (Xen 4.18+, XENFEAT_vcpu_time_phys_area; -ENOSYS before): the
/// secondary vcpu_time_info by guest-physical address.
inline Result<void> register_vcpu_time_phys_area(VcpuId id, Area<abi::vcpu_time_info>& area, PhysAddr pa) noexcept
{
    XEN_TRY(detail::check_area(pa.value, sizeof(abi::vcpu_time_info)));
    if (pa.value % page_size != area.address() % page_size)
        return err(Errc::invalid_argument); // pa is not where `area` lives
    abi::vcpu_register_area_phys arg{pa.value};
    return result_of(detail::vcpu_op(abi::vcpuop::register_vcpu_time_phys_area, id, transport::arg(&arg)));
}

/// Op 15 with ~0: unregister the physical time area.
inline Result<void> unregister_vcpu_time_phys_area(VcpuId id) noexcept
{
    abi::vcpu_register_area_phys arg{phys_area_none};
    return result_of(detail::vcpu_op(abi::vcpuop::register_vcpu_time_phys_area, id, transport::arg(&arg)));
}

} // namespace xen::hc
