// Waiting for another test thread without assuming it is running.
//
// The host tests run on shared machines where a thread may stay queued for
// milliseconds behind other processes, or behind the very thread waiting
// for it. A concurrency test therefore never hopes that an interleaving
// happens within some number of iterations: when a thread needs another to
// have moved on (a writer to have written again, a reader to have read), it
// waits for exactly that with wait_until. The wait has no time limit of its
// own: what it waits for is the test's own doing and always comes; a broken
// test ends at meson's timeout, which names the test.
#pragma once

#include <cstdint>
#include <thread>

namespace xen::test {

/// Spin a little (the other thread may be running on another CPU right
/// now), then give the CPU away until `done()` holds: on a busy host the
/// thread waited for may be queued behind the waiter.
template <class Done>
void wait_until(Done&& done)
{
    for (uint32_t spins = 0; !done(); ++spins) {
        if (spins < 64)
            asm volatile("pause" ::: "memory");
        else
            std::this_thread::yield();
    }
}

} // namespace xen::test
