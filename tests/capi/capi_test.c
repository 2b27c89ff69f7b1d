/* The C API (include/xenvcpu.h) from C, against the simulated Xen: every
 * function of the header is called here at least once (coverage.py checks
 * that), with the result the C++ API gives for the same call.
 *
 * Hosted C11: the test prints what fails and exits non-zero. */
#include <xenvcpu.h>

#include <stdio.h>
#include <string.h>

#include "sim_support.h"

static int checks, failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        ++checks;                                                                    \
        if (!(cond)) {                                                               \
            ++failures;                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)
#define CHECK_ERR(call, expected)                                                                                 \
    do {                                                                                                          \
        xenvcpu_errc e_ = (call);                                                                                 \
        ++checks;                                                                                                 \
        if (e_ != (expected)) {                                                                                   \
            ++failures;                                                                                           \
            fprintf(stderr, "%s:%d: %s gave %s, expected %s\n", __FILE__, __LINE__, #call, xenvcpu_errc_name(e_), \
                    xenvcpu_errc_name(expected));                                                                 \
        }                                                                                                         \
    } while (0)

#define NSLOTS 8
#define NPORTS 64

/* The kernel's storage, static as a kernel declares it. */
static xenvcpu_domain dom;
static xenvcpu_vcpu_slot slots[NSLOTS];
static xenvcpu_event_slot ports[NPORTS];
static xenvcpu_smp smp;
static xenvcpu_smp_scratch scratch;
static xenvcpu_timer_driver timers;

/* --- the kernel's hooks, answered by the simulator ------------------------ */

struct kernel {
    unsigned relaxes, logged, prepared, parks, resumes;
    bool simulate;          /* APs take steps when the controller relaxes */
    bool entered[NSLOTS];   /* the AP's entry ran */
    bool want_park[NSLOTS]; /* the test asked it offline: it parks when asked */
    bool parked[NSLOTS];    /* inside its own VCPUOP_down */
};
static struct kernel k;

static uint32_t hook_current(void *ctx)
{
    (void)ctx;
    return xvt_current();
}
static uint64_t hook_frame_of(void *ctx, const void *p)
{
    (void)ctx;
    return (uint64_t)(uintptr_t)p >> 12; /* the simulator's frames are host addresses */
}
static xenvcpu_ap_stack hook_ap_stack(void *ctx, uint32_t v)
{
    xenvcpu_ap_stack s;
    (void)ctx;
    s.stack_top = 0x40000000u + (uint64_t)(v + 1) * 0x4000u;
    s.arg = 0x50000000u + v;
    s.gs_base = 0x60000000u + v;
    return s;
}
static uint64_t hook_now(void *ctx)
{
    (void)ctx;
    return xvt_now();
}
static void step_ap(uint32_t v);
static void hook_relax(void *ctx)
{
    struct kernel *kk = ctx;
    uint32_t v;
    ++kk->relaxes;
    xvt_advance(100000);
    if (!kk->simulate)
        return;
    for (v = 1; v < xenvcpu_smp_count(&smp); ++v)
        step_ap(v);
}
static void hook_log(void *ctx, const char *text, size_t len)
{
    (void)text;
    (void)len;
    ++((struct kernel *)ctx)->logged;
}
static xenvcpu_errc hook_ap_prepare(void *ctx, uint32_t v)
{
    (void)v;
    ++((struct kernel *)ctx)->prepared;
    return XENVCPU_OK;
}
static void hook_before_park(void *ctx, uint32_t v)
{
    (void)v;
    ++((struct kernel *)ctx)->parks;
}
static void hook_after_resume(void *ctx, uint32_t v)
{
    (void)v;
    ++((struct kernel *)ctx)->resumes;
}

/* The AP's kernel entry, as the entry stub would call it. */
static void ap_entry(xenvcpu_ap_handshake *hs) { xenvcpu_smp_ap_online(&smp, hs->vcpu); }

/* One step of AP v, acting as it: its entry, its resume after a park, or
 * its wake-up (dispatch its events, then serve its mailbox). */
static void step_ap(uint32_t v)
{
    xenvcpu_ap_handshake *hs;
    if (!xvt_running(v))
        return;
    xvt_set_current(v);
    hs = xenvcpu_smp_handshake(&smp, v);
    if (!k.entered[v]) {
        k.entered[v] = true;
        __atomic_store_n(&hs->stage, XENVCPU_AP_STAGE_ENTERED, __ATOMIC_RELEASE); /* the stub */
        ((xenvcpu_ap_entry_fn)(uintptr_t)hs->entry)(hs);
    } else if (k.parked[v] && __atomic_load_n(&hs->stage, __ATOMIC_ACQUIRE) == XENVCPU_AP_STAGE_IDLE) {
        /* Initialised afresh after a restore: its entry runs again. */
        k.parked[v] = false;
        __atomic_store_n(&hs->stage, XENVCPU_AP_STAGE_ENTERED, __ATOMIC_RELEASE);
        ((xenvcpu_ap_entry_fn)(uintptr_t)hs->entry)(hs);
    } else if (k.parked[v]) {
        /* Real Xen returns from the AP's own VCPUOP_down only now. */
        k.parked[v] = false;
        xenvcpu_smp_resume(&smp, v);
    } else {
        (void)xenvcpu_events_dispatch(&dom, v, 0, NULL, NULL);
        if (xenvcpu_smp_pending(&smp, v)) {
            if (k.want_park[v]) {
                k.want_park[v] = false;
                k.parked[v] = xenvcpu_smp_park_begin(&smp, v) == XENVCPU_OK;
            } else {
                (void)xenvcpu_smp_service(&smp, v);
            }
        }
    }
    xvt_set_current(0);
}

/* A fresh simulated domain and a zeroed domain over it, discovered. */
static void *fresh_domain(int pvh, uint32_t vcpus, int xen_4_20, bool with_now_hook)
{
    xenvcpu_domain_config cfg;
    uint32_t n = 0;
    void *shared = xvt_sim_start(pvh, vcpus, xen_4_20);
    memset(&dom, 0, sizeof dom);
    memset(&k, 0, sizeof k);
    k.simulate = true;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = pvh ? XENVCPU_GUEST_PVH : XENVCPU_GUEST_PV;
    cfg.shared_info = shared;
    cfg.hooks.ctx = &k;
    cfg.hooks.current = hook_current;
    cfg.hooks.frame_of = hook_frame_of;
    cfg.hooks.ap_stack = hook_ap_stack;
    cfg.hooks.now_ns = with_now_hook ? hook_now : NULL;
    cfg.hooks.relax = hook_relax;
    cfg.hooks.log = hook_log;
    cfg.hooks.ap_prepare = hook_ap_prepare;
    cfg.hooks.before_park = hook_before_park;
    cfg.hooks.after_resume = hook_after_resume;
    CHECK_ERR(xenvcpu_domain_init(&dom, &cfg, slots, NSLOTS, ports, NPORTS), XENVCPU_OK);
    CHECK_ERR(xenvcpu_domain_discover(&dom, XENVCPU_MAX_PROBED_VCPUS, &n), XENVCPU_OK);
    CHECK(n == vcpus);
    xenvcpu_events_mask_all(&dom);
    return shared;
}

/* --- errors and the domain ------------------------------------------------- */

static void test_errors(void)
{
    CHECK(strcmp(xenvcpu_errc_name(XENVCPU_OK), "ok") == 0);
    CHECK(strcmp(xenvcpu_errc_name(XENVCPU_ENOENT), "ENOENT") == 0);
    CHECK(strcmp(xenvcpu_errc_name(XENVCPU_LAST_VCPU), "last_vcpu") == 0);
    CHECK(strcmp(xenvcpu_errc_name((xenvcpu_errc)999), "E?") == 0);
}

static void test_domain(void)
{
    xenvcpu_domain_config cfg;
    uint32_t n = 0;
    void *shared = xvt_sim_start(0, 4, 1);
    memset(&dom, 0, sizeof dom);
    memset(&k, 0, sizeof k);
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = XENVCPU_GUEST_PV;
    cfg.shared_info = shared;
    cfg.hooks.ctx = &k;
    /* No current hook: refused; then complete: accepted, once. */
    CHECK_ERR(xenvcpu_domain_init(&dom, &cfg, slots, NSLOTS, ports, NPORTS), XENVCPU_INVALID_ARGUMENT);
    cfg.hooks.current = hook_current;
    cfg.hooks.frame_of = hook_frame_of;
    cfg.hooks.relax = hook_relax;
    CHECK_ERR(xenvcpu_domain_init(&dom, &cfg, slots, NSLOTS, ports, NPORTS), XENVCPU_OK);
    CHECK_ERR(xenvcpu_domain_init(&dom, &cfg, slots, NSLOTS, ports, NPORTS), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_domain_init(NULL, &cfg, slots, NSLOTS, ports, NPORTS), XENVCPU_INVALID_ARGUMENT);

    CHECK(xenvcpu_domain_vcpu_count(&dom) == NSLOTS); /* before discover: the slots */
    CHECK_ERR(xenvcpu_domain_discover(&dom, XENVCPU_MAX_PROBED_VCPUS, &n), XENVCPU_OK);
    CHECK(n == 4 && xenvcpu_domain_vcpu_count(&dom) == 4 && xenvcpu_domain_managed(&dom) == 4);
    CHECK_ERR(xenvcpu_domain_discover(&dom, 2, &n), XENVCPU_NO_SPACE);
    xenvcpu_domain_set_vcpu_count(&dom, 4);
    CHECK(xenvcpu_domain_self(&dom) == 0);
    xvt_set_current(2);
    CHECK(xenvcpu_domain_self(&dom) == 2);
    xvt_set_current(0);
    CHECK(xenvcpu_domain_kind(&dom) == XENVCPU_GUEST_PV);
    /* No now_ns hook: the domain's SystemClock on vCPU 0's record. */
    (void)xenvcpu_domain_now(&dom);
    (void)xenvcpu_domain_own_now(&dom);
    xenvcpu_domain_relax(&dom);
    CHECK(k.relaxes == 1);
    CHECK(xenvcpu_domain_vcpu_info(&dom, 0) == shared); /* vcpu_info[0] opens shared_info */
    CHECK(xenvcpu_domain_vcpu_info(&dom, 9) == NULL);
    CHECK_ERR(xenvcpu_domain_place_vcpu_info(&dom, 1), XENVCPU_OK);
    CHECK(xenvcpu_domain_vcpu_info(&dom, 1) == (void *)&slots[1]);  /* the area opens the slot */
    CHECK_ERR(xenvcpu_domain_place_vcpu_info(&dom, 1), XENVCPU_OK); /* once: no second op 10 */
    CHECK(xvt_vcpuop_calls(10) == 1);
    /* A second init is refused without touching the live slots. */
    CHECK_ERR(xenvcpu_domain_init(&dom, &cfg, slots, NSLOTS, ports, NPORTS), XENVCPU_INVALID_ARGUMENT);
    CHECK(xenvcpu_domain_vcpu_info(&dom, 1) == (void *)&slots[1]);
    CHECK_ERR(xenvcpu_domain_adopt_vcpu_info(&dom, 2), XENVCPU_OK);
    CHECK_ERR(xenvcpu_domain_adopt_vcpu_info(&dom, 9), XENVCPU_VCPU_OUT_OF_RANGE);
}

/* --- the 16 VCPUOPs ------------------------------------------------------- */

static xenvcpu_runstate_area rs_area, rs_phys_area;
static xenvcpu_time_area time_area, time_phys_area;
static xenvcpu_vcpu_info_area info_area;

static void test_vcpuops(void)
{
    bool up = true;
    xenvcpu_runstate_info ri;
    xenvcpu_physid pid;
    fresh_domain(0, 4, 1, true);

    CHECK_ERR(xenvcpu_vcpu_initialise_pv(&dom, 1, xvt_pv_context()), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_initialise_pv(&dom, 1, xvt_pv_context()), XENVCPU_EEXIST);
    CHECK_ERR(xenvcpu_vcpu_initialise_pv(&dom, 7, xvt_pv_context()), XENVCPU_VCPU_OUT_OF_RANGE);
    CHECK_ERR(xenvcpu_vcpu_is_up(&dom, 1, &up), XENVCPU_OK);
    CHECK(!up);
    CHECK_ERR(xenvcpu_vcpu_up(&dom, 1), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_is_up(&dom, 1, &up), XENVCPU_OK);
    CHECK(up);
    CHECK_ERR(xenvcpu_vcpu_down(&dom, 1), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_down(&dom, 0), XENVCPU_LAST_VCPU); /* no other vCPU is up */
    CHECK_ERR(xenvcpu_vcpu_up(&dom, 2), XENVCPU_EINVAL);      /* never initialised */
    {
        /* Batched: each vCPU its own outcome (1 is down again, 2 never
         * initialised, 9 beyond the domain and never sent). */
        const uint32_t vs[3] = {1, 2, 9};
        xenvcpu_errc errs[3];
        uint32_t failed = 0;
        CHECK_ERR(xenvcpu_vcpu_up_many(&dom, vs, 3, errs, &failed), XENVCPU_OK);
        CHECK(failed == 2);
        CHECK(errs[0] == XENVCPU_OK && errs[1] == XENVCPU_EINVAL && errs[2] == XENVCPU_VCPU_OUT_OF_RANGE);
        CHECK_ERR(xenvcpu_vcpu_is_up(&dom, 1, &up), XENVCPU_OK);
        CHECK(up);
        CHECK_ERR(xenvcpu_vcpu_up_many(&dom, NULL, 1, errs, NULL), XENVCPU_INVALID_ARGUMENT);
        CHECK_ERR(xenvcpu_vcpu_up_many(&dom, NULL, 0, NULL, NULL), XENVCPU_OK);
        CHECK_ERR(xenvcpu_vcpu_down(&dom, 1), XENVCPU_OK);
    }

    CHECK_ERR(xenvcpu_vcpu_get_runstate_info(&dom, 0, &ri), XENVCPU_OK);
    CHECK(ri.state == XENVCPU_RUNSTATE_RUNNING);
    CHECK_ERR(xenvcpu_vcpu_register_runstate_memory_area(&dom, 0, &rs_area), XENVCPU_OK);

    CHECK_ERR(xenvcpu_vcpu_set_periodic_timer(&dom, 0, 1000), XENVCPU_PERIOD_TOO_SHORT);
    CHECK_ERR(xenvcpu_vcpu_set_periodic_timer(&dom, 0, 10000000), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_stop_periodic_timer(&dom, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_set_singleshot_timer(&dom, 1, xvt_now() + 1000000), XENVCPU_NOT_CURRENT_VCPU);
    CHECK_ERR(xenvcpu_vcpu_set_singleshot_timer(&dom, 0, xvt_now() + 1000000), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_stop_singleshot_timer(&dom, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_stop_singleshot_timer(&dom, 2), XENVCPU_NOT_CURRENT_VCPU);

    CHECK_ERR(xenvcpu_vcpu_register_vcpu_info(&dom, 2, &info_area, (uint64_t)(uintptr_t)&info_area >> 12), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_send_nmi(&dom, 0), XENVCPU_OK);
    CHECK(xvt_nmis(0) == 1);
    CHECK_ERR(xenvcpu_vcpu_get_physid(&dom, 0, &pid), XENVCPU_EINVAL); /* not the hardware domain */
    CHECK_ERR(xenvcpu_vcpu_register_vcpu_time_memory_area(&dom, 0, &time_area), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_register_runstate_phys_area(&dom, 0, &rs_phys_area, (uint64_t)(uintptr_t)&rs_phys_area),
              XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_register_vcpu_time_phys_area(&dom, 0, &time_phys_area, (uint64_t)(uintptr_t)&time_phys_area),
              XENVCPU_OK);
    CHECK_ERR(
        xenvcpu_vcpu_register_vcpu_time_phys_area(&dom, 0, &time_phys_area, 8 + (uint64_t)(uintptr_t)&time_phys_area),
        XENVCPU_INVALID_ARGUMENT); /* not where the area is */

    /* PVH: the HVM context. */
    fresh_domain(1, 2, 1, true);
    CHECK_ERR(xenvcpu_vcpu_initialise_hvm(&dom, 1, xvt_hvm_context()), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_up(&dom, 1), XENVCPU_OK);
    CHECK_ERR(xenvcpu_vcpu_initialise_hvm(&dom, 1, NULL), XENVCPU_INVALID_ARGUMENT);
}

/* --- events ------------------------------------------------------------------ */

struct seen {
    unsigned count;
    uint32_t port, vcpu;
};

static void on_event(uint32_t port, uint32_t vcpu, void *ctx)
{
    struct seen *s = ctx;
    ++s->count;
    s->port = port;
    s->vcpu = vcpu;
}

static void test_events(void)
{
    struct seen ipi = {0, 0, 0}, dbg = {0, 0, 0};
    uint32_t port = 0, vport = 0, handled = 0;
    bool more = true;
    fresh_domain(0, 2, 1, true);

    CHECK_ERR(xenvcpu_events_bind_ipi(&dom, 0, on_event, &ipi, &port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_bind_ipi(&dom, 0, NULL, &ipi, &port), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_events_send(&dom, port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, &more), XENVCPU_OK);
    CHECK(handled == 1 && !more && ipi.count == 1 && ipi.port == port && ipi.vcpu == 0);

    CHECK_ERR(xenvcpu_events_mask(&dom, port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_send(&dom, port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK);
    CHECK(handled == 0 && ipi.count == 1); /* masked: it waits */
    CHECK_ERR(xenvcpu_events_unmask(&dom, port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK);
    CHECK(handled == 1 && ipi.count == 2); /* re-delivered */

    CHECK_ERR(xenvcpu_events_raise_local(&dom, port, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 1, &handled, NULL), XENVCPU_OK);
    CHECK(handled == 1 && ipi.count == 3);
    CHECK_ERR(xenvcpu_events_raise_local(&dom, port, 1), XENVCPU_NOT_CURRENT_VCPU);

    CHECK_ERR(xenvcpu_events_bind_virq(&dom, XENVCPU_VIRQ_DEBUG, 0, on_event, &dbg, &vport), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_bind_virq(&dom, XENVCPU_VIRQ_DEBUG, 0, on_event, &dbg, &vport), XENVCPU_EEXIST);
    CHECK_ERR(xenvcpu_events_send(&dom, vport), XENVCPU_EINVAL);                 /* a VIRQ cannot be sent */
    CHECK_ERR(xenvcpu_events_attach(&dom, port, 0, on_event, &dbg), XENVCPU_OK); /* replaces the handler */
    CHECK_ERR(xenvcpu_events_attach(&dom, 5000, 0, on_event, &dbg), XENVCPU_PORT_OUT_OF_RANGE);
    CHECK_ERR(xenvcpu_events_send(&dom, port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK);
    CHECK(dbg.count == 1 && ipi.count == 3);
    CHECK_ERR(xenvcpu_events_close(&dom, port, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_close(&dom, port, 0), XENVCPU_PORT_NOT_BOUND);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 9, 0, NULL, NULL), XENVCPU_VCPU_OUT_OF_RANGE);
}

/* --- SMP -------------------------------------------------------------------- */

static void count_call(void *arg) { ++*(unsigned *)arg; }

/* A made-up boot state for both guest kinds: the simulator checks its
 * shape, not what it points at. */
static void make_smp_config(xenvcpu_smp_config *sc, xenvcpu_vcpu_info_placement placement)
{
    memset(sc, 0, sizeof *sc);
    sc->pv.cr3 = (uint64_t)0x1234 << 12;
    sc->pv.event_callback = 0x100400;
    sc->pv.failsafe_callback = 0x100440;
    sc->hvm.cr0 = 0x80000011;
    sc->hvm.cr3 = 0x200000;
    sc->hvm.cr4 = 0x20;
    sc->hvm.efer = 0x500;
    sc->entry_stub = 0x100800;
    sc->ap_entry = ap_entry;
    sc->placement = placement;
}

static void test_smp(void)
{
    xenvcpu_smp_config sc;
    xenvcpu_bring_up_report report;
    xenvcpu_wait_bound bound = {1000000000u, 10000000u};
    xenvcpu_call_ticket ticket = {0, 0};
    unsigned calls = 0;
    fresh_domain(0, 4, 1, true);

    make_smp_config(&sc, XENVCPU_VCPU_INFO_EVERY_AP);
    CHECK_ERR(xenvcpu_smp_init(&smp, &dom, NULL, &scratch), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_smp_init(&smp, &dom, &sc, &scratch), XENVCPU_OK);
    CHECK(xenvcpu_smp_count(&smp) == 4 && xenvcpu_smp_online_count(&smp) == 1 && xenvcpu_smp_self(&smp) == 0);
    CHECK(xenvcpu_smp_state(&smp, 1) == XENVCPU_CPU_DOWN && xenvcpu_smp_state(&smp, 9) == XENVCPU_CPU_ABSENT);
    CHECK(xenvcpu_smp_handshake(&smp, 9) == NULL);

    /* One AP by hand, the others serially, then nothing left to do in parallel. */
    CHECK_ERR(xenvcpu_smp_prepare(&smp, 1), XENVCPU_OK);
    CHECK(xenvcpu_smp_state(&smp, 1) == XENVCPU_CPU_PREPARED && k.prepared == 1);
    CHECK_ERR(xenvcpu_smp_start(&smp, 1), XENVCPU_OK);
    CHECK_ERR(xenvcpu_smp_await_online(&smp, 1, &bound), XENVCPU_OK);
    CHECK(xenvcpu_smp_state(&smp, 1) == XENVCPU_CPU_ONLINE);
    CHECK(xenvcpu_smp_handshake(&smp, 1)->generation == 1);
    CHECK_ERR(xenvcpu_smp_start(&smp, 1), XENVCPU_ALREADY_INITIALISED);
    xenvcpu_smp_bring_up(&smp, XENVCPU_BRING_UP_SERIAL, &bound, &report);
    CHECK(report.online == 4 && report.failed == 0 && report.first_error == XENVCPU_OK);
    xenvcpu_smp_bring_up(&smp, XENVCPU_BRING_UP_PARALLEL, NULL, &report);
    CHECK(report.online == 4 && report.failed == 0);
    CHECK(xenvcpu_smp_online_count(&smp) == 4 && xenvcpu_smp_last_error(&smp, 2) == XENVCPU_OK);

    /* Calls and IPIs. */
    CHECK_ERR(xenvcpu_smp_call(&smp, 1, count_call, &calls, &bound), XENVCPU_OK);
    CHECK(calls == 1);
    CHECK_ERR(xenvcpu_smp_call(&smp, 0, count_call, &calls, NULL), XENVCPU_OK); /* on itself: a plain call */
    CHECK(calls == 2);
    CHECK_ERR(xenvcpu_smp_post(&smp, 2, count_call, &calls, NULL, &ticket), XENVCPU_OK);
    CHECK(ticket.vcpu == 2);
    CHECK_ERR(xenvcpu_smp_wait_call(&smp, ticket, &bound), XENVCPU_OK);
    CHECK(calls == 3);
    CHECK_ERR(xenvcpu_smp_post(&smp, 2, NULL, &calls, NULL, &ticket), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_smp_send_ipi(&smp, 3), XENVCPU_OK);
    CHECK_ERR(xenvcpu_smp_send_ipi(&smp, 9), XENVCPU_VCPU_OUT_OF_RANGE);
    CHECK(!xenvcpu_smp_pending(&smp, 3));
    xvt_set_current(3);
    CHECK(xenvcpu_smp_service(&smp, 3) == XENVCPU_SERVED_NOTHING);
    xvt_set_current(0);

    /* Hotplug: parked by itself, then brought back; taken down remotely, back. */
    k.want_park[2] = true;
    CHECK_ERR(xenvcpu_smp_offline(&smp, 2, &bound), XENVCPU_OK);
    CHECK(xenvcpu_smp_state(&smp, 2) == XENVCPU_CPU_PARKED && k.parks == 1);
    CHECK_ERR(xenvcpu_smp_online(&smp, 2, &bound), XENVCPU_OK);
    CHECK(xenvcpu_smp_state(&smp, 2) == XENVCPU_CPU_ONLINE && k.resumes == 1);
    CHECK_ERR(xenvcpu_smp_offline_remote(&smp, 3, &bound), XENVCPU_OK);
    CHECK(xenvcpu_smp_state(&smp, 3) == XENVCPU_CPU_PARKED);
    CHECK_ERR(xenvcpu_smp_online(&smp, 3, &bound), XENVCPU_OK);
    CHECK(xenvcpu_smp_state(&smp, 3) == XENVCPU_CPU_ONLINE);
    CHECK_ERR(xenvcpu_smp_offline(&smp, 0, &bound), XENVCPU_INVALID_ARGUMENT); /* itself: park_self */
    CHECK_ERR(xenvcpu_smp_park_self(&smp, 1), XENVCPU_NOT_CURRENT_VCPU);       /* called on vCPU 0 */
    CHECK_ERR(xenvcpu_smp_park_begin(&smp, 1), XENVCPU_NOT_CURRENT_VCPU);

    /* PVH, in parallel, with only the vCPUs >= 32 given a vcpu_info. */
    fresh_domain(1, 3, 1, true);
    make_smp_config(&sc, XENVCPU_VCPU_INFO_BEYOND_LEGACY);
    CHECK_ERR(xenvcpu_smp_init(&smp, &dom, &sc, &scratch), XENVCPU_OK);
    xenvcpu_smp_bring_up(&smp, XENVCPU_BRING_UP_PARALLEL, &bound, &report);
    CHECK(report.online == 3 && report.failed == 0);
    CHECK(xvt_vcpuop_calls(10) == 0);                          /* every AP is below 32: its shared_info slot */
    CHECK(xenvcpu_smp_handshake(&smp, 2)->arg == 0x50000002u); /* the ap_stack hook's */
}

/* --- clocks, runstate and steal -------------------------------------------- */

static void test_clocks(void)
{
    xenvcpu_clock_reading reading;
    xenvcpu_wall_time base, now;
    xenvcpu_runstate_info ri;
    xenvcpu_area_kind kind = XENVCPU_AREA_PHYSICAL;
    xenvcpu_steal_sample s0, s1;
    xenvcpu_errc e;
    bool on = false;
    fresh_domain(0, 2, 1, true);

    /* The SystemClock reads the simulator's record with the host's TSC: a
     * value, not one to compare with the virtual clock. */
    e = xenvcpu_clock_read(&dom, &reading);
    CHECK(e == XENVCPU_OK || e == XENVCPU_BUSY_RETRY);
    xvt_set_current(5);
    CHECK_ERR(xenvcpu_clock_read(&dom, &reading), XENVCPU_VCPU_OUT_OF_RANGE);
    xvt_set_current(0);

    CHECK(xenvcpu_domain_now(&dom) == xvt_now()); /* the now_ns hook */
    CHECK_ERR(xenvcpu_wallclock_base(&dom, &base), XENVCPU_OK);
    CHECK_ERR(xenvcpu_wallclock_now(&dom, &now), XENVCPU_OK);
    CHECK(now.sec == base.sec + xvt_now() / 1000000000u);

    CHECK_ERR(xenvcpu_runstate_enable_update_flag(&dom, &on), XENVCPU_OK);
    CHECK(on);
    CHECK_ERR(xenvcpu_runstate_register(&dom, 0, XENVCPU_PHYS_AREA_NONE, &kind), XENVCPU_OK);
    CHECK(kind == XENVCPU_AREA_VIRTUAL);
    CHECK_ERR(xenvcpu_runstate_register(&dom, 9, XENVCPU_PHYS_AREA_NONE, &kind), XENVCPU_VCPU_OUT_OF_RANGE);
    CHECK_ERR(xenvcpu_runstate_snapshot(&dom, 0, &ri), XENVCPU_OK);
    CHECK(ri.state == XENVCPU_RUNSTATE_RUNNING);

    CHECK_ERR(xenvcpu_steal_start(&dom, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_steal_update(&dom, 0, &s0), XENVCPU_OK);
    /* The area shows the totals at the last switch: 3 ms runnable (steal),
     * 1 ms running, 1 ms runnable again. */
    xvt_preempt(0, 3000000);
    xvt_advance(1000000);
    xvt_preempt(0, 1000000);
    CHECK_ERR(xenvcpu_steal_update(&dom, 0, &s1), XENVCPU_OK);
    CHECK(s1.steal_ns - s0.steal_ns == 4000000);
    CHECK(s1.total_ns - s0.total_ns == 5000000);
    CHECK(xenvcpu_steal_ppm(&s0, &s1) == 800000);
    CHECK_ERR(xenvcpu_runstate_unregister(&dom, 0), XENVCPU_OK);
}

/* --- timers ------------------------------------------------------------------ */

struct fired {
    unsigned count;
    uint32_t self;
    uint64_t now;
    xenvcpu_timer *timer;
};

static void on_timer(xenvcpu_timer *t, uint32_t self, uint64_t now_ns, void *ctx)
{
    struct fired *f = ctx;
    ++f->count;
    f->self = self;
    f->now = now_ns;
    f->timer = t;
}

static xenvcpu_timer timer_a, timer_b;

static void test_timers(void)
{
    struct fired fa = {0, 0, 0, NULL}, fb = {0, 0, 0, NULL};
    xenvcpu_timer_config tc = {0, 0};
    uint32_t port = 0, handled = 0;
    uint64_t deadline;
    bool was_armed = false;
    size_t moved = 99;
    fresh_domain(0, 2, 1, true);

    CHECK_ERR(xenvcpu_timer_driver_init(&timers, &dom, &tc), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_init(NULL, &dom, NULL), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_timer_driver_bind(&timers, 0, &port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_bind(&timers, 1, &port), XENVCPU_NOT_CURRENT_VCPU);
    CHECK_ERR(xenvcpu_timer_driver_start(&timers, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_init(&timer_a, on_timer, &fa), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_init(&timer_b, on_timer, &fb), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_init(&timer_b, NULL, &fb), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_timer_init(&timer_b, on_timer, &fb), XENVCPU_OK);

    /* Arm, fire through VIRQ_TIMER and the event dispatch. */
    CHECK_ERR(xenvcpu_timer_driver_arm_after(&timers, 0, &timer_a, 1000000, 0), XENVCPU_OK);
    CHECK(xenvcpu_timer_armed(&timer_a) && xenvcpu_timer_driver_armed(&timers, 0) == 1);
    deadline = xenvcpu_timer_deadline(&timer_a);
    CHECK(deadline == xenvcpu_timer_driver_now(&timers) + 1000000);
    xvt_advance(1000000);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK);
    CHECK(fa.count == 1 && fa.self == 0 && fa.now >= deadline && fa.timer == &timer_a);
    CHECK(!xenvcpu_timer_armed(&timer_a));

    /* Cancel; arming on another vCPU is refused. */
    CHECK_ERR(xenvcpu_timer_driver_arm(&timers, 0, &timer_b, xvt_now() + 5000000, 100000), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_cancel(&timers, 0, &timer_b, &was_armed), XENVCPU_OK);
    CHECK(was_armed && !xenvcpu_timer_armed(&timer_b));
    CHECK_ERR(xenvcpu_timer_driver_cancel(&timers, 0, &timer_b, &was_armed), XENVCPU_OK);
    CHECK(!was_armed);
    CHECK_ERR(xenvcpu_timer_driver_arm(&timers, 1, &timer_b, xvt_now() + 5000000, 0), XENVCPU_NOT_CURRENT_VCPU);

    /* The handler body called directly runs what is due. */
    CHECK_ERR(xenvcpu_timer_driver_arm(&timers, 0, &timer_b, xvt_now() + 1000, 0), XENVCPU_OK);
    xvt_advance(1000);
    xenvcpu_timer_driver_handle_event(&timers, 0);
    CHECK(fb.count == 1);

    /* Idle: sleeps (SCHEDOP_block moves virtual time) until the timer's event. */
    CHECK_ERR(xenvcpu_timer_driver_arm_after(&timers, 0, &timer_a, 2000000, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK); /* timer_b's own VIRQ */
    deadline = xvt_now() + 2000000;
    CHECK_ERR(xenvcpu_timer_driver_idle(&timers, 0), XENVCPU_OK);
    CHECK(xvt_now() >= deadline);
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK);
    CHECK(fa.count == 2);

    /* Hotplug hand-over: vCPU 1 never armed a timer: nothing to move. */
    CHECK_ERR(xenvcpu_timer_driver_adopt(&timers, 0, 1, &moved), XENVCPU_OK);
    CHECK(moved == 0);
    CHECK_ERR(xenvcpu_timer_driver_adopt(&timers, 0, 0, &moved), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_timer_driver_stop(&timers, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_unbind(&timers, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_unbind(&timers, 0), XENVCPU_INVALID_ARGUMENT);
}

/* --- save, restore, checkpoint ------------------------------------------- */

static void *remap_shared(void *ctx)
{
    ++*(int *)ctx;
    return xvt_shared_info();
}

static uint64_t new_cr3(void *ctx)
{
    (void)ctx;
    return (uint64_t)0x5678 << 12;
}

static xenvcpu_errc refuse_suspend(void *ctx)
{
    (void)ctx;
    return XENVCPU_EPERM;
}

static void test_suspend(void)
{
    xenvcpu_smp_config sc;
    xenvcpu_bring_up_report bu;
    xenvcpu_wait_bound bound = {1000000000u, 10000000u};
    xenvcpu_timer_config tc = {0, 0};
    xenvcpu_suspend_config c;
    xenvcpu_suspend_report r;
    xenvcpu_suspend_outcome out = XENVCPU_SUSPEND_CANCELLED;
    struct fired fa = {0, 0, 0, NULL};
    uint32_t port = 0, handled = 0, v;
    uint64_t deadline, before;
    int remaps = 0, pvh;
    bool flag_on = false;

    for (pvh = 0; pvh <= 1; ++pvh) {
        fresh_domain(pvh, 4, pvh, true);
        make_smp_config(&sc, XENVCPU_VCPU_INFO_EVERY_AP);
        CHECK_ERR(xenvcpu_smp_init(&smp, &dom, &sc, &scratch), XENVCPU_OK);
        xenvcpu_smp_bring_up(&smp, XENVCPU_BRING_UP_PARALLEL, &bound, &bu);
        CHECK(bu.online == 4);
        CHECK_ERR(xenvcpu_timer_driver_init(&timers, &dom, &tc), XENVCPU_OK);
        CHECK_ERR(xenvcpu_timer_driver_bind(&timers, 0, &port), XENVCPU_OK);
        CHECK_ERR(xenvcpu_timer_driver_start(&timers, 0), XENVCPU_OK);
        CHECK_ERR(xenvcpu_timer_init(&timer_a, on_timer, &fa), XENVCPU_OK);
        CHECK_ERR(xenvcpu_runstate_enable_update_flag(&dom, &flag_on), XENVCPU_OK);
        for (v = 0; v < 4; ++v)
            CHECK_ERR(xenvcpu_runstate_register(&dom, v, XENVCPU_PHYS_AREA_NONE, NULL), XENVCPU_OK);
        CHECK_ERR(xenvcpu_vcpu_register_vcpu_time_memory_area(&dom, 0, &time_area), XENVCPU_OK);
        fa.count = 0;
        CHECK_ERR(xenvcpu_timer_driver_arm_after(&timers, 0, &timer_a, 50000000, 0), XENVCPU_OK);
        deadline = xenvcpu_timer_deadline(&timer_a);

        memset(&c, 0, sizeof c);
        c.start_info_mfn = 0x777;
        c.upcall_vector = pvh ? 0xf3 : 0;
        c.smp = &smp;
        c.timers = &timers;
        c.bound = &bound;
        c.ctx = &remaps;
        c.remap_shared_info = remap_shared;
        c.pv_cr3 = new_cr3;

        /* Cancelled (a checkpoint): the same domain, nothing redone. */
        for (v = 1; v < 4; ++v)
            k.want_park[v] = true;
        xvt_plan_suspend(1, 0, 0);
        before = xenvcpu_domain_now(&dom);
        CHECK_ERR(xenvcpu_domain_suspend(&dom, &c, &out, &r), XENVCPU_OK);
        CHECK(out == XENVCPU_SUSPEND_CANCELLED && r.outcome == XENVCPU_SUSPEND_CANCELLED);
        CHECK(r.aps_parked == 3 && r.aps_back == 3 && r.ports_rebound == 0);
        CHECK(xenvcpu_domain_clock_offset(&dom) == 0 && xenvcpu_domain_now(&dom) >= before);
        CHECK(xvt_restores() == 0);

        /* A new domain whose host's time is 2 s lower, two toolstack ports. */
        for (v = 1; v < 4; ++v)
            k.want_park[v] = true;
        xvt_plan_suspend(0, -2000000000, 2);
        before = xenvcpu_domain_now(&dom);
        CHECK_ERR(xenvcpu_domain_suspend(&dom, &c, &out, &r), XENVCPU_OK);
        CHECK(out == XENVCPU_SUSPEND_RESUMED && r.failed_step == XENVCPU_STEP_NONE);
        CHECK(xvt_restores() == 1 && r.aps_back == 3 && r.ports_rebound == 4);
        CHECK(r.downed_to_register == 0 && r.still_registered == 0);
        CHECK(r.clock_after_ns >= r.clock_before_ns && xenvcpu_domain_now(&dom) >= before);
        CHECK(xenvcpu_domain_clock_offset(&dom) == r.offset_ns && r.offset_ns > 0);
        CHECK(xenvcpu_domain_to_xen_time(&dom, xenvcpu_domain_now(&dom)) == xvt_now());
        CHECK(xenvcpu_smp_state(&smp, 3) == XENVCPU_CPU_ONLINE);
        /* Registered again: runstate areas, the time area, the APs' vcpu_info. */
        for (v = 0; v < 4; ++v)
            CHECK(xvt_runstate_area(v) && (v == 0 || xvt_vcpu_info_registered(v)));
        CHECK(xvt_time_area(0));
        if (pvh)
            CHECK(xvt_callback_irq() == 1);
        else
            CHECK(remaps == 1 && xvt_periodic_ns(2) == 0);

        /* The timer armed before runs once, at or after its deadline. */
        while (xenvcpu_timer_driver_now(&timers) < deadline + 1000000) {
            xvt_advance(500000);
            CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK);
        }
        CHECK(fa.count == 1 && fa.now >= deadline);

        /* A refusal before the hypercall: nothing suspended, all undone. */
        c.before_suspend = refuse_suspend;
        for (v = 1; v < 4; ++v)
            k.want_park[v] = true;
        CHECK_ERR(xenvcpu_domain_suspend(&dom, &c, NULL, &r), XENVCPU_SUSPEND_FAILED);
        CHECK(r.failed_step == XENVCPU_STEP_BEFORE_SUSPEND && r.cause == XENVCPU_EPERM && r.aps_back == 3);
        CHECK(strcmp(xenvcpu_suspend_step_name(r.failed_step), "before_suspend") == 0);
        CHECK(strcmp(xenvcpu_errc_name(XENVCPU_RESUME_FAILED), "resume_failed") == 0);
        CHECK(strcmp(xenvcpu_errc_name(XENVCPU_VCPU_DOWN), "vcpu_down") == 0);
        xvt_set_current(1);
        CHECK_ERR(xenvcpu_domain_suspend(&dom, &c, NULL, NULL), XENVCPU_NOT_CURRENT_VCPU);
        xvt_set_current(0);
        CHECK_ERR(xenvcpu_domain_suspend(&dom, NULL, NULL, NULL), XENVCPU_INVALID_ARGUMENT);

        /* A kernel that made the hypercall itself (Mini-OS): its timers
         * stopped, the clock read, time 1 s back in the new domain; the
         * library redoes its part, the kernel restarts its timers. */
        CHECK_ERR(xenvcpu_timer_driver_arm_after(&timers, 0, &timer_a, 50000000, 0), XENVCPU_OK);
        deadline = xenvcpu_timer_deadline(&timer_a);
        fa.count = 0;
        CHECK_ERR(xenvcpu_timer_driver_stop(&timers, 0), XENVCPU_OK);
        before = xenvcpu_domain_now(&dom);
        xvt_plan_suspend(0, -1000000000, 1);
        CHECK(xvt_suspend_call(pvh ? 0 : 0x777) == 0);
        c.smp = NULL;
        c.before_suspend = NULL;
        CHECK_ERR(xenvcpu_domain_resumed(&dom, &c, before, &r), XENVCPU_OK);
        CHECK(xvt_restores() == 2 && r.outcome == XENVCPU_SUSPEND_RESUMED && r.clock_before_ns == before);
        CHECK(xenvcpu_domain_now(&dom) >= before && xenvcpu_domain_clock_offset(&dom) == r.offset_ns);
        CHECK(xvt_runstate_area(0) && xvt_time_area(0));
        CHECK(pvh || (remaps == 2 && xvt_periodic_ns(0) == 0));
        CHECK_ERR(xenvcpu_timer_driver_start(&timers, 0), XENVCPU_OK);
        while (xenvcpu_timer_driver_now(&timers) < deadline + 1000000) {
            xvt_advance(500000);
            CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK);
        }
        CHECK(fa.count == 1 && fa.now >= deadline);
        CHECK_ERR(xenvcpu_domain_resumed(&dom, NULL, before, NULL), XENVCPU_INVALID_ARGUMENT);
    }
}

/* --- what a kernel keeps: its page, vector, dispatch and idle -------------- */

static void test_kernel_owned(void)
{
    struct fired f = {0, 0, 0, NULL};
    uint32_t port, handled = 0;
    bool on;
    fresh_domain(0, 2, 0, true); /* the simulator's virtual time is the clock */

    /* The hypercall page: a host process cannot write the MSR. */
    CHECK_ERR(xenvcpu_hypercall_page_install(0x1000), XENVCPU_UNSUPPORTED);
    CHECK_ERR(xenvcpu_hypercall_page_install(0x1008), XENVCPU_AREA_MISALIGNED);
    /* HVM params on a PV domain: Xen's -EINVAL; bad vectors never reach Xen. */
    CHECK_ERR(xenvcpu_hvm_set_callback_vector(0xf3), XENVCPU_EINVAL);
    CHECK_ERR(xenvcpu_hvm_set_callback_vector(0x0e), XENVCPU_INVALID_ARGUMENT);

    /* Upcall masking on PV: the vcpu_info mask, nested. */
    on = xenvcpu_upcalls_off(&dom);
    CHECK(!xenvcpu_upcalls_off(&dom));    /* already off */
    xenvcpu_upcalls_restore(&dom, false); /* inner section: stays off */
    CHECK(!xenvcpu_upcalls_on(&dom));     /* it was off */
    CHECK(xenvcpu_upcalls_on(&dom));      /* now on */
    xenvcpu_upcalls_restore(&dom, on);

    /* The kernel binds VIRQ_TIMER itself and hands the port to the driver. */
    port = xvt_bind_virq_raw(XENVCPU_VIRQ_TIMER, 0);
    CHECK(port != 0);
    CHECK_ERR(xenvcpu_timer_driver_init(&timers, &dom, NULL), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_attach(&timers, 0, 0), XENVCPU_PORT_OUT_OF_RANGE);
    CHECK_ERR(xenvcpu_timer_driver_attach(&timers, 0, 4096), XENVCPU_PORT_OUT_OF_RANGE);
    CHECK_ERR(xenvcpu_timer_driver_attach(&timers, 1, port), XENVCPU_NOT_CURRENT_VCPU);
    CHECK_ERR(xenvcpu_timer_driver_attach(&timers, 0, port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_start(&timers, 0), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_init(&timer_a, on_timer, &f), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_arm_after(&timers, 0, &timer_a, 1000000, 0), XENVCPU_OK);
    xvt_advance(1000000);
    CHECK(xvt_port_pending(port)); /* Xen raised the kernel's port */
    xvt_clear_port(port);
    xenvcpu_timer_driver_handle_event(&timers, 0); /* the kernel's handler */
    CHECK(f.count == 1 && !xenvcpu_timer_armed(&timer_a));
    /* The library's dispatch knows nothing of that port. */
    CHECK_ERR(xenvcpu_events_dispatch(&dom, 0, 0, &handled, NULL), XENVCPU_OK);
    CHECK(handled == 0);

    /* An overdue timer whose event was lost: idle self-injects through the
     * kernel's port instead of sleeping. */
    CHECK_ERR(xenvcpu_timer_driver_arm_after(&timers, 0, &timer_a, 1000, 0), XENVCPU_OK);
    xvt_advance(1000);
    xvt_clear_port(port);
    (void)xenvcpu_upcalls_off(&dom);
    CHECK_ERR(xenvcpu_timer_driver_idle(&timers, 0), XENVCPU_OK);
    CHECK(xvt_port_pending(port));
    xvt_clear_port(port);
    xenvcpu_timer_driver_handle_event(&timers, 0);
    CHECK(f.count == 2);

    /* safe_halt: sleeps (SCHEDOP_block moves virtual time) until the next
     * event, and returns with upcalls off again. */
    CHECK_ERR(xenvcpu_timer_driver_arm_after(&timers, 0, &timer_a, 3000000, 0), XENVCPU_OK);
    {
        const uint64_t deadline = xvt_now() + 3000000;
        CHECK_ERR(xenvcpu_safe_halt(&dom), XENVCPU_OK);
        CHECK(xvt_now() >= deadline && xvt_port_pending(port));
    }
    CHECK(!xenvcpu_upcalls_off(&dom));
    (void)xenvcpu_upcalls_on(&dom);

    /* Bound through the library, the driver refuses a second owner. */
    fresh_domain(0, 2, 0, true);
    CHECK_ERR(xenvcpu_timer_driver_init(&timers, &dom, NULL), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_bind(&timers, 0, &port), XENVCPU_OK);
    CHECK_ERR(xenvcpu_timer_driver_attach(&timers, 0, port), XENVCPU_INVALID_ARGUMENT);

    /* PVH: the callback vector and a vCPU's own vector. */
    fresh_domain(1, 2, 0, false);
    CHECK_ERR(xenvcpu_hvm_set_callback_vector(0xf3), XENVCPU_OK);
    CHECK_ERR(xenvcpu_hvm_set_upcall_vector(&dom, 1, 0xf3), XENVCPU_OK);
    CHECK_ERR(xenvcpu_hvm_set_upcall_vector(&dom, 1, 0x02), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_hvm_set_upcall_vector(&dom, 9, 0xf3), XENVCPU_VCPU_OUT_OF_RANGE);
}

/* --- PV: the p2m frame lists ------------------------------------------------ */

static xenvcpu_p2m_page p2m_pages[3];
static xenvcpu_p2m_page p2m_list_list, p2m_lists[1];

static void test_p2m(void)
{
    /* frame_of is the test's (address >> 12): the lists name the pages by it. */
    fresh_domain(0, 1, 0, false);
    CHECK_ERR(xenvcpu_pv_publish_p2m(&dom, p2m_pages[0].mfn, 3 * 512, &p2m_list_list, p2m_lists, 1), XENVCPU_OK);
    CHECK(p2m_lists[0].mfn[0] == hook_frame_of(&k, &p2m_pages[0]) &&
          p2m_lists[0].mfn[2] == hook_frame_of(&k, &p2m_pages[2]));
    CHECK(p2m_lists[0].mfn[3] == 0 && p2m_list_list.mfn[0] == hook_frame_of(&k, &p2m_lists[0]));
    CHECK_ERR(xenvcpu_pv_publish_p2m(&dom, p2m_pages[0].mfn + 1, 512, &p2m_list_list, p2m_lists, 1),
              XENVCPU_AREA_MISALIGNED);
    CHECK_ERR(xenvcpu_pv_publish_p2m(&dom, p2m_pages[0].mfn, 513 * 512, &p2m_list_list, p2m_lists, 1),
              XENVCPU_NO_SPACE);
    CHECK_ERR(xenvcpu_pv_publish_p2m(&dom, p2m_pages[0].mfn, 512, NULL, p2m_lists, 1), XENVCPU_INVALID_ARGUMENT);
    fresh_domain(1, 1, 0, false);
    CHECK_ERR(xenvcpu_pv_publish_p2m(&dom, p2m_pages[0].mfn, 512, &p2m_list_list, p2m_lists, 1), XENVCPU_UNSUPPORTED);
}

/* --- batched through multicall: vcpu_info, IPIs, initialise ---------------- */

static void test_batched(void)
{
    struct seen ipi = {0, 0, 0};
    const uint32_t vs[4] = {1, 2, 3, 9}; /* 9: beyond the domain, never sent */
    xenvcpu_errc errs[4];
    uint32_t got[4] = {0, 0, 0, 0};
    void *ctxs[4] = {&ipi, &ipi, &ipi, &ipi};
    unsigned char contexts[4][128];
    uint32_t failed = 0;
    fresh_domain(1, 4, 1, true);

    /* vcpu_info: vCPU 2 placed before, so nothing is sent for it. */
    CHECK_ERR(xenvcpu_domain_place_vcpu_info(&dom, 2), XENVCPU_OK);
    CHECK_ERR(xenvcpu_domain_place_vcpu_info_many(&dom, vs, 4, errs, &failed), XENVCPU_OK);
    CHECK(failed == 1);
    CHECK(errs[0] == XENVCPU_OK && errs[1] == XENVCPU_OK && errs[2] == XENVCPU_OK &&
          errs[3] == XENVCPU_VCPU_OUT_OF_RANGE);
    CHECK(xvt_vcpuop_calls(10) == 3);
    CHECK(xvt_vcpu_info_registered(1) && xvt_vcpu_info_registered(3));
    CHECK(xenvcpu_domain_vcpu_info(&dom, 3) == (void *)&slots[3]);
    CHECK_ERR(xenvcpu_domain_place_vcpu_info_many(&dom, NULL, 1, errs, NULL), XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_domain_place_vcpu_info_many(&dom, NULL, 0, NULL, NULL), XENVCPU_OK);

    /* IPIs: a port each, bound and unmasked. */
    CHECK_ERR(xenvcpu_events_bind_ipi_many(&dom, vs, 4, on_event, ctxs, got, errs, &failed), XENVCPU_OK);
    CHECK(failed == 1);
    CHECK(errs[0] == XENVCPU_OK && errs[1] == XENVCPU_OK && errs[2] == XENVCPU_OK &&
          errs[3] == XENVCPU_VCPU_OUT_OF_RANGE);
    CHECK(got[0] != 0 && got[0] != got[1] && got[1] != got[2] && got[3] == 0);
    CHECK_ERR(xenvcpu_events_bind_ipi_many(&dom, vs, 1, NULL, ctxs, got, errs, &failed), XENVCPU_OK);
    CHECK(failed == 1 && errs[0] == XENVCPU_INVALID_ARGUMENT);
    CHECK_ERR(xenvcpu_events_bind_ipi_many(&dom, vs, 1, on_event, NULL, got, errs, NULL), XENVCPU_INVALID_ARGUMENT);

    /* Initialise: vCPU 2's context has non-zero padding, refused first. */
    for (int i = 0; i < 4; ++i)
        memcpy(contexts[i], xvt_hvm_context(), sizeof contexts[i]);
    contexts[1][4] = 1;
    CHECK_ERR(xenvcpu_vcpu_initialise_hvm_many(&dom, vs, contexts, 4, errs, &failed), XENVCPU_OK);
    CHECK(failed == 2);
    CHECK(errs[0] == XENVCPU_OK && errs[1] == XENVCPU_INVALID_ARGUMENT && errs[2] == XENVCPU_OK &&
          errs[3] == XENVCPU_VCPU_OUT_OF_RANGE);
    CHECK(xvt_vcpuop_calls(0) == 2);
    CHECK_ERR(xenvcpu_vcpu_initialise_hvm_many(&dom, vs, contexts, 1, errs, NULL), XENVCPU_OK);
    CHECK(errs[0] == XENVCPU_EEXIST); /* Xen's answer, per vCPU */
    CHECK_ERR(xenvcpu_vcpu_initialise_hvm_many(&dom, vs, NULL, 1, errs, NULL), XENVCPU_INVALID_ARGUMENT);
}

int main(void)
{
    test_errors();
    test_domain();
    test_vcpuops();
    test_events();
    test_batched();
    test_smp();
    test_clocks();
    test_timers();
    test_suspend();
    test_kernel_owned();
    test_p2m();
    xvt_sim_stop();
    printf("capi: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
