// events: an IPI event channel bound to ourselves (vCPU 0) is delivered by
// an upcall: PV through the event callback, PVH through the callback vector.
#include <xen/events.hpp>
#include <xen/hypercall/xen_version.hpp>

#include "events.hpp"
#include "scenarios.hpp"

namespace mk {

namespace {

volatile uint64_t ipi_hits = 0;

void on_ipi(xen::Port, xen::VcpuId, void*) noexcept { ipi_hits = ipi_hits + 1; }

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
    const auto sent = channels.send(*port);

    // Xen delivers the upcall on its way back to us, normally right after
    // the send. Give it a bounded number of further exits (any hypercall)
    // in case delivery waits for the next one.
    for (unsigned i = 0; i < 1000 && ipi_hits == 0; ++i)
        (void)xen::hc::xen_version();
    (void)channels.close(*port, self);

    tap.metric("events", "upcalls", events::upcall_count() - upcalls_before);
    if (!sent)
        tap.result(false, "events", "EVTCHNOP_send failed: errno ", static_cast<int>(sent.error()));
    else
        tap.result(ipi_hits == 1, "events", "IPI to self delivered by an upcall (", ipi_hits, " time(s))");
}

} // namespace mk
