// The kernel hooks, as the host test binaries provide them: log to stderr,
// panic by aborting (a test that reaches a panic fails loudly).
#include <cstdio>
#include <cstdlib>
#include <xen/support/panic.hpp>

extern "C" void xenvcpu_log(const char* text, unsigned long len) noexcept
{
    std::fwrite(text, 1, len, stderr);
}

extern "C" [[noreturn]] void xenvcpu_panic(const char* message) noexcept
{
    std::fprintf(stderr, "panic: %s\n", message);
    std::abort();
}
