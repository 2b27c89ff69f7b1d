// What an in-guest test is: a function that reports TAP results, and its
// declaration - its name, whether it runs by default, and the environment
// it needs. Each test defines its own declaration in its own file;
// tests/guest/all_tests.cpp lists them in the order they run. README.md
// in tests/guest/ says how to add one.
#pragma once

#include <cstdint>

#include "framework/guest_tests.hpp"
#include "framework/tap.hpp"

namespace mk::guest_tests {

/// The vCPU the vcpuop test sent an NMI while it was down (PV), for the
/// smp test to check it was taken once it ran; ~0u: none.
extern uint32_t nmi_sent_to_down_vcpu;

/// Guest types a test runs in.
enum class Guests : uint8_t { pv, pvh, both };

/// Domains a test runs in: the hardware domain (dom0) or a domain the
/// toolstack built (a domU, scripts/boot --domu).
enum class Domains : uint8_t { dom0, domu, both };

/// A test's declaration. Where the environment does not fit (another guest
/// type or domain, fewer vCPUs), the runner reports the test as one
/// skipped result instead of running it. How many results a test reports is
/// up to the test: the plan counts what was reported.
struct Test {
    const char* name;   ///< the word in tests=..., also the area of its results
    bool by_default;    ///< runs without tests=; false for probes and toolstack-driven tests
    Guests guests;      ///< PV, PVH or both
    Domains domains;    ///< dom0, domU or both
    uint32_t min_vcpus; ///< vCPUs the domain must have (Xen's count, not those online)
    void (*run)(Tap& tap, const Context& context) noexcept;
};

} // namespace mk::guest_tests
