// events: an IPI event channel bound to ourselves (vCPU 0) is delivered by
// an upcall: PV through the event callback, PVH through the callback vector.
#include <xen/events.hpp>
#include <xen/hypercall/xen_version.hpp>
#include <xen/time/pvclock.hpp>

#include "events.hpp"
#include "framework/test.hpp"

namespace mk {

namespace {

volatile uint64_t ipi_hits = 0;
volatile uint64_t ipi_seen_ns = 0;

void on_ipi(xen::Port, xen::VcpuId, void*) noexcept
{
    ipi_seen_ns = now_ns();
    ipi_hits = ipi_hits + 1;
}

} // namespace

void run_events(Tap& tap, const Context&) noexcept
{
    constexpr xen::VcpuId self{0};
    xen::EventChannels& channels = events::channels();
    const uint64_t upcalls_before = events::upcall_count();

    const auto port = channels.bind_ipi(self, on_ipi, nullptr);
    if (!port) {
        tap.result(false, "events", "bind_ipi failed: errno ", static_cast<int>(port.error()));
        return;
    }
    // Two rounds: the first runs every code path for the first time (under
    // QEMU's TCG that means translating it), the second shows the latency.
    constexpr unsigned rounds = 2;
    xen::Result<void> sent = xen::ok();
    uint64_t sent_ns = 0;
    for (unsigned round = 1; round <= rounds && sent; ++round) {
        sent_ns = now_ns();
        sent = channels.send(*port);
        // Xen delivers the upcall on its way back to us, normally right
        // after the send. Give it a bounded number of further exits (any
        // hypercall) in case delivery waits for the next one.
        for (unsigned i = 0; i < 1000 && ipi_hits < round; ++i)
            (void)xen::hc::xen_version();
    }
    (void)channels.close(*port, self);

    tap.metric("events", "upcalls", events::upcall_count() - upcalls_before);
    // Send to handler, one pvclock read included, second round. Emulated
    // time on a possibly busy host: a figure to watch, not a test.
    if (ipi_hits == rounds && ipi_seen_ns > sent_ns)
        tap.metric("events", "ipi_to_upcall_ns", ipi_seen_ns - sent_ns);
    if (!sent)
        tap.result(false, "events", "EVTCHNOP_send failed: errno ", static_cast<int>(sent.error()));
    else
        tap.result(ipi_hits == rounds, "events", "IPI to self delivered by an upcall, ", ipi_hits, " of ", rounds,
                   " sends");
}

namespace guest_tests {

// Anywhere: the boot vCPU alone.
extern const Test events_test{
    .name = "events",
    .by_default = true,
    .guests = Guests::both,
    .domains = Domains::both,
    .min_vcpus = 1,
    .run = run_events,
};

} // namespace guest_tests

} // namespace mk
