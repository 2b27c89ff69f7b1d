/* kernel.c: the smallest "kernel" that takes xenvcpu, shared by the meson,
 * CMake and make examples beside it (examples/consumers/README.md).
 *
 * Freestanding C: it gives the library its hooks, sets up the domain over
 * the shared_info page its boot code hands it, and makes vCPU 0 tickless
 * with one timer. The boot code, the upcall entry (which would call
 * xenvcpu_events_dispatch) and the idle loop a real kernel has are left
 * out (docs/porting.md): this file only has to compile and link.
 *
 * At link time it provides xenvcpu_panic; memcpy, memset, memmove and
 * memcmp are the kernel's string functions, elsewhere. The consumers test
 * checks that the link asks for nothing else.
 */
#include <xenvcpu.h>

enum { MAX_VCPUS = 8, MAX_PORTS = 64 };

static xenvcpu_domain domain;
static xenvcpu_vcpu_slot slots[MAX_VCPUS];
static xenvcpu_event_slot ports[MAX_PORTS];
static xenvcpu_timer_driver timers;
static xenvcpu_timer tick;
static uint64_t ticks;

/* The calling vCPU. One vCPU here; an SMP kernel reads its per-CPU data. */
static uint32_t current_vcpu(void *ctx)
{
    (void)ctx;
    return 0;
}

/* The library's diagnostics; a real kernel writes them to its console. */
static size_t log_bytes;
static void log_line(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    (void)text;
    log_bytes += len;
}

/* A broken invariant in the library: must not return. A real kernel
 * prints the message and shuts the domain down. */
const char *panic_message;
_Noreturn void xenvcpu_panic(const char *message)
{
    panic_message = message;
    for (;;)
        __asm__ volatile("pause");
}

static void on_tick(xenvcpu_timer *t, uint32_t self, uint64_t now_ns, void *ctx)
{
    (void)ctx;
    ++ticks;
    xenvcpu_timer_driver_arm(&timers, self, t, now_ns + 10000000, 1000000); /* every 10 ms */
}

/* Called by the boot code on vCPU 0 with the mapped shared_info page and
 * XENFEAT submap 0. Returns XENVCPU_OK or the first error. */
xenvcpu_errc kernel_main(void *shared_info, uint32_t features)
{
    xenvcpu_domain_config cfg = {XENVCPU_GUEST_PV, 0, 0, {0}};
    uint32_t vcpus = 0;
    xenvcpu_errc e;

    cfg.shared_info = shared_info;
    cfg.features = features;
    cfg.hooks.current = current_vcpu;
    cfg.hooks.log = log_line;
    e = xenvcpu_domain_init(&domain, &cfg, slots, MAX_VCPUS, ports, MAX_PORTS);
    if (e == XENVCPU_OK)
        e = xenvcpu_domain_discover(&domain, XENVCPU_MAX_PROBED_VCPUS, &vcpus);
    if (e == XENVCPU_OK) {
        xenvcpu_events_mask_all(&domain);
        e = xenvcpu_timer_driver_init(&timers, &domain, 0);
    }
    if (e == XENVCPU_OK)
        e = xenvcpu_timer_driver_bind(&timers, 0, 0);
    if (e == XENVCPU_OK)
        e = xenvcpu_timer_driver_start(&timers, 0);
    if (e == XENVCPU_OK)
        e = xenvcpu_timer_init(&tick, on_tick, 0);
    if (e == XENVCPU_OK)
        e = xenvcpu_timer_driver_arm_after(&timers, 0, &tick, 10000000, 1000000);
    if (e != XENVCPU_OK) {
        const char *name = xenvcpu_errc_name(e);
        size_t len = 0;
        while (name[len] != '\0')
            ++len;
        log_line(0, name, len);
    }
    return e;
}
