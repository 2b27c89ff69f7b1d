// One out-of-line SystemClock::read for the library's own callers.
#include "time/clock_read.hpp"

namespace xen::detail {

Result<ClockReading> read_clock(SystemClock& clock, ClockCpu& cpu) noexcept { return clock.read(cpu); }

} // namespace xen::detail
