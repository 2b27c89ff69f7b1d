/* Mini-OS's time, done by xenvcpu through its C API.
 *
 * Built into the Mini-OS kernel when CONFIG_XENVCPU=y (xenvcpu.patch adds
 * it to the kernel's objects and compiles out arch/x86/time.c's own
 * versions of the functions below). What it provides to Mini-OS:
 *
 *  - monotonic_clock (and so NOW()): xenvcpu_domain_now, Xen system time
 *    that never goes backwards;
 *  - gettimeofday: xenvcpu_wallclock_now;
 *  - block_domain: one xenvcpu timer at the scheduler's next wake-up time,
 *    then xenvcpu_timer_driver_idle (PV SCHEDOP_block, PVH sti;hlt). With
 *    no wake-up time (Time_Max, see sched.c) the timer is cancelled and
 *    nothing wakes the vCPU but a real event;
 *  - init_time / fini_time: bind VIRQ_TIMER with Mini-OS's own event code,
 *    hand the port to the driver (xenvcpu_timer_driver_attach) and each
 *    delivery to xenvcpu_timer_driver_handle_event, and start or stop the
 *    driver (start stops Xen's 100 Hz PV ticker). The driver, the wake-up
 *    timer and steal are set up once: fini_time/init_time also bracket a
 *    suspend, and the timer may be armed across it;
 *  - xenvcpu_glue_suspend: Mini-OS's suspend hypercall (xenvcpu.patch
 *    routes arch_suspend's through it). Mini-OS makes the call itself,
 *    with shared_info unmapped, so the library cannot; when it returns 0
 *    (a new domain: restore, migration) init_time tells the library with
 *    xenvcpu_domain_resumed, which re-bases the clock to go on from the
 *    reading fini_time took and registers the runstate area again, before
 *    the driver restarts and programs the pending timer in Xen's new time;
 *  - xenvcpu_glue_report: steal time (runstate through the library) and the
 *    wake-up timer's lateness, for the measurement.
 *
 * Mini-OS runs on vCPU 0 only.
 */
#include <mini-os/os.h>
#include <mini-os/hypervisor.h>
#include <mini-os/events.h>
#include <mini-os/time.h>
#include <mini-os/lib.h>
#include <xen/version.h>

#include <xenvcpu.h>

#define GLUE_PORTS 8 /* the library dispatches nothing for us; it needs a table */

static xenvcpu_domain xv_domain;
static xenvcpu_vcpu_slot xv_slot[1];
static xenvcpu_event_slot xv_ports[GLUE_PORTS];
static xenvcpu_timer_driver xv_timers;
static xenvcpu_timer xv_wake;
static evtchn_port_t xv_virq_port = -1;
static int xv_domain_ready, xv_timers_ready;
static int xv_set_up;      /* driver, wake-up timer, steal: once */
static uint64_t xv_before; /* the clock as fini_time left it */
static int xv_new_domain;  /* the suspend hypercall returned 0 */
/* Timer VIRQs since init_time, and those that came with no timer armed. */
static uint64_t xv_virqs, xv_virqs_no_timer;
static xenvcpu_steal_sample xv_steal_base;
static int xv_steal_ok;

/* The wake-up timer's record: how late its callbacks ran (ns, by the
 * driver's clock) and how many ran before their deadline (must stay 0). */
static uint64_t xv_fired, xv_late_sum, xv_late_max, xv_early;

static void xv_check(xenvcpu_errc e, const char *what)
{
    if (e != XENVCPU_OK) {
        printk("xenvcpu: %s failed: %s\n", what, xenvcpu_errc_name(e));
        do_exit();
    }
}

static uint32_t xv_current(void *ctx)
{
    (void)ctx;
    return 0;
}

static void xv_log(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    printk("xenvcpu: %.*s\n", (int)len, text);
}

#ifndef CONFIG_PARAVIRT
/* PVH: the GFN of kernel memory (the library maps shared_info there again
 * after a restore). */
static uint64_t xv_frame_of(void *ctx, const void *p)
{
    (void)ctx;
    return virt_to_pfn(p);
}
#endif

/* The domain, on first use: shared_info is mapped by arch_init, before
 * start_kernel, and nothing asks for the time earlier. */
static xenvcpu_domain *xv(void)
{
    xenvcpu_domain_config cfg;
    xen_feature_info_t fi;

    if (xv_domain_ready)
        return &xv_domain;
    memset(&cfg, 0, sizeof(cfg));
#ifdef CONFIG_PARAVIRT
    cfg.kind = XENVCPU_GUEST_PV;
#else
    cfg.kind = XENVCPU_GUEST_PVH;
#endif
    cfg.shared_info = HYPERVISOR_shared_info;
    fi.submap_idx = 0;
    cfg.features = HYPERVISOR_xen_version(XENVER_get_features, &fi) < 0 ? 0 : fi.submap;
    cfg.hooks.current = xv_current;
#ifndef CONFIG_PARAVIRT
    cfg.hooks.frame_of = xv_frame_of; /* the shared_info GFN, again after a restore */
#endif
    cfg.hooks.log = xv_log;
    xv_check(xenvcpu_domain_init(&xv_domain, &cfg, xv_slot, 1, xv_ports, GLUE_PORTS), "domain_init");
    xenvcpu_domain_set_vcpu_count(&xv_domain, 1);
    xv_domain_ready = 1;
    return &xv_domain;
}

uint64_t monotonic_clock(void) { return xenvcpu_domain_now(xv()); }

int gettimeofday(struct timeval *tv, void *tz)
{
    xenvcpu_wall_time w;
    xenvcpu_errc e;

    (void)tz;
    while ((e = xenvcpu_wallclock_now(xv(), &w)) == XENVCPU_BUSY_RETRY)
        ;
    xv_check(e, "wallclock_now");
    tv->tv_sec = w.sec;
    tv->tv_usec = w.nsec / 1000;
    return 0;
}
EXPORT_SYMBOL(gettimeofday);

static void xv_woken(xenvcpu_timer *t, uint32_t self, uint64_t now_ns, void *ctx)
{
    uint64_t deadline = xenvcpu_timer_deadline(t);

    (void)self;
    (void)ctx;
    ++xv_fired;
    if (now_ns < deadline) {
        ++xv_early;
        return;
    }
    xv_late_sum += now_ns - deadline;
    if (now_ns - deadline > xv_late_max)
        xv_late_max = now_ns - deadline;
    /* Nothing else to do: the scheduler's loop looks at the clock again
     * once block_domain returns. */
}

/* Called by the scheduler with upcalls off; returns with them off. */
void block_domain(s_time_t until)
{
    ASSERT(irqs_disabled());
    if (!xv_timers_ready) {
        /* Before init_time: nothing can wake us but an event. */
        return;
    }
    if (until == Time_Max) {
        /* Nothing to wake up for: no timer left in Xen. */
        xv_check(xenvcpu_timer_driver_cancel(&xv_timers, 0, &xv_wake, NULL), "timer cancel");
    } else {
        xenvcpu_errc e;

        if ((s_time_t)xenvcpu_timer_driver_now(&xv_timers) >= until)
            return;
        e = xenvcpu_timer_driver_arm(&xv_timers, 0, &xv_wake, (uint64_t)until, 0);
        if (e == XENVCPU_ETIME)
            return; /* Xen says it is due already: the scheduler looks again */
        xv_check(e, "timer arm");
    }
    xv_check(xenvcpu_timer_driver_idle(&xv_timers, 0), "timer idle");
    local_irq_disable();
}

static void xv_virq_timer(evtchn_port_t port, struct pt_regs *regs, void *data)
{
    (void)port;
    (void)regs;
    (void)data;
    ++xv_virqs;
    if (!xenvcpu_timer_armed(&xv_wake))
        ++xv_virqs_no_timer; /* an idle wake-up for nothing */
    xenvcpu_timer_driver_handle_event(&xv_timers, 0);
}

/* arch_suspend's hypercall (xenvcpu.patch). shared_info is unmapped here
 * (arch_pre_suspend): nothing in the library may run. */
int xenvcpu_glue_suspend(unsigned long start_info_mfn)
{
    int rc = HYPERVISOR_suspend(start_info_mfn);

    xv_new_domain = rc == 0;
    return rc;
}

/* PV: arch_post_suspend mapped the new shared_info at the same address. */
static void *xv_remap(void *ctx)
{
    (void)ctx;
    return HYPERVISOR_shared_info;
}

/* A new domain: the library's part, before the driver restarts. */
static void xv_resumed(void)
{
    xenvcpu_suspend_config sc;
    xenvcpu_suspend_report r;
    xenvcpu_errc e;

    memset(&sc, 0, sizeof(sc));
    sc.timers = &xv_timers;
    sc.remap_shared_info = xv_remap;
    e = xenvcpu_domain_resumed(xv(), &sc, xv_before, &r);
    if (e != XENVCPU_OK) {
        printk("xenvcpu: resume failed at %s: %s\n", xenvcpu_suspend_step_name(r.failed_step),
               xenvcpu_errc_name(r.cause));
        do_exit();
    }
    printk("xenvcpu: resumed: clock before=%lu after=%lu offset_ns=%ld\n", (unsigned long)r.clock_before_ns,
           (unsigned long)r.clock_after_ns, (long)r.offset_ns);
}

void init_time(void)
{
    unsigned long flags;
    xenvcpu_domain *d = xv();

    /* Once: fini_time/init_time also bracket a suspend, and the wake-up
     * timer may be armed across it. Initialising it again would drop its
     * links while the driver's queue still holds it. */
    if (!xv_set_up) {
        xv_check(xenvcpu_timer_driver_init(&xv_timers, d, NULL), "timer_driver_init");
        xv_check(xenvcpu_timer_init(&xv_wake, xv_woken, NULL), "timer_init");
        xv_steal_ok = xenvcpu_steal_start(d, 0) == XENVCPU_OK &&
                      xenvcpu_steal_update(d, 0, &xv_steal_base) == XENVCPU_OK;
        xv_set_up = 1;
    } else if (xv_new_domain) {
        /* Upcalls are off (post_suspend enables them after init_time). */
        xv_new_domain = 0;
        xv_resumed();
    }
    xv_virqs = xv_virqs_no_timer = 0;
    xv_virq_port = bind_virq(VIRQ_TIMER, xv_virq_timer, NULL);
    if (xv_virq_port == (evtchn_port_t)-1) {
        printk("xenvcpu: cannot bind VIRQ_TIMER\n");
        do_exit();
    }
    local_irq_save(flags);
    /* The port is Mini-OS's: the driver raises it for an overdue timer. */
    xv_check(xenvcpu_timer_driver_attach(&xv_timers, 0, xv_virq_port), "timer_driver_attach");
    xv_check(xenvcpu_timer_driver_start(&xv_timers, 0), "timer_driver_start");
    xv_timers_ready = 1;
    local_irq_restore(flags);
    unmask_evtchn(xv_virq_port);
}

void fini_time(void)
{
    unsigned long flags;

    local_irq_save(flags);
    if (xv_timers_ready) {
        xenvcpu_steal_sample last;

        xv_timers_ready = 0;
        xv_check(xenvcpu_timer_driver_stop(&xv_timers, 0), "timer_driver_stop");
        /* What this domain's runstate totals hold, before a restore drops them. */
        if (xv_steal_ok)
            (void)xenvcpu_steal_update(xv(), 0, &last);
        /* No reading after it (upcalls off until init_time): a resume goes on from here. */
        xv_before = xenvcpu_domain_now(xv());
        printk("xenvcpu: timer VIRQs since init_time: %lu, with no timer pending: %lu\n", (unsigned long)xv_virqs,
               (unsigned long)xv_virqs_no_timer);
    }
    local_irq_restore(flags);
    if (xv_virq_port != (evtchn_port_t)-1) {
        unbind_evtchn(xv_virq_port);
        xv_virq_port = -1;
    }
}

/* One parseable line: steal since init_time (the library's runstate
 * accounting) and the wake-up timer's lateness by the driver's clock. */
void xenvcpu_glue_report(void)
{
    xenvcpu_steal_sample now;
    uint64_t steal_ppm = 0, steal_ns = 0;

    if (xv_steal_ok && xenvcpu_steal_update(xv(), 0, &now) == XENVCPU_OK) {
        steal_ppm = xenvcpu_steal_ppm(&xv_steal_base, &now);
        steal_ns = now.steal_ns - xv_steal_base.steal_ns;
    }
    printk("xenvcpu: wake_timer fired=%lu early=%lu late_avg_ns=%lu late_max_ns=%lu steal_ns=%lu steal_ppm=%lu\n",
           (unsigned long)xv_fired, (unsigned long)xv_early, (unsigned long)(xv_fired ? xv_late_sum / xv_fired : 0),
           (unsigned long)xv_late_max, (unsigned long)steal_ns, (unsigned long)steal_ppm);
}

void xenvcpu_panic(const char *message)
{
    printk("xenvcpu panic: %s\n", message);
    do_exit();
    for (;;)
        ;
}
