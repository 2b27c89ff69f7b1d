// vcpuop: every VCPUOP (0-15) against the Xen we booted on, with the answer
// that Xen version and guest type must give (docs/vcpuop.md). One TAP line
// per check; each names its op. Where the library refuses bad input before
// calling Xen, the check also makes the raw call to show Xen agrees.
//
// Runs on vCPU 0 with the other vCPUs never started (dom0_max_vcpus > 1
// gives "present but down" vCPUs). It leaves no timer armed and no area
// registered except the vcpu_info of the last vCPU (that op cannot be undone).
#include <xen/abi/event_channel.hpp>
#include <xen/domain.hpp>
#include <xen/hypercall/event_channel_op.hpp>
#include <xen/hypercall/sched_op.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/time/pvclock.hpp>

#include "domain.hpp"
#include "events.hpp"
#include "framework/test.hpp"
#include "memory.hpp"
#include "smp_internal.hpp"
#include "traps.hpp"

namespace mk {

namespace {

using xen::Errc;
using xen::VcpuId;
namespace abi = xen::abi;
namespace hc = xen::hc;

constexpr VcpuId vcpu0{0};

// This scenario runs on vCPU 0 only.

// Areas Xen writes into: static storage (xen::Area), never the stack.
xen::Area<abi::vcpu_runstate_info> runstate_va;
xen::Area<abi::vcpu_runstate_info> runstate_phys;
xen::Area<abi::vcpu_time_info> time_va;
xen::Area<abi::vcpu_time_info> time_phys;

// Contexts for the -EEXIST check: Xen tests "already initialised" before it
// looks at the contents, so zeroes do.
abi::vcpu_guest_context pv_context;
abi::vcpu_hvm_context hvm_context;

volatile uint64_t nmis = 0;
bool on_nmi(TrapFrame&) noexcept
{
    nmis = nmis + 1;
    return true;
}

volatile uint64_t timer_events = 0;
void on_timer(hc::Port, VcpuId, void*) noexcept { timer_events = timer_events + 1; }

/// Spin until `timer_events` exceeds `before` or `timeout_ns` of system time
/// pass. Returns the number of new events. Spinning (not SCHEDOP_block) so a
/// lost event costs a bounded wait, never a hang.
uint64_t wait_events(uint64_t before, uint64_t timeout_ns) noexcept
{
    const uint64_t end = now_ns() + timeout_ns;
    while (timer_events == before && now_ns() < end)
        xen::arch::cpu_relax();
    return timer_events - before;
}

/// Spin for `ns` of system time; returns the timer events seen meanwhile.
uint64_t events_during(uint64_t ns) noexcept
{
    const uint64_t before = timer_events;
    const uint64_t end = now_ns() + ns;
    while (now_ns() < end)
        xen::arch::cpu_relax();
    return timer_events - before;
}

/// Xen's own answer to a raw vcpu_op, as an Errc (0 on success).
Errc raw(abi::vcpuop op, VcpuId id, const void* arg) noexcept
{
    const long rc = hc::detail::vcpu_op(op, id, reinterpret_cast<uintptr_t>(arg));
    return rc < 0 ? static_cast<Errc>(-rc) : Errc{};
}

const char* name(Errc e) noexcept { return e == Errc{} ? "0" : xen::errc_name(e); }

template <class T>
Errc error_of(const xen::Result<T>& r) noexcept
{
    return r.has_value() ? Errc{} : r.error();
}

bool at_least(const Context& c, uint32_t major, uint32_t minor) noexcept { return c.version.at_least(major, minor); }

// Patch level from the extra version (".7+13-g..." -> 7), or 0 if unknown.
uint32_t patch_level() noexcept
{
    const auto extra = hc::xen_extraversion();
    if (!extra || extra->text[0] != '.')
        return 0;
    uint32_t n = 0;
    for (const char* p = extra->text + 1; *p >= '0' && *p <= '9'; ++p)
        n = n * 10 + static_cast<uint32_t>(*p - '0');
    return n;
}

constexpr const char* area = "vcpuop";

/// What every check of one run shares.
struct Run {
    Tap& tap;
    const Context& c;
    xen::Domain& ops;
    uint32_t n;    ///< the domain's vCPUs
    VcpuId last;   ///< the last of them
    VcpuId absent; ///< the first id beyond them
};

// 3 is_up -----------------------------------------------------------
void check_is_up(const Run& r) noexcept
{
    Tap& tap = r.tap;
    const uint32_t n = r.n;
    const VcpuId absent = r.absent;
    const auto up0 = hc::vcpu_is_up(vcpu0);
    tap.result(up0.has_value() && *up0, area, "is_up(0) = 1: the boot vCPU runs");
    if (n > 1) {
        const auto up1 = hc::vcpu_is_up(VcpuId{1});
        tap.result(up1.has_value() && !*up1, area, "is_up(1) = 0: present but never brought up");
    } else {
        tap.skip(area, "needs dom0_max_vcpus >= 2", "is_up(1) = 0");
    }
    const auto upn = hc::vcpu_is_up(absent);
    tap.result(error_of(upn) == Errc::enoent, area, "is_up(", n, ") = ENOENT: beyond the last vCPU (got ",
               name(error_of(upn)), ")");
}

// 4 get_runstate_info, 5 register_runstate_memory_area, 14 register_runstate_phys_area
void check_runstate(const Run& r) noexcept
{
    Tap& tap = r.tap;
    const Context& c = r.c;
    const auto rs = hc::vcpu_get_runstate_info(vcpu0);
    const bool rs_ok = rs.has_value() && rs->state == static_cast<int32_t>(abi::runstate::running) && rs->time[0] > 0;
    tap.result(rs_ok, area, "get_runstate_info(0): running, ", rs_ok ? rs->time[0] : 0, " ns run so far");

    // 5 register_runstate_memory_area ---------------------------------------
    const auto r5 = hc::register_runstate_memory_area(vcpu0, runstate_va);
    (void)hc::sched_yield(); // a context switch rewrites the area
    const bool r5_ok = r5.has_value() && runstate_va.value.state == static_cast<int32_t>(abi::runstate::running) &&
                       (runstate_va.value.state_entry_time & ~abi::runstate_update_flag) > 0;
    tap.result(r5_ok, area, "register_runstate_memory_area(0): Xen keeps the area current (", name(error_of(r5)), ")");

    // 14 register_runstate_phys_area (Xen 4.18+) -----------------------------
    const auto r14 = hc::register_runstate_phys_area(vcpu0, runstate_phys, xen_address_of(runstate_phys.get()));
    if (at_least(c, 4, 18)) {
        (void)hc::sched_yield();
        const uint64_t entry = runstate_phys.value.state_entry_time;
        const bool ok14 = r14.has_value() && (entry & abi::runstate_update_flag) == 0 && entry > 0 &&
                          runstate_phys.value.state == static_cast<int32_t>(abi::runstate::running);
        tap.result(ok14, area, "register_runstate_phys_area(0): registered and updated (", name(error_of(r14)), ")");
        (void)hc::unregister_runstate_phys_area(vcpu0);
    } else {
        tap.result(error_of(r14) == Errc::enosys, area, "register_runstate_phys_area(0) = ENOSYS before Xen 4.18 (got ",
                   name(error_of(r14)), ")");
    }
    (void)hc::unregister_runstate_memory_area(vcpu0);
}

// 7 stop_periodic_timer, 6 set_periodic_timer (VIRQ_TIMER bound)
void check_periodic_timer(const Run& r) noexcept
{
    Tap& tap = r.tap;
    // 7 stop_periodic_timer: PV vCPUs start with a 100 Hz tick, PVH with none.
    const auto r7 = hc::stop_periodic_timer(vcpu0);
    const uint64_t quiet7 = events_during(30'000'000);
    tap.result(r7.has_value() && quiet7 == 0, area, "stop_periodic_timer(0): no VIRQ_TIMER for 30 ms (", quiet7,
               " seen)");

    // 6 set_periodic_timer ---------------------------------------------------
    const auto r6 = hc::set_periodic_timer(vcpu0, 10'000'000);
    const uint64_t ticks = events_during(55'000'000);
    (void)hc::stop_periodic_timer(vcpu0);
    tap.result(r6.has_value() && ticks >= 1, area, "set_periodic_timer(0, 10 ms): ", ticks, " ticks in 55 ms");
    tap.metric("vcpuop", "periodic_ticks_55ms", ticks);

    const abi::vcpu_set_periodic_timer too_short{500'000};
    const auto lib6 = hc::set_periodic_timer(vcpu0, too_short.period_ns);
    const Errc xen6 = raw(abi::vcpuop::set_periodic_timer, vcpu0, &too_short);
    (void)hc::stop_periodic_timer(vcpu0);
    tap.result(error_of(lib6) == Errc::period_too_short && xen6 == Errc::einval, area,
               "set_periodic_timer(0, 500 us): library refuses (", name(error_of(lib6)), "), Xen agrees (", name(xen6),
               ")");
}

// 8 set_singleshot_timer, 9 stop_singleshot_timer (VIRQ_TIMER bound)
void check_singleshot_timer(const Run& r) noexcept
{
    Tap& tap = r.tap;
    const Context& c = r.c;
    const uint32_t n = r.n;
    xen::Domain& ops = r.ops;
    uint64_t before = timer_events;
    const auto r8 = ops.set_singleshot_timer(vcpu0, now_ns() + 2'000'000);
    const uint64_t fired = wait_events(before, 1'000'000'000);
    tap.result(r8.has_value() && fired == 1, area, "set_singleshot_timer(0, now + 2 ms): one VIRQ_TIMER (", fired, ")");

    // A past deadline with VCPU_SSHOTTMR_future: -ETIME before 4.17.3, an
    // event at once from 4.17.3 / 4.18 on (the flag is ignored).
    before = timer_events;
    const auto r8p = hc::set_singleshot_timer(vcpu0, now_ns() - 1'000'000, abi::sshottmr_future);
    const uint64_t fired_past = wait_events(before, 100'000'000);
    const bool ignores_flag = at_least(c, 4, 18) ||
                              (c.version.major == 4 && c.version.minor == 17 && patch_level() >= 3);
    if (ignores_flag)
        tap.result(r8p.has_value() && fired_past == 1, area,
                   "set_singleshot_timer(0, past, VCPU_SSHOTTMR_future): fires at once, flag ignored (",
                   name(error_of(r8p)), ", ", fired_past, " event)");
    else
        tap.result(error_of(r8p) == Errc::etime, area,
                   "set_singleshot_timer(0, past, VCPU_SSHOTTMR_future) = ETIME before Xen 4.17.3 (got ",
                   name(error_of(r8p)), ")");

    if (n > 1) {
        const abi::vcpu_set_singleshot_timer other{now_ns() + 1'000'000, 0, 0};
        const auto lib8 = ops.set_singleshot_timer(VcpuId{1}, other.timeout_abs_ns);
        const Errc xen8 = raw(abi::vcpuop::set_singleshot_timer, VcpuId{1}, &other);
        tap.result(error_of(lib8) == Errc::not_current_vcpu && xen8 == Errc::einval, area,
                   "set_singleshot_timer(1) from vCPU 0: library refuses (", name(error_of(lib8)), "), Xen agrees (",
                   name(xen8), ")");
    } else {
        tap.skip(area, "needs dom0_max_vcpus >= 2", "set_singleshot_timer aimed at another vCPU");
    }

    // 9 stop_singleshot_timer ------------------------------------------------
    (void)ops.set_singleshot_timer(vcpu0, now_ns() + 20'000'000);
    const auto r9 = ops.stop_singleshot_timer(vcpu0);
    const uint64_t quiet9 = events_during(50'000'000);
    const Errc xen9 = n > 1 ? raw(abi::vcpuop::stop_singleshot_timer, VcpuId{1}, nullptr) : Errc::einval;
    tap.result(r9.has_value() && quiet9 == 0 && xen9 == Errc::einval, area,
               "stop_singleshot_timer(0): the +20 ms timer never fires (", quiet9, " events); for vCPU 1 Xen says ",
               name(xen9));
}

// 10 register_vcpu_info, on the last vCPU (down, so any Xen accepts it),
// into the SMP layer's storage for it: the op works once per vCPU, and
// the smp test later starts that vCPU on this very vcpu_info.
void check_vcpu_info(const Run& r) noexcept
{
    Tap& tap = r.tap;
    const Context& c = r.c;
    const VcpuId last = r.last;
    xen::Area<abi::vcpu_info>& last_vcpu_info = domain().find(last)->vcpu_info;
    const auto r10 = hc::register_vcpu_info(last, last_vcpu_info, xen_frame_of(last_vcpu_info.get()));
    if (r10.has_value())
        (void)domain().adopt_vcpu_info(last);
    tap.result(r10.has_value(), area, "register_vcpu_info(", last.value, "): placed in kernel memory (",
               name(error_of(r10)), ")");
    const auto r10b = hc::register_vcpu_info(last, last_vcpu_info, xen_frame_of(last_vcpu_info.get()));
    const Errc want10 = at_least(c, 4, 18) ? Errc::ebusy : Errc::einval;
    tap.result(error_of(r10b) == want10, area, "register_vcpu_info(", last.value, ") again = ", name(want10),
               " on this Xen (got ", name(error_of(r10b)), ")");
}

// 11 send_nmi. PV: to the last vCPU, which is down; the NMI waits for
// it. PVH: to ourselves, taken by a hook. An NMI left pending for a down
// PVH vCPU is injected at its first instruction after VCPUOP_initialise,
// before it can load an IDT (Xen starts it with IDTR 0:0): it would
// triple-fault the vCPU the smp test starts later (docs/smp.md).
void check_send_nmi(const Run& r) noexcept
{
    Tap& tap = r.tap;
    const uint32_t n = r.n;
    const VcpuId last = r.last;
    const VcpuId absent = r.absent;
    const VcpuId nmi_target = guest_type() == GuestType::pvh ? vcpu0 : last;
    if (guest_type() == GuestType::pvh)
        set_trap_hook(2, on_nmi);
    const auto r11 = hc::send_nmi(nmi_target);
    for (unsigned i = 0; i < 1000 && guest_type() == GuestType::pvh && nmis == 0; ++i)
        (void)hc::xen_version(); // delivered on a way back into the guest
    set_trap_hook(2, nullptr);
    const auto r11n = hc::send_nmi(absent);
    const bool taken = guest_type() != GuestType::pvh || nmis == 1;
    tap.result(r11.has_value() && taken && error_of(r11n) == Errc::enoent, area, "send_nmi(", nmi_target.value, ") = 0",
               guest_type() == GuestType::pvh ? " and taken" : "", ", send_nmi(", n, ") = ", name(error_of(r11n)));
}

// 12 get_physid: hardware domain with dom0_vcpus_pin.
void check_get_physid(const Run& r) noexcept
{
    Tap& tap = r.tap;
    const Context& c = r.c;
    const auto r12 = hc::get_physid(vcpu0);
    if (!hc::has_feature(c.features, abi::xenfeat::dom0) && error_of(r12) == Errc::einval)
        // Xen answers only a pinned hardware domain's vCPUs; a domU gets EINVAL.
        tap.skip(area, "a domU: get_physid answers only dom0 with dom0_vcpus_pin", "get_physid(0) = EINVAL");
    else
        tap.result(r12.has_value(), area, "get_physid(0): APIC id ", r12 ? r12->apic_id : 0, ", ACPI id ",
                   r12 ? r12->acpi_id : 0, " (", name(error_of(r12)), "; needs dom0_vcpus_pin)");
}

// 13 register_vcpu_time_memory_area, 15 register_vcpu_time_phys_area
void check_time_areas(const Run& r) noexcept
{
    Tap& tap = r.tap;
    const Context& c = r.c;
    const auto r13 = hc::register_vcpu_time_memory_area(vcpu0, time_va);
    (void)hc::sched_yield();
    const bool ok13 = r13.has_value() && time_va.value.system_time > 0 && (time_va.value.version & 1) == 0;
    tap.result(ok13, area, "register_vcpu_time_memory_area(0): a second pvclock record (", name(error_of(r13)), ")");
    (void)hc::unregister_vcpu_time_memory_area(vcpu0);

    // 15 register_vcpu_time_phys_area (Xen 4.18+) ----------------------------
    const auto r15 = hc::register_vcpu_time_phys_area(vcpu0, time_phys, xen_address_of(time_phys.get()));
    if (at_least(c, 4, 18)) {
        (void)hc::sched_yield();
        const bool ok15 = r15.has_value() && time_phys.value.system_time > 0;
        tap.result(ok15, area, "register_vcpu_time_phys_area(0): registered and updated (", name(error_of(r15)), ")");
        (void)hc::unregister_vcpu_time_phys_area(vcpu0);
    } else {
        tap.result(error_of(r15) == Errc::enosys, area,
                   "register_vcpu_time_phys_area(0) = ENOSYS before Xen 4.18 (got ", name(error_of(r15)), ")");
    }
}

// 0 initialise, 1 up, 2 down -------------------------------------------------
void check_up_and_down(const Run& r) noexcept
{
    Tap& tap = r.tap;
    const uint32_t n = r.n;
    const VcpuId absent = r.absent;
    xen::Domain& ops = r.ops;
    const auto r0 = guest_type() == GuestType::pv ? hc::vcpu_initialise(vcpu0, pv_context)
                                                  : hc::vcpu_initialise(vcpu0, hvm_context);
    tap.result(error_of(r0) == Errc::eexist, area, "initialise(0) = EEXIST: already initialised (got ",
               name(error_of(r0)), ")");
    if (n > 1) {
        const auto r1 = hc::vcpu_up(VcpuId{1});
        tap.result(error_of(r1) == Errc::einval, area, "up(1) = EINVAL: never initialised (got ", name(error_of(r1)),
                   ")");
    } else {
        tap.skip(area, "needs dom0_max_vcpus >= 2", "up of an uninitialised vCPU");
    }
    const auto r1n = hc::vcpu_up(absent);
    const auto r2n = hc::vcpu_down(absent);
    const auto lib2 = ops.down(absent);
    tap.result(
        error_of(r1n) == Errc::enoent && error_of(r2n) == Errc::enoent && error_of(lib2) == Errc::vcpu_out_of_range,
        area, "up(", n, ") and down(", n, ") = ENOENT from Xen; the Domain refuses first (", name(error_of(lib2)), ")");
    const auto lib2self = ops.down(vcpu0);
    tap.result(error_of(lib2self) == Errc::last_vcpu, area,
               "down(0) refused as last_vcpu: Xen would power the domain off (got ", name(error_of(lib2self)), ")");
}

} // namespace

void run_vcpuop(Tap& tap, const Context& c) noexcept
{
    xen::Domain& ops = domain();
    const auto count = ops.discover();
    const uint32_t n = count.value_or(0);
    tap.metric("vcpuop", "vcpus", n);
    const Run r{tap, c, ops, n, VcpuId{n > 0 ? n - 1 : 0}, VcpuId{n}};

    check_is_up(r);
    check_runstate(r);

    // Timer ops need VIRQ_TIMER on vCPU 0.
    const auto timer_port = events::channels().bind_virq(abi::virq::timer, vcpu0, on_timer, nullptr);
    const bool bound = timer_port.has_value();
    if (!bound)
        tap.comment("vcpuop: could not bind VIRQ_TIMER; timer checks will fail");
    check_periodic_timer(r);
    check_singleshot_timer(r);
    if (timer_port.has_value()) {
        (void)events::channels().close(*timer_port, vcpu0);
    }

    check_vcpu_info(r);
    check_send_nmi(r);
    check_get_physid(r);
    check_time_areas(r);
    check_up_and_down(r);
}

namespace guest_tests {

// Needs a second vCPU, down: register_vcpu_info moves the last vCPU's
// vcpu_info, which must not be the running boot vCPU's (with one vCPU the
// kernel then lost its events and hung). The get_physid check skips itself
// outside dom0.
extern const Test vcpuop_test{
    .name = "vcpuop",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 2,
    .run = run_vcpuop,
};

} // namespace guest_tests

} // namespace mk
