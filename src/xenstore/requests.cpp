// The toolstack's requests through xenstore (libxl): `xl vcpu-set` writes
// cpu/<N>/availability = online | offline for each vCPU N of the domain,
// `xl shutdown` / `xl reboot` write control/shutdown = poweroff | reboot
// (and suspend for save, crash for `xl trigger`-style requests).
#include <xen/xenstore.hpp>

namespace xen {

namespace {

bool same(const char* a, const char* b) noexcept
{
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

// Skip "/local/domain/<digits>/" if the path is absolute.
const char* relative(const char* path) noexcept
{
    const char prefix[] = "/local/domain/";
    unsigned i = 0;
    for (; prefix[i] != '\0'; ++i)
        if (path[i] != prefix[i])
            return path;
    const char* p = path + i;
    if (*p < '0' || *p > '9')
        return path;
    while (*p >= '0' && *p <= '9')
        ++p;
    return *p == '/' ? p + 1 : path;
}

} // namespace

Result<CpuAvailability> parse_cpu_availability(const char* path, const char* value, uint32_t vcpu_count) noexcept
{
    const char* p = relative(path);
    if (p[0] != 'c' || p[1] != 'p' || p[2] != 'u' || p[3] != '/')
        return err(Errc::invalid_argument);
    p += 4;
    // A plain decimal number: no sign, no leading zero (libxl writes "%d").
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return err(Errc::invalid_argument);
    uint64_t n = 0;
    for (; *p >= '0' && *p <= '9'; ++p) {
        n = n * 10 + static_cast<uint64_t>(*p - '0');
        if (n > 0xffffffffu)
            return err(Errc::vcpu_out_of_range);
    }
    if (!same(p, "/availability"))
        return err(Errc::invalid_argument);
    bool online;
    if (same(value, "online"))
        online = true;
    else if (same(value, "offline"))
        online = false;
    else
        return err(Errc::invalid_argument);
    if (n >= vcpu_count)
        return err(Errc::vcpu_out_of_range);
    return CpuAvailability{static_cast<uint32_t>(n), online};
}

Result<ShutdownRequest> parse_shutdown_request(const char* value) noexcept
{
    if (value[0] == '\0')
        return ShutdownRequest::none;
    if (same(value, "poweroff") || same(value, "halt"))
        return ShutdownRequest::poweroff;
    if (same(value, "reboot"))
        return ShutdownRequest::reboot;
    if (same(value, "suspend"))
        return ShutdownRequest::suspend;
    if (same(value, "crash"))
        return ShutdownRequest::crash;
    return err(Errc::invalid_argument);
}

} // namespace xen
