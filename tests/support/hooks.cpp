// The link-time kernel hook, as the host test binaries provide it: panic
// by aborting (a test that reaches a panic fails loudly).
#include <cstdio>
#include <cstdlib>
#include <xen/support/panic.hpp>

extern "C" [[noreturn]] void xenvcpu_panic(const char* message) noexcept
{
    std::fprintf(stderr, "panic: %s\n", message);
    std::abort();
}
