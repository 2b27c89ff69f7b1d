// Parsing the toolstack's requests: cpu/N/availability and control/shutdown.
#include <xen/xenstore.hpp>

#include <catch2/catch.hpp>

using xen::Errc;
using xen::ShutdownRequest;

TEST_CASE("cpu availability: relative and absolute paths name vCPU N and the wanted state", "[xenstore]")
{
    auto a = xen::parse_cpu_availability("cpu/3/availability", "offline", 4);
    REQUIRE(a);
    CHECK(a->vcpu == 3);
    CHECK_FALSE(a->online);
    auto b = xen::parse_cpu_availability("/local/domain/12/cpu/0/availability", "online", 1);
    REQUIRE(b);
    CHECK(b->vcpu == 0);
    CHECK(b->online);
}

TEST_CASE("cpu availability: N at or beyond the domain's vCPUs is vcpu_out_of_range", "[xenstore]")
{
    CHECK(xen::parse_cpu_availability("cpu/4/availability", "online", 4).error() == Errc::vcpu_out_of_range);
    CHECK(xen::parse_cpu_availability("cpu/4294967296/availability", "online", 4).error() == Errc::vcpu_out_of_range);
    CHECK(xen::parse_cpu_availability("cpu/99999999999999999999/availability", "online", 4).error() ==
          Errc::vcpu_out_of_range);
}

TEST_CASE("cpu availability: other paths and values are invalid_argument", "[xenstore]")
{
    for (const char* path : {"cpu", "cpu/", "cpu/x/availability", "cpu/-1/availability", "cpu/01/availability",
                             "cpu/1/availabilityx", "cpu/1", "memory/target", "/local/domain/x/cpu/1/availability"})
        CHECK(xen::parse_cpu_availability(path, "online", 8).error() == Errc::invalid_argument);
    CHECK(xen::parse_cpu_availability("cpu/1/availability", "Online", 8).error() == Errc::invalid_argument);
    CHECK(xen::parse_cpu_availability("cpu/1/availability", "", 8).error() == Errc::invalid_argument);
}

TEST_CASE("control/shutdown: each value the toolstack writes, and our own empty acknowledgement", "[xenstore]")
{
    CHECK(*xen::parse_shutdown_request("") == ShutdownRequest::none);
    CHECK(*xen::parse_shutdown_request("poweroff") == ShutdownRequest::poweroff);
    CHECK(*xen::parse_shutdown_request("halt") == ShutdownRequest::poweroff);
    CHECK(*xen::parse_shutdown_request("reboot") == ShutdownRequest::reboot);
    CHECK(*xen::parse_shutdown_request("suspend") == ShutdownRequest::suspend);
    CHECK(*xen::parse_shutdown_request("crash") == ShutdownRequest::crash);
    CHECK(xen::parse_shutdown_request("reboot now").error() == Errc::invalid_argument);
}
