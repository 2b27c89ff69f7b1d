// The library's own clock read: SystemClock::read with the hardware TSC,
// compiled once. SystemClock::read is always inlined, which a kernel's hot
// path wants; the library's callers (Domain::now, the C API's clock read)
// share this one out-of-line copy instead of one inlined copy each
// (docs/building.md, "Code size").
#pragma once

#include <xen/time/clock.hpp>

namespace xen::detail {

/// clock.read(cpu), out of line. Same result and errors.
Result<ClockReading> read_clock(SystemClock& clock, ClockCpu& cpu) noexcept;

} // namespace xen::detail
