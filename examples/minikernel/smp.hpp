// SMP in the minikernel: which vCPU am I, per-CPU data, bringing the other
// vCPUs (APs) online, and running a function on another vCPU.
//
// Numbers: Xen's vcpu_id is the only number, here as in the library. vCPU 0
// is the boot vCPU; vCPUs 1..vcpu_count()-1 are the others Xen gave the
// domain. Per-vCPU arrays are indexed by it.
//
// How a test uses it:
//
//     // Keep your own per-vCPU state in an array indexed by vcpu_id:
//     MyState state[mk::max_vcpus];
//
//     // Bring the APs online (once per boot; later calls return at once):
//     const auto online = mk::smp::ensure_online();
//     if (!online) { tap.result(false, "clock", "no APs: ", xen::errc_name(online.error())); return; }
//
//     // Run something on vCPU 3 and wait for it to return:
//     struct Job { uint64_t seen_ns; } job{};
//     auto r = mk::smp::run_on(xen::VcpuId{3}, [](void* arg) noexcept {
//         static_cast<Job*>(arg)->seen_ns = mk::now_ns();   // runs on vCPU 3
//     }, &job);
//
// Where the function runs: on the target vCPU, in *thread* context (its
// idle loop), with its event upcalls on. So it may bind and handle events,
// arm timers and wait for them, block (SCHEDOP_block on PV, sti;hlt on PVH)
// and idle - everything a kernel thread may do. It must return eventually:
// the vCPU serves one call at a time. run_on on the calling vCPU simply
// calls the function. vCPU 0 runs the tests and has no idle loop: it serves
// calls from other vCPUs only while it waits itself.
// Event handlers for ports bound to a vCPU
// (domain().events().bind_virq(virq, v, ...)) run on that vCPU, in upcall
// context, whether or not a call is running there.
//
// Before ensure_online() only vCPU 0 runs; this_vcpu() is vCPU 0 and
// run_on(vCPU 0, ...) works. The console may be used from any vCPU (one
// line buffer per vCPU, so lines do not mix); TAP results are reported from
// vCPU 0 only.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

#include "domain.hpp"

namespace mk::smp {

/// How long run_on waits for the target by default: 5 s of Xen system time
/// (a generous bound for a busy, emulated machine; it never waits longer).
inline constexpr uint64_t default_call_timeout_ns = 5'000'000'000;

/// The calling vCPU's Xen vcpu_id (a per-CPU variable). Any context.
xen::VcpuId this_vcpu() noexcept;

/// The calling vCPU's vcpu_info: the one Xen writes its event flags and
/// pvclock record into (shared_info's slot for the boot vCPU, the one in its
/// VcpuSlot for the APs). Any context.
xen::abi::vcpu_info& this_vcpu_info() noexcept;

/// vCPUs this kernel knows about: what Xen gave the domain (counted with
/// VCPUOP_is_up at the first ensure_online), at most max_vcpus; 1 before.
uint32_t vcpu_count() noexcept;

/// vCPU `v`'s vcpu_info (see this_vcpu_info); `v` below vcpu_count(). For a
/// vCPU >= 32 whose vcpu_info could not be registered (it is then never
/// started), a zeroed stand-in that Xen never writes.
xen::abi::vcpu_info& vcpu_info_of(xen::VcpuId v) noexcept;

/// True while vCPU `v` runs and serves calls (vCPU 0 always).
bool is_online(xen::VcpuId v) noexcept;

/// vCPUs online now, vCPU 0 included.
uint32_t online_count() noexcept;

/// How ensure_online brings the APs up.
enum class Mode : uint8_t {
    parallel, ///< initialise and up every AP, then wait for all of them
    serial,   ///< one AP at a time: up, wait, next
};

/// Bring every AP online, once per boot (later calls only report). Returns
/// the number of vCPUs online. Errors: the first error of discovery; an AP
/// that fails leaves the others online and is reported by the smp test.
/// Call from vCPU 0, in thread context.
xen::Result<uint32_t> ensure_online(Mode mode = Mode::parallel) noexcept;

/// What run_on runs on the target vCPU (thread context there; see above).
using CallFn = void (*)(void* arg) noexcept;

/// Run fn(arg) on vCPU `v` and wait until it has returned, at most
/// `timeout_ns` of Xen system time. On the calling vCPU it is a plain call.
/// Call from thread context. Errors: vcpu_out_of_range (no such vCPU),
/// unsupported (it is not online), timed_out (the function has not
/// returned in time: it may still run later; `arg` must stay valid),
/// or what sending the IPI returned.
xen::Result<void> run_on(xen::VcpuId v, CallFn fn, void* arg, uint64_t timeout_ns = default_call_timeout_ns) noexcept;

} // namespace mk::smp
