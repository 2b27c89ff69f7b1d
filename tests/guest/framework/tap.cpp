#include "tap.hpp"

namespace mk {

void Tap::version() noexcept { console::print("TAP version 13\n"); }

void Tap::plan(unsigned count) noexcept { console::print("1..", count, "\n"); }

void Tap::begin(const char* status, const char* area) noexcept { console::print(status, ++number_, " - ", area, ": "); }

void Tap::end(Outcome outcome) noexcept
{
    console::print("\n");
    switch (outcome) {
    case Outcome::passed: ++passed_; break;
    case Outcome::failed: ++failed_; break;
    case Outcome::skipped: ++skipped_; break;
    }
}

void Tap::metric_head(const char* area, const char* name, uint64_t value, const char* unit, int64_t vcpu) noexcept
{
    console::print("# metric ", area, ".", name, "=", value, unit);
    if (vcpu >= 0)
        console::print(" vcpu=", vcpu);
}

void Tap::metric_tag(const MetricTag& tag) noexcept
{
    if (tag.token != nullptr)
        console::print(" ", tag.key, "=", tag.token);
    else
        console::print(" ", tag.key, "=", tag.number);
}

void Tap::metric(const char* area, const char* name, uint64_t value, const char* unit, int64_t vcpu) noexcept
{
    metric_head(area, name, value, unit, vcpu);
    console::print("\n");
}

} // namespace mk
