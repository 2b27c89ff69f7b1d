// A tiny TAP (version 13) emitter: what the boot harness and meson's TAP
// reader parse from the serial log. The plan comes last, counting the
// results that were reported (TAP allows the plan at either end):
//     TAP version 13
//     ok 1 - selftest: the kernel reached its tests
//     not ok 2 - broken: fails on purpose
//     ok 3 - vcpuop: runstate_phys_area # SKIP not in Xen 4.17
//     # metric events.upcall_ns=1234ns vcpu=0
//     # metric timers.lateness_bucket=17 vcpu=1 le_us=50
//     ok 4 - hotplug: not run # SKIP needs 2 vCPUs, the domain has 1
//     1..4
#pragma once

#include <cstdint>

#include "console.hpp"

namespace mk {

/// One extra `key=token` tag of a metric line, after the vcpu tag: key
/// [a-z_]+, token [A-Za-z0-9_.+-]+ (a number, or a word such as `inf`).
struct MetricTag {
    const char* key;
    const char* token; ///< printed when not null; else `number`
    uint64_t number;

    constexpr MetricTag(const char* k, uint64_t n) noexcept : key(k), token(nullptr), number(n) {}
    constexpr MetricTag(const char* k, const char* t) noexcept : key(k), token(t), number(0) {}
};

class Tap {
public:
    /// The header line; call first.
    void version() noexcept;
    /// The plan: `1..count`. Call once, after the last result, with
    /// reported(): a stream cut short then has no plan at all.
    void plan(unsigned count) noexcept;

    /// `ok N - area: text...` or `not ok N - area: text...`.
    template <class... Text>
    void result(bool passed, const char* area, const Text&... text) noexcept
    {
        begin(passed ? "ok " : "not ok ", area);
        console::print(text...);
        end(passed ? Outcome::passed : Outcome::failed);
    }

    /// `ok N - area: text... # SKIP reason`: not run here, not a failure.
    template <class... Text>
    void skip(const char* area, const char* reason, const Text&... text) noexcept
    {
        begin("ok ", area);
        console::print(text...);
        console::print(" # SKIP ", reason);
        end(Outcome::skipped);
    }

    /// `ok N - area: not run # SKIP why...`: a whole test that does not fit here.
    template <class... Why>
    void not_run(const char* area, const Why&... why) noexcept
    {
        begin("ok ", area);
        console::print("not run # SKIP ", why...);
        end(Outcome::skipped);
    }

    /// `# text...`: a comment (TAP diagnostics) for people reading the log.
    template <class... Text>
    void comment(const Text&... text) noexcept
    {
        console::print("# ", text..., "\n");
    }

    /// `# metric area.name=value[unit] [vcpu=id]`: one figure for scripts
    /// and reports (TESTING.md). `unit` may be "" (a count); vcpu < 0: none.
    void metric(const char* area, const char* name, uint64_t value, const char* unit = "", int64_t vcpu = -1) noexcept;

    /// `# metric area.name=value[unit] [vcpu=id] key=token...`: the same
    /// with extra tags, e.g. `MetricTag{"cycle", 3}` (the grammar:
    /// docs/boot-harness.md; the lines: tests/guest/README.md).
    template <class... More>
    void metric(const char* area, const char* name, uint64_t value, const char* unit, int64_t vcpu,
                const MetricTag& tag, const More&... more) noexcept
    {
        metric_head(area, name, value, unit, vcpu);
        metric_tag(tag);
        (metric_tag(more), ...);
        console::print("\n");
    }

    /// A new stream: `TAP version 13` again, numbering from 1. For a guest
    /// restored in another machine run, whose harness never saw the first.
    void restart() noexcept
    {
        version();
        number_ = passed_ = failed_ = skipped_ = 0;
    }

    unsigned reported() const noexcept { return number_; }
    unsigned passed() const noexcept { return passed_; }
    unsigned failed() const noexcept { return failed_; }
    unsigned skipped() const noexcept { return skipped_; }

private:
    enum class Outcome : uint8_t { passed, failed, skipped };
    void begin(const char* status, const char* area) noexcept;
    void end(Outcome outcome) noexcept;
    void metric_head(const char* area, const char* name, uint64_t value, const char* unit, int64_t vcpu) noexcept;
    void metric_tag(const MetricTag& tag) noexcept;

    unsigned number_ = 0;
    unsigned passed_ = 0;
    unsigned failed_ = 0;
    unsigned skipped_ = 0;
};

} // namespace mk
