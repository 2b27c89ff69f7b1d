// SMP in the minikernel: which CPU am I, per-CPU data, bringing the other
// vCPUs (APs) online, and running a function on another vCPU.
//
// CPU numbers: CPU 0 is the boot vCPU; CPUs 1..cpu_count()-1 are the other
// vCPUs Xen gave the domain, in vcpu_id order. Xen's own number for a CPU
// is vcpu_of(cpu): pass that to VCPUOPs, bind_virq, bind_ipi. (Today the two
// are equal; code that keeps them apart keeps working if they ever differ.)
//
// How a scenario uses it:
//
//     // Keep your own per-CPU state in an array indexed by the CPU number:
//     MyTimerCpu timer_cpus[mk::smp::max_cpus];
//
//     // Bring the APs online (once per boot; later calls return at once):
//     const auto online = mk::smp::ensure_online();
//     if (!online) { tap.result(false, "clock", "no APs: ", xen::errc_name(online.error())); return; }
//
//     // Run something on CPU 3 and wait for it to return:
//     struct Job { uint64_t seen_ns; } job{};
//     auto r = mk::smp::run_on(3, [](void* arg) noexcept {
//         auto& j = *static_cast<Job*>(arg);
//         j.seen_ns = read_my_clock(mk::smp::this_vcpu());   // runs on CPU 3
//     }, &job);
//
// Where the function runs: on the target CPU, in *thread* context (that
// CPU's idle loop), with its event upcalls on. So it may bind and handle
// events, arm timers and wait for them, block (SCHEDOP_block on PV, sti;hlt
// on PVH) and idle - everything a kernel thread may do. It must return
// eventually: the CPU serves one call at a time. run_on on the calling CPU
// simply calls the function. CPU 0 runs the scenarios and has no idle loop:
// it serves calls from other CPUs only while it waits in run_on itself.
// Event handlers for ports bound to a CPU
// (events::channels().bind_virq(virq, smp::vcpu_of(cpu), ...)) run on that
// CPU, in upcall context, whether or not a call is running there.
//
// Before ensure_online() only CPU 0 runs; this_cpu() is 0 and run_on(0, ...)
// works. The console may be used from any CPU (one line buffer per CPU, so
// lines do not mix); TAP results are reported from CPU 0 only.
#pragma once

#include <cstdint>
#include <xen/abi/shared_info.hpp>
#include <xen/support/result.hpp>
#include <xen/support/types.hpp>

namespace mk::smp {

/// CPUs this kernel can run (its per-CPU arrays are this long). A domain
/// with more vCPUs runs the first max_cpus of them.
inline constexpr uint32_t max_cpus = 256;

/// How long run_on waits for the target by default: 5 s of Xen system time
/// (a generous bound for a busy, emulated machine; it never waits longer).
inline constexpr uint64_t default_call_timeout_ns = 5'000'000'000;

/// The calling CPU's number (0 = the boot vCPU). Any context; never fails.
uint32_t this_cpu() noexcept;

/// The calling CPU's Xen vcpu_id. Any context; never fails.
xen::VcpuId this_vcpu() noexcept;

/// The calling CPU's vcpu_info: the one Xen writes its event flags and
/// pvclock record into (shared_info's slot for the boot vCPU, a registered
/// per-CPU copy for the APs). Any context.
xen::abi::vcpu_info& this_vcpu_info() noexcept;

/// vCPUs this kernel knows about: what Xen gave the domain (counted with
/// VCPUOP_is_up at the first ensure_online), at most max_cpus; 1 before.
uint32_t cpu_count() noexcept;

/// Xen's vcpu_id for CPU `cpu` (`cpu` < cpu_count()).
xen::VcpuId vcpu_of(uint32_t cpu) noexcept;

/// CPU `cpu`'s vcpu_info (see this_vcpu_info); `cpu` < cpu_count(). For a
/// vCPU >= 32 whose vcpu_info could not be registered (it is then never
/// started), a zeroed stand-in that Xen never writes.
xen::abi::vcpu_info& vcpu_info_of(uint32_t cpu) noexcept;

/// True while CPU `cpu` runs and serves calls (CPU 0 always).
bool is_online(uint32_t cpu) noexcept;

/// CPUs online now, CPU 0 included.
uint32_t online_count() noexcept;

/// How ensure_online brings the APs up.
enum class Mode : uint8_t {
    parallel, ///< initialise and up every AP, then wait for all of them
    serial,   ///< one AP at a time: up, wait, next
};

/// Bring every AP online, once per boot (later calls only report). Returns
/// the number of CPUs online. Errors: the first error of discovery; an AP
/// that fails leaves the others online and is reported by the smp scenario.
/// Call from CPU 0, in thread context.
xen::Result<uint32_t> ensure_online(Mode mode = Mode::parallel) noexcept;

/// What run_on runs on the target CPU (thread context there; see above).
using CallFn = void (*)(void* arg) noexcept;

/// Run fn(arg) on CPU `cpu` and wait until it has returned, at most
/// `timeout_ns` of Xen system time. On the calling CPU it is a plain call.
/// Call from thread context. Errors: vcpu_out_of_range (no such CPU),
/// unsupported (the CPU is not online), timed_out (the function has not
/// returned in time: it may still run later; `arg` must stay valid),
/// or what sending the IPI returned.
xen::Result<void> run_on(uint32_t cpu, CallFn fn, void* arg,
                         uint64_t timeout_ns = default_call_timeout_ns) noexcept;

} // namespace mk::smp
