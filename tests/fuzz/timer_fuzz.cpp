// libFuzzer target: the timer driver against its model (timer_model.hpp),
// with the input bytes as the operation language. The first byte picks the
// simulated Xen and the harness's shape; every 4 bytes after it are one
// operation. Any broken invariant aborts with the harness's explanation.
//
//   timer_fuzz -runs=100000 [corpus_dir]
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "timer_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t shape = data[0];
    timer_model::Options o;
    const xen::sim::Version versions[] = {xen::sim::xen_4_17_2, xen::sim::xen_4_17_7, xen::sim::xen_4_20};
    o.version = versions[(shape & 3) % 3];
    o.timer_slop_ns = (shape & 4) != 0 ? 50'000 : 0;
    o.vcpus = 1 + ((shape >> 3) & 3);
    o.timers = (shape & 0x20) != 0 ? 16 : 3;
    o.pvclock = (shape & 0x40) != 0;
    o.max_expiries_per_event = (shape & 0x80) != 0 ? 2 : 1024;

    timer_model::Harness h(o);
    // Bounded work per input: libFuzzer's -max_len bounds it too.
    constexpr size_t max_ops = 2048;
    size_t ops = 0;
    for (size_t i = 1; i + timer_model::op_bytes <= size && ops < max_ops && h.ok(); i += timer_model::op_bytes, ++ops)
        h.apply(timer_model::decode(data + i));
    h.drain();
    if (!h.ok()) {
        for (const auto& f : h.failures())
            std::fprintf(stderr, "timer model: %s\n", f.c_str());
        std::abort();
    }
    return 0;
}
