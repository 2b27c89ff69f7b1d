/**
 * @file tests/xenvcpu-smp/main.c
 * @ref test-xenvcpu-smp
 *
 * @page test-xenvcpu-smp xenvcpu SMP
 *
 * Drives every vCPU of the domain through xenvcpu's C API (xenvcpu.h), a
 * library linked into this XTF test: SMP bring-up (serial, then parallel),
 * cross-CPU calls, tickless timers on every vCPU, the system clock read
 * across vCPUs, steal time, hotplug cycles, and all 16 VCPUOPs with the
 * outcome docs/vcpuop.md gives for this guest type and Xen version.
 *
 * Needs 4 vCPUs or more, as dom0 (get_physid answers only a hardware
 * domain with pinned vCPUs). XTF itself has no SMP: this file brings each
 * AP up on a stack of its own and tells vCPUs apart by their stack.
 */
#include <xtf.h>

#include <arch/mm.h>
#include <arch/msr.h>
#include <arch/idt.h>

#include <xenvcpu.h>

const char test_title[] = "xenvcpu SMP, timers, clock, steal, hotplug, VCPUOPs";

/* ---------------------------------------------------------------------------
 * Sizes. PV: everything lives in the image (Xen maps all of it). HVM/PVH: the
 * image must end below 2 MiB (XTF's l1_identmap), so the per-vCPU blocks live
 * in RAM above it, which XTF maps with 2 MiB pages.
 */
#ifdef CONFIG_PV
# ifndef MAX_VCPUS
#  define MAX_VCPUS 2048               /* 2-level event channels: 2 ports each */
# endif
#else
# undef MAX_VCPUS
# define MAX_VCPUS 128                 /* Xen's cap for a PVH dom0 */
# define HIGH_BASE (4UL << 20)         /* per-vCPU blocks from 4 MiB */
#endif
#define STACK_SIZE 8192UL              /* per AP; a power of two */
#define NR_PORTS 4096                  /* all 2-level ports: 2 per vCPU (timer, call IPI) */
#define UPCALL_VECTOR 0xf0             /* PVH: the event callback vector */

/* Xen ABI bits XTF's headers do not carry. */
#define OP_UP 1
#define OP_IS_UP 3
#define OP_SET_SINGLESHOT 8
#define OP_STOP_SINGLESHOT 9
#define OP_SEND_NMI 11
#define OP_SET_PERIODIC 6
#define XENVER_GET_FEATURES 6

void entry_EVTCHN(void);               /* XTF's upcall entry (entry_64.S) */

/* ---------------------------------------------------------------------------
 * The library's storage.
 */
static xenvcpu_domain dom;
static xenvcpu_event_slot ports[NR_PORTS];
static xenvcpu_smp smp;
static xenvcpu_smp_scratch scratch;
static xenvcpu_timer_driver td;
static xenvcpu_vcpu_info_area spare_vcpu_info;
static xenvcpu_time_area time_va, time_pa;
static xenvcpu_runstate_area runstate_va, runstate_pa;

#ifdef CONFIG_PV
static xenvcpu_vcpu_slot slot_store[MAX_VCPUS];
static uint8_t stack_store[MAX_VCPUS][STACK_SIZE] __aligned(STACK_SIZE);
static xenvcpu_vcpu_slot *slots = slot_store;
static uint8_t *stacks = &stack_store[0][0];
static uint8_t pv_context[XENVCPU_SMP_SCRATCH_SIZE] __aligned(8);
#else
static xenvcpu_vcpu_slot *slots;
static uint8_t *stacks;
static uint32_t hvm_context[64];       /* struct vcpu_hvm_context and room */
#endif

static bool domain_ready;
static uint32_t nr_vcpus;              /* vCPUs the test drives */
static unsigned int xen_major, xen_minor;
static unsigned int failures, passes;

/* Per-vCPU test state (small: it stays in the image). */
struct percpu {
    xenvcpu_timer timer[3];
    volatile uint64_t deadline[3];
    volatile uint64_t fired_now[3];
    volatile uint64_t fired_late_read[3];
    volatile uint32_t fired[3];
    volatile uint32_t fired_on[3];
    volatile bool timers_started;
    volatile uint32_t call_seen;
    volatile uint64_t upcalls;
    volatile uint32_t clock_backwards;
    volatile uint32_t clock_reads;
};
static struct percpu pcpu[MAX_VCPUS];

static volatile uint64_t clock_high;   /* highest clock reading any vCPU published */
static volatile uint32_t nmis;

/* ---------------------------------------------------------------------------
 * Reporting: every check ends in xtf_failure() or counts as passed; the
 * final xtf_success() only turns into "SUCCESS" when nothing failed.
 */
static bool check(bool ok, const char *what, long got)
{
    if ( ok )
    {
        passes++;
        printk("  ok   %s (%ld)\n", what, got);
    }
    else
    {
        failures++;
        xtf_failure("Fail: %s (got %ld)\n", what, got);
    }
    return ok;
}

static bool check_errc(xenvcpu_errc got, xenvcpu_errc want, const char *what)
{
    bool ok = got == want;

    if ( ok )
    {
        passes++;
        printk("  ok   %s = %s\n", what, xenvcpu_errc_name(got));
    }
    else
    {
        failures++;
        xtf_failure("Fail: %s = %s, want %s\n", what,
                    xenvcpu_errc_name(got), xenvcpu_errc_name(want));
    }
    return ok;
}

static bool xen_at_least(unsigned int major, unsigned int minor)
{
    return xen_major > major || (xen_major == major && xen_minor >= minor);
}

void xenvcpu_panic(const char *message)
{
    panic("xenvcpu: %s\n", message);
}

/* ---------------------------------------------------------------------------
 * Hooks. A vCPU is known by its stack: AP v runs on stacks[v], vCPU 0 on
 * XTF's boot stack (interrupts and upcalls arrive on the current stack,
 * PV and PVH alike, since everything runs in kernel mode).
 */
static uint32_t this_vcpu(void)
{
    unsigned long sp = (unsigned long)__builtin_frame_address(0);
    unsigned long lo = (unsigned long)stacks;

    if ( stacks && sp >= lo && sp < lo + MAX_VCPUS * STACK_SIZE )
        return (sp - lo) / STACK_SIZE;
    return 0;
}

static uint32_t hook_current(void *ctx)
{
    return this_vcpu();
}

static uint64_t hook_frame_of(void *ctx, const void *p)
{
    return virt_to_gfn(p);             /* PV: MFN; PVH: GFN == PFN */
}

static xenvcpu_ap_stack hook_ap_stack(void *ctx, uint32_t v)
{
    xenvcpu_ap_stack s = {
        .stack_top = (uint64_t)(stacks + (v + 1) * STACK_SIZE),
        .arg = v,
        .gs_base = 0,
    };
    return s;
}

static void hook_log(void *ctx, const char *text, size_t len)
{
    printk("xenvcpu: %.*s\n", (int)len, text);
}

static void hook_before_park(void *ctx, uint32_t v)
{
    if ( pcpu[v].timers_started )
        (void)xenvcpu_timer_driver_stop(&td, v);
}

static void hook_after_resume(void *ctx, uint32_t v)
{
    if ( pcpu[v].timers_started )
        (void)xenvcpu_timer_driver_start(&td, v);
}

/* ---------------------------------------------------------------------------
 * Upcalls: the library holds them off (PV: vcpu_info's mask; PVH: RFLAGS.IF)
 * and sleeps without losing one.
 */
static void upcalls_off(void)
{
    (void)xenvcpu_upcalls_off(&dom);
}

static void upcalls_on(void)
{
    (void)xenvcpu_upcalls_on(&dom);
}

static void idle_once(uint32_t v)
{
    if ( pcpu[v].timers_started )
        (void)xenvcpu_timer_driver_idle(&td, v);
    else
        (void)xenvcpu_safe_halt(&dom);
}

/* XTF's upcall entry (PV event callback; PVH callback vector) lands here. */
void do_evtchn(struct cpu_regs *regs)
{
    uint32_t v = this_vcpu();

    pcpu[v].upcalls++;
    if ( domain_ready )
        (void)xenvcpu_events_dispatch(&dom, v, 0, NULL, NULL);
}

/* NMIs sent by the VCPUOP checks arrive as an exception XTF leaves to us. */
bool do_unhandled_exception(struct cpu_regs *regs)
{
    if ( regs->entry_vector == X86_EXC_NMI )
    {
        __atomic_add_fetch(&nmis, 1, __ATOMIC_SEQ_CST);
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------
 * AP entry. Xen starts AP v at ap_entry_stub with rdi = its handshake and rsp
 * = the top of stacks[v]. PV: the trap table, callbacks and flat selectors
 * come from the context. PVH: no GDT, IDT or TR yet: load XTF's GDT and IDT
 * (shared by all vCPUs; APs take no ring change, so need no TSS) first.
 */
asm (".pushsection .text, \"ax\", @progbits\n"
     ".globl ap_entry_stub\n"
     "ap_entry_stub:\n"
     "    cld\n"
     "    movl $1, 0(%rdi)\n"                 /* handshake stage: entered */
#ifdef CONFIG_HVM
     "    lgdt gdt_ptr(%rip)\n"
     "    lidt idt_ptr(%rip)\n"
     "    pushq $8\n"                         /* __KERN_CS */
     "    leaq 1f(%rip), %rax\n"
     "    pushq %rax\n"
     "    lretq\n"
     "1:  xorl %eax, %eax\n"                  /* __KERN_DS */
     "    movl %eax, %ss\n"
     "    movl %eax, %ds\n"
     "    movl %eax, %es\n"
     "    movl %eax, %fs\n"
     "    movl %eax, %gs\n"
#endif
     "    xorl %ebp, %ebp\n"
     "    call *24(%rdi)\n"                   /* the handshake's entry */
     "2:  ud2\n"
     "    jmp 2b\n"
     ".popsection\n");
void ap_entry_stub(void);

#ifdef CONFIG_PV
/* PV failsafe callback: Xen could not load a segment on the way back. */
void __noreturn failsafe_hit(void)
{
    panic("PV failsafe callback on vCPU %u\n", this_vcpu());
}
asm (".pushsection .text, \"ax\", @progbits\n"
     ".globl failsafe_stub\n"
     "failsafe_stub:\n"
     "    andq $~15, %rsp\n"
     "    call failsafe_hit\n"
     ".popsection\n");
void failsafe_stub(void);
#endif

static void __noreturn ap_main(xenvcpu_ap_handshake *hs)
{
    uint32_t v = hs->vcpu;

    xenvcpu_smp_ap_online(&smp, v);
    for ( ;; )
    {
        upcalls_on();
        while ( xenvcpu_smp_service(&smp, v) != XENVCPU_SERVED_NOTHING )
            ;
        upcalls_off();
        if ( !xenvcpu_smp_pending(&smp, v) )
            idle_once(v);
    }
}

/* ---------------------------------------------------------------------------
 * Waiting on vCPU 0: sleep in the timer driver with a short wake-up timer,
 * so vCPU 0's own timers run while it waits.
 */
static xenvcpu_timer wake_timer;
static void on_wake(xenvcpu_timer *t, uint32_t self, uint64_t now, void *ctx) { }

static uint64_t now_ns(void)
{
    return xenvcpu_domain_now(&dom);
}

static void pause_on_vcpu0(uint64_t ns)
{
    upcalls_off();
    (void)xenvcpu_timer_driver_cancel(&td, 0, &wake_timer, NULL);
    (void)xenvcpu_timer_driver_arm_after(&td, 0, &wake_timer, ns, 0);
    (void)xenvcpu_timer_driver_idle(&td, 0);
    upcalls_on();
}

static const xenvcpu_wait_bound long_bound = {
    .timeout_ns = 60000000000ULL, .max_polls = 2000000000ULL,
};

/* ---------------------------------------------------------------------------
 * Set-up on vCPU 0.
 */
#ifdef CONFIG_HVM
/*
 * Is every page of [base, base + len) RAM? HVMOP_get_mem_type per page: a
 * PVH dom0's start info carries no memory map (version 0) and
 * XENMEM_memory_map answers -ENOSYS there (both seen on Xen 4.17).
 */
static bool is_ram(uint64_t base, uint64_t len)
{
    for ( uint64_t pa = base; pa < base + len; pa += PAGE_SIZE )
    {
        struct { uint16_t domid, mem_type, pad[2]; uint64_t pfn; } mt = {
            .domid = DOMID_SELF, .pfn = pa >> PAGE_SHIFT,
        };
        long rc = hypercall_hvm_op(15 /* HVMOP_get_mem_type */, &mt);

        if ( rc || mt.mem_type != 0 /* HVMMEM_ram_rw */ )
        {
            printk("page %#lx: HVMOP_get_mem_type %ld, type %u\n",
                   (unsigned long)pa, rc, mt.mem_type);
            return false;
        }
    }
    return true;
}
#endif

static void setup_domain(void)
{
    xenvcpu_domain_config cfg;
    uint32_t count = 0;
    long ver = hypercall_xen_version(XENVER_version, NULL);
    struct { uint32_t idx, map; } fi = { 0, 0 };

    xen_major = ver >> 16;
    xen_minor = ver & 0xffff;
    hypercall_xen_version(XENVER_GET_FEATURES, &fi);
    printk("Xen %u.%u, features %#x, %s\n", xen_major, xen_minor, fi.map,
           IS_DEFINED(CONFIG_PV) ? "PV" : "PVH");

#ifdef CONFIG_HVM
    {
        uint64_t len = MAX_VCPUS * (sizeof(xenvcpu_vcpu_slot) + STACK_SIZE);

        if ( !is_ram(HIGH_BASE, len) )
            panic("No RAM at %#lx..%#lx for the per-vCPU blocks\n",
                  HIGH_BASE, (unsigned long)(HIGH_BASE + len));
        stacks = (uint8_t *)HIGH_BASE;
        slots = (xenvcpu_vcpu_slot *)(HIGH_BASE + MAX_VCPUS * STACK_SIZE);
        memset(stacks, 0, len);        /* the slots start zeroed */
    }
#endif

    memset(&cfg, 0, sizeof(cfg));
    cfg.kind = IS_DEFINED(CONFIG_PV) ? XENVCPU_GUEST_PV : XENVCPU_GUEST_PVH;
    cfg.shared_info = &shared_info;
    cfg.features = fi.map;
    cfg.hooks.current = hook_current;
    cfg.hooks.frame_of = hook_frame_of;
    cfg.hooks.ap_stack = hook_ap_stack;
    cfg.hooks.log = hook_log;
    cfg.hooks.before_park = hook_before_park;
    cfg.hooks.after_resume = hook_after_resume;

    if ( xenvcpu_domain_init(&dom, &cfg, slots, MAX_VCPUS, ports, NR_PORTS) )
        panic("xenvcpu_domain_init failed\n");
    check_errc(xenvcpu_domain_discover(&dom, XENVCPU_MAX_PROBED_VCPUS, &count),
               XENVCPU_OK, "discover");
    nr_vcpus = xenvcpu_domain_managed(&dom);
    printk("vCPUs: %u in the domain, %u driven (room for %u)\n",
           count, nr_vcpus, MAX_VCPUS);
    check(count == nr_vcpus, "every vCPU of the domain has a slot", count);
    if ( nr_vcpus < 4 )
        panic("needs at least 4 vCPUs, has %u\n", nr_vcpus);

    xenvcpu_events_mask_all(&dom);
    domain_ready = true;

#ifdef CONFIG_HVM
    {
        struct xtf_idte idte = {
            .addr = (unsigned long)entry_EVTCHN, .cs = __KERN_CS, .dpl = 0,
        };

        xtf_set_idte(UPCALL_VECTOR, &idte);
        check_errc(xenvcpu_hvm_set_callback_vector(UPCALL_VECTOR), XENVCPU_OK,
                   "callback vector for every vCPU");
    }
#endif
}

static volatile uint32_t timer_start_errors;

/* Bind VIRQ_TIMER to the driver and start it on the calling vCPU. */
static void start_timers_here(void)
{
    uint32_t v = this_vcpu();
    xenvcpu_errc b, st;

    upcalls_off();
    b = xenvcpu_timer_driver_bind(&td, v, NULL);
    st = b ? b : xenvcpu_timer_driver_start(&td, v);
    if ( st )
    {
        __atomic_add_fetch(&timer_start_errors, 1, __ATOMIC_SEQ_CST);
        printk("vCPU %u: timer %s = %s\n", v, b ? "bind" : "start", xenvcpu_errc_name(st));
    }
    else
        pcpu[v].timers_started = true;
    upcalls_on();
}

/* ---------------------------------------------------------------------------
 * VCPUOPs before any AP runs (docs/vcpuop.md).
 */
static void vcpuops_early(void)
{
    bool up = false;
    xenvcpu_runstate_info rs;
    xenvcpu_physid pid;
    long raw;
    uint32_t n = nr_vcpus;

    printk("VCPUOPs, before bring-up\n");

    /* 3 is_up */
    check_errc(xenvcpu_vcpu_is_up(&dom, 0, &up), XENVCPU_OK, "is_up(0)");
    check(up, "is_up(0) says up", up);
    check_errc(xenvcpu_vcpu_is_up(&dom, 1, &up), XENVCPU_OK, "is_up(1)");
    check(!up, "is_up(1) says down before bring-up", up);
    check_errc(xenvcpu_vcpu_is_up(&dom, n, &up), XENVCPU_VCPU_OUT_OF_RANGE,
               "is_up(n) refused by the library");
    raw = hypercall_vcpu_op(OP_IS_UP, n, NULL);
    check(raw == -ENOENT, "is_up(n) from Xen = -ENOENT", raw);

    /* 4 get_runstate_info */
    check_errc(xenvcpu_vcpu_get_runstate_info(&dom, 0, &rs), XENVCPU_OK,
               "get_runstate_info(0)");
    check(rs.state == XENVCPU_RUNSTATE_RUNNING && rs.time[0] > 0,
          "vCPU 0 running, run time > 0", rs.state);
    check_errc(xenvcpu_vcpu_get_runstate_info(&dom, 1, &rs), XENVCPU_OK,
               "get_runstate_info(1)");
    check(rs.state == XENVCPU_RUNSTATE_OFFLINE, "vCPU 1 offline", rs.state);

    /* 5 register_runstate_memory_area (virtual) */
    check_errc(xenvcpu_vcpu_register_runstate_memory_area(&dom, 0, &runstate_va),
               XENVCPU_OK, "register_runstate_memory_area(0)");
    hypercall_yield();
    check(runstate_va.info.state == XENVCPU_RUNSTATE_RUNNING &&
          (runstate_va.info.state_entry_time & ~(1ULL << 63)) > 0,
          "Xen keeps the runstate area current", runstate_va.info.state);

    /* 6 set_periodic_timer, 7 stop_periodic_timer */
    check_errc(xenvcpu_vcpu_set_periodic_timer(&dom, 0, 500000),
               XENVCPU_PERIOD_TOO_SHORT, "set_periodic_timer(0, 500 us)");
    {
        uint64_t too_short = 500000;

        raw = hypercall_vcpu_op(OP_SET_PERIODIC, 0, &too_short);
        check(raw == -EINVAL, "set_periodic_timer(0, 500 us) from Xen = -EINVAL", raw);
    }
    check_errc(xenvcpu_vcpu_set_periodic_timer(&dom, 0, 10000000), XENVCPU_OK,
               "set_periodic_timer(0, 10 ms)");
    check_errc(xenvcpu_vcpu_stop_periodic_timer(&dom, 0), XENVCPU_OK,
               "stop_periodic_timer(0)");

    /* 8 set_singleshot_timer, 9 stop_singleshot_timer */
    check_errc(xenvcpu_vcpu_set_singleshot_timer(&dom, 0, now_ns() + 1000000000ULL),
               XENVCPU_OK, "set_singleshot_timer(0, +1 s)");
    check_errc(xenvcpu_vcpu_stop_singleshot_timer(&dom, 0), XENVCPU_OK,
               "stop_singleshot_timer(0)");
    check_errc(xenvcpu_vcpu_set_singleshot_timer(&dom, 1, now_ns() + 1000000ULL),
               XENVCPU_NOT_CURRENT_VCPU, "set_singleshot_timer(1) from vCPU 0");
    {
        struct { uint64_t t; uint32_t flags, pad; } sst = { now_ns() + 1000000ULL, 0, 0 };

        raw = hypercall_vcpu_op(OP_SET_SINGLESHOT, 1, &sst);
        check(raw == -EINVAL, "set_singleshot_timer(1) from Xen = -EINVAL", raw);
    }
    check_errc(xenvcpu_vcpu_stop_singleshot_timer(&dom, 1),
               XENVCPU_NOT_CURRENT_VCPU, "stop_singleshot_timer(1) from vCPU 0");
    raw = hypercall_vcpu_op(OP_STOP_SINGLESHOT, 1, NULL);
    check(raw == -EINVAL, "stop_singleshot_timer(1) from Xen = -EINVAL", raw);

    /* 0 initialise: vCPU 0 was initialised by the domain builder. */
#ifdef CONFIG_PV
    check_errc(xenvcpu_vcpu_initialise_pv(&dom, 0, pv_context), XENVCPU_EEXIST,
               "initialise(0)");
#else
    memset(hvm_context, 0, sizeof(hvm_context));
    hvm_context[0] = 1;                /* VCPU_HVM_MODE_64B */
    check_errc(xenvcpu_vcpu_initialise_hvm(&dom, 0, hvm_context), XENVCPU_EEXIST,
               "initialise(0)");
#endif

    /* 1 up: vCPU 1 has never been initialised. */
    check_errc(xenvcpu_vcpu_up(&dom, 1), XENVCPU_EINVAL, "up(1) before initialise");
    raw = hypercall_vcpu_op(OP_UP, n, NULL);
    check(raw == -ENOENT, "up(n) from Xen = -ENOENT", raw);

    /* 2 down: the only vCPU up would power the domain off. */
    check_errc(xenvcpu_vcpu_down(&dom, 0), XENVCPU_LAST_VCPU, "down(0) while alone");
    check_errc(xenvcpu_vcpu_down(&dom, n), XENVCPU_VCPU_OUT_OF_RANGE, "down(n)");

    /* 11 send_nmi: to ourselves (a down PVH vCPU would triple-fault on it). */
    check_errc(xenvcpu_vcpu_send_nmi(&dom, 0), XENVCPU_OK, "send_nmi(0)");
    for ( unsigned int i = 0; i < 1000 && !nmis; ++i )
        hypercall_xen_version(XENVER_version, NULL);
    check(nmis == 1, "the NMI was taken once", nmis);
    raw = hypercall_vcpu_op(OP_SEND_NMI, n, NULL);
    check(raw == -ENOENT, "send_nmi(n) from Xen = -ENOENT", raw);

    /* 12 get_physid: answered for a hardware domain with pinned vCPUs. */
    check_errc(xenvcpu_vcpu_get_physid(&dom, 0, &pid), XENVCPU_OK, "get_physid(0)");

    /* 13 register_vcpu_time_memory_area */
    check_errc(xenvcpu_vcpu_register_vcpu_time_memory_area(&dom, 0, &time_va),
               XENVCPU_OK, "register_vcpu_time_memory_area(0)");
    hypercall_yield();
    check(time_va.info.system_time > 0 && !(time_va.info.version & 1),
          "the second pvclock record is written", (long)time_va.info.version);
}

/* 14 and 15 last: a physical runstate area replaces the virtual ones. */
static void vcpuops_late(void)
{
    xenvcpu_errc want = xen_at_least(4, 18) ? XENVCPU_OK : XENVCPU_ENOSYS;
    uint64_t pa_rs = (hook_frame_of(NULL, &runstate_pa) << PAGE_SHIFT) |
                     ((unsigned long)&runstate_pa & ~PAGE_MASK);
    uint64_t pa_t = (hook_frame_of(NULL, &time_pa) << PAGE_SHIFT) |
                    ((unsigned long)&time_pa & ~PAGE_MASK);

    printk("VCPUOPs, physical areas (Xen %u.%u)\n", xen_major, xen_minor);
    check_errc(xenvcpu_vcpu_register_runstate_phys_area(&dom, 0, &runstate_pa, pa_rs),
               want, "register_runstate_phys_area(0)");
    check_errc(xenvcpu_vcpu_register_vcpu_time_phys_area(&dom, 0, &time_pa, pa_t),
               want, "register_vcpu_time_phys_area(0)");
    if ( want == XENVCPU_OK )
    {
        hypercall_yield();
        check(runstate_pa.info.state == XENVCPU_RUNSTATE_RUNNING &&
              runstate_pa.info.state_entry_time > 0,
              "Xen writes the physical runstate area", runstate_pa.info.state);
        check(time_pa.info.system_time > 0, "Xen writes the physical time area",
              (long)(time_pa.info.system_time > 0));
    }
}

/* ---------------------------------------------------------------------------
 * SMP bring-up: vCPUs 1..2 one at a time, the rest in parallel.
 */
static void bring_up(void)
{
    xenvcpu_smp_config c;
    xenvcpu_bring_up_report rep;
    uint32_t serial = 3, online = 0;
    uint64_t t0;

    memset(&c, 0, sizeof(c));
#ifdef CONFIG_PV
    {
        extern struct xen_trap_info pv_default_trap_info[];

        c.pv.cr3 = read_cr3();
        c.pv.trap_table = pv_default_trap_info;
        c.pv.event_callback = (unsigned long)entry_EVTCHN;
        c.pv.failsafe_callback = (unsigned long)failsafe_stub;
    }
#else
    c.hvm.cr0 = read_cr0();
    c.hvm.cr3 = read_cr3();
    c.hvm.cr4 = read_cr4();
    c.hvm.efer = rdmsr(MSR_EFER);
#endif
    c.entry_stub = (unsigned long)ap_entry_stub;
    c.ap_entry = ap_main;
    c.placement = XENVCPU_VCPU_INFO_EVERY_AP;

    printk("Bring-up of %u APs\n", nr_vcpus - 1);
    if ( !check_errc(xenvcpu_smp_init(&smp, &dom, &c, &scratch), XENVCPU_OK, "smp_init") )
        return;

    t0 = now_ns();
    for ( uint32_t v = 1; v < serial; ++v )
    {
        xenvcpu_errc e = xenvcpu_smp_prepare(&smp, v);

        if ( !e )
            e = xenvcpu_smp_start(&smp, v);
        if ( !e )
            e = xenvcpu_smp_await_online(&smp, v, &long_bound);
        check_errc(e, XENVCPU_OK, "serial bring-up of one AP");
    }
    printk("serial: %u APs in %lu us\n", serial - 1,
           (unsigned long)((now_ns() - t0) / 1000));

    xenvcpu_smp_bring_up(&smp, XENVCPU_BRING_UP_PARALLEL, &long_bound, &rep);
    printk("parallel: %u online, %u failed, %lu us (prepare %lu us, start %lu us)\n",
           rep.online, rep.failed, (unsigned long)(rep.total_ns / 1000),
           (unsigned long)(rep.prepare_phase_ns / 1000),
           (unsigned long)(rep.start_phase_ns / 1000));
    check(rep.failed == 0, "no AP failed to come up", rep.failed);
    if ( rep.failed )
        printk("first error: %s\n", xenvcpu_errc_name(rep.first_error));
    for ( uint32_t v = 0; v < nr_vcpus; ++v )
        online += xenvcpu_smp_state(&smp, v) == XENVCPU_CPU_ONLINE;
    check(online == nr_vcpus && xenvcpu_smp_online_count(&smp) == nr_vcpus,
          "every vCPU online", online);
}

/* ---------------------------------------------------------------------------
 * Cross-CPU calls.
 */
static void call_note_self(void *arg)
{
    uint32_t v = (uint32_t)(unsigned long)arg;

    pcpu[v].call_seen = this_vcpu() + 1;
}

static void test_calls(void)
{
    uint32_t right = 0;
    static xenvcpu_call_ticket tk[MAX_VCPUS];
    bool posted = true;

    printk("Cross-CPU calls\n");
    for ( uint32_t v = 1; v < nr_vcpus; ++v )
        if ( xenvcpu_smp_call(&smp, v, call_note_self, (void *)(unsigned long)v,
                              &long_bound) == XENVCPU_OK &&
             pcpu[v].call_seen == v + 1 )
            right++;
    check(right == nr_vcpus - 1, "smp_call ran on the vCPU it named, each AP", right);

    for ( uint32_t v = 1; v < nr_vcpus; ++v )
    {
        pcpu[v].call_seen = 0;
        posted &= xenvcpu_smp_post(&smp, v, call_note_self, (void *)(unsigned long)v,
                                   &long_bound, &tk[v]) == XENVCPU_OK;
    }
    right = 0;
    for ( uint32_t v = 1; v < nr_vcpus; ++v )
        if ( xenvcpu_smp_wait_call(&smp, tk[v], &long_bound) == XENVCPU_OK &&
             pcpu[v].call_seen == v + 1 )
            right++;
    check(posted && right == nr_vcpus - 1, "post to every AP, then wait for all", right);
}

/* Run fn(arg) on every vCPU at once (vCPU 0 included), wait for all. */
static bool on_every_vcpu(void (*fn)(void *), void *arg)
{
    static xenvcpu_call_ticket tk[MAX_VCPUS];
    bool ok = true;

    for ( uint32_t v = 1; v < nr_vcpus; ++v )
        ok &= xenvcpu_smp_post(&smp, v, fn, arg, &long_bound, &tk[v]) == XENVCPU_OK;
    fn(arg);
    for ( uint32_t v = 1; v < nr_vcpus; ++v )
        ok &= xenvcpu_smp_wait_call(&smp, tk[v], &long_bound) == XENVCPU_OK;
    return ok;
}

/* ---------------------------------------------------------------------------
 * Tickless timers on every vCPU: two armed, a third armed and cancelled.
 * None may run before its deadline (by that vCPU's own clock), nor on
 * another vCPU; the cancelled one never runs.
 */
static void on_timer(xenvcpu_timer *t, uint32_t self, uint64_t now, void *ctx)
{
    unsigned long id = (unsigned long)ctx;
    uint32_t v = id >> 2, i = id & 3;

    pcpu[v].fired_now[i] = now;
    pcpu[v].fired_late_read[i] = xenvcpu_timer_driver_now(&td);
    pcpu[v].fired_on[i] = self;
    __atomic_add_fetch(&pcpu[v].fired[i], 1, __ATOMIC_SEQ_CST);
}

static volatile uint32_t arm_errors;

static void arm_here(void *arg)
{
    uint32_t v = this_vcpu();
    static const uint64_t delay[3] = { 3000000, 1000000, 2000000 };
    bool was = false;

    if ( !pcpu[v].timers_started )
        start_timers_here();
    upcalls_off();
    for ( unsigned int i = 0; i < 3; ++i )
    {
        pcpu[v].fired[i] = 0;
        xenvcpu_timer_init(&pcpu[v].timer[i], on_timer, (void *)(unsigned long)(v << 2 | i));
        if ( xenvcpu_timer_driver_arm_after(&td, v, &pcpu[v].timer[i], delay[i] + v * 10000, 0) )
            __atomic_add_fetch(&arm_errors, 1, __ATOMIC_SEQ_CST);
        pcpu[v].deadline[i] = xenvcpu_timer_deadline(&pcpu[v].timer[i]);
    }
    if ( xenvcpu_timer_driver_cancel(&td, v, &pcpu[v].timer[2], &was) || !was )
        __atomic_add_fetch(&arm_errors, 1, __ATOMIC_SEQ_CST);
    upcalls_on();
}

static void test_timers(const char *round)
{
    uint64_t limit;
    uint32_t fired = 0, early = 0, wrong = 0, cancelled_ran = 0, lost = 0;
    uint64_t worst_late = 0;

    printk("Timers on every vCPU (%s)\n", round);
    arm_errors = 0;
    timer_start_errors = 0;
    check(on_every_vcpu(arm_here, NULL), "arm on every vCPU through calls", 0);
    check(timer_start_errors == 0, "timer bind and start on every vCPU that lacked them",
          timer_start_errors);
    check(arm_errors == 0, "arm/cancel answered ok", arm_errors);

    limit = now_ns() + 10000000000ULL;
    for ( ;; )
    {
        fired = 0;
        for ( uint32_t v = 0; v < nr_vcpus; ++v )
            fired += (pcpu[v].fired[0] != 0) + (pcpu[v].fired[1] != 0);
        if ( fired == 2 * nr_vcpus || now_ns() > limit )
            break;
        pause_on_vcpu0(1000000);
    }
    pause_on_vcpu0(5000000);           /* room for a cancelled one to show up */

    for ( uint32_t v = 0; v < nr_vcpus; ++v )
    {
        for ( unsigned int i = 0; i < 2; ++i )
        {
            if ( pcpu[v].fired[i] != 1 )
            {
                lost++;
                continue;
            }
            if ( pcpu[v].fired_now[i] < pcpu[v].deadline[i] ||
                 pcpu[v].fired_late_read[i] < pcpu[v].deadline[i] )
                early++;
            if ( pcpu[v].fired_on[i] != v )
                wrong++;
            if ( pcpu[v].fired_now[i] - pcpu[v].deadline[i] > worst_late )
                worst_late = pcpu[v].fired_now[i] - pcpu[v].deadline[i];
        }
        cancelled_ran += pcpu[v].fired[2];
    }
    check(lost == 0, "every armed timer ran exactly once", lost);
    check(early == 0, "no timer ran before its deadline", early);
    check(wrong == 0, "every timer ran on the vCPU that armed it", wrong);
    check(cancelled_ran == 0, "no cancelled timer ran", cancelled_ran);
    printk("  latest expiry %lu us after its deadline\n", (unsigned long)(worst_late / 1000));
}

/* ---------------------------------------------------------------------------
 * The system clock across vCPUs: every vCPU reads it in a loop at once and
 * publishes its highest reading; a reading below one published before it
 * was taken means time went backwards across vCPUs.
 */
static void clock_loop(void *arg)
{
    uint32_t v = this_vcpu();
    unsigned long n = (unsigned long)arg;

    for ( unsigned long i = 0; i < n; ++i )
    {
        uint64_t seen = __atomic_load_n(&clock_high, __ATOMIC_SEQ_CST);
        uint64_t t = now_ns();
        uint64_t cur = seen;

        if ( t < seen )
            pcpu[v].clock_backwards++;
        while ( t > cur &&
                !__atomic_compare_exchange_n(&clock_high, &cur, t, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) )
            ;
        pcpu[v].clock_reads++;
    }
}

static void test_clock(void)
{
    uint32_t back = 0, reads = 0;
    xenvcpu_clock_reading r;
    xenvcpu_wall_time w;

    printk("System clock across vCPUs\n");
    check(on_every_vcpu(clock_loop, (void *)2000UL), "clock loop on every vCPU", 0);
    for ( uint32_t v = 0; v < nr_vcpus; ++v )
    {
        back += pcpu[v].clock_backwards;
        reads += pcpu[v].clock_reads;
    }
    check(reads == 2000 * nr_vcpus, "readings taken", reads);
    check(back == 0, "no reading below one another vCPU published before", back);
    check_errc(xenvcpu_clock_read(&dom, &r), XENVCPU_OK, "clock_read on vCPU 0");
    printk("  pvclock %s TSC_STABLE\n", r.tsc_stable ? "with" : "without");
    check_errc(xenvcpu_wallclock_now(&dom, &w), XENVCPU_OK, "wallclock_now");
    check(w.sec > 1500000000ULL, "wall clock after 2017", (long)w.sec);
}

/* ---------------------------------------------------------------------------
 * Steal: every vCPU spins for 300 ms of system time. With more vCPUs than
 * pCPUs (dom0_vcpus_pin puts several on one), vCPUs wait runnable: steal.
 */
static void spin(void *arg)
{
    uint64_t end = now_ns() + (unsigned long)arg;

    while ( now_ns() < end )
        asm volatile ("pause");
}

static void test_steal(void)
{
    static xenvcpu_steal_sample before[MAX_VCPUS], after[MAX_VCPUS];
    static uint32_t apic[MAX_VCPUS];
    uint32_t pcpus = 0, unpinned = 0, with_steal = 0, bad = 0, reg_err = 0;
    uint64_t total_steal = 0;
    xenvcpu_area_kind kind = XENVCPU_AREA_NONE;

    printk("Steal time\n");
    for ( uint32_t v = 0; v < nr_vcpus; ++v )
    {
        xenvcpu_physid pid;
        xenvcpu_errc e = xenvcpu_vcpu_get_physid(&dom, v, &pid);
        bool seen = false;

        /*
         * Xen answers only for a vCPU pinned to one pCPU; with more vCPUs
         * than pCPUs, dom0_vcpus_pin leaves the extra ones answering 0
         * with APIC id ~0 (no such pCPU; seen on 4.17 and 4.20).
         */
        apic[v] = e == XENVCPU_OK ? pid.apic_id : ~0u;
        if ( apic[v] == ~0u )
            unpinned++;
        else
        {
            for ( uint32_t u = 0; u < v; ++u )
                seen |= apic[u] == pid.apic_id;
            pcpus += !seen;
        }
        if ( xenvcpu_runstate_register(&dom, v, XENVCPU_PHYS_AREA_NONE, &kind) ||
             xenvcpu_steal_start(&dom, v) ||
             xenvcpu_steal_update(&dom, v, &before[v]) )
            reg_err++;
    }
    check(reg_err == 0, "runstate areas registered (op 5), baselines taken", reg_err);
    check(kind == XENVCPU_AREA_VIRTUAL, "the area is virtual", kind);
    printk("  %u vCPUs: %u pinned over %u pCPUs, %u not pinned to one pCPU\n",
           nr_vcpus, nr_vcpus - unpinned, pcpus, unpinned);

    check(on_every_vcpu(spin, (void *)300000000UL), "spin 300 ms on every vCPU", 0);

    for ( uint32_t v = 0; v < nr_vcpus; ++v )
    {
        if ( xenvcpu_steal_update(&dom, v, &after[v]) ||
             after[v].steal_ns < before[v].steal_ns ||
             after[v].total_ns < before[v].total_ns ||
             after[v].steal_ns - before[v].steal_ns > after[v].total_ns - before[v].total_ns )
        {
            bad++;
            continue;
        }
        total_steal += after[v].steal_ns - before[v].steal_ns;
        with_steal += after[v].steal_ns > before[v].steal_ns;
        if ( v < 8 || v == nr_vcpus - 1 )
            printk("  vCPU %u (APIC id %u): steal %u ppm\n", v, apic[v],
                   xenvcpu_steal_ppm(&before[v], &after[v]));
    }
    check(bad == 0, "samples consistent (steal within total, never shrinking)", bad);
    printk("  %u of %u vCPUs saw steal, %lu us in all\n", with_steal, nr_vcpus,
           (unsigned long)(total_steal / 1000));
    if ( pcpus + unpinned < nr_vcpus || (pcpus && unpinned) )
        check(with_steal > 0 && total_steal > 0,
              "overcommitted: steal seen", with_steal);
    else
        printk("  not overcommitted as far as pinning shows: steal not required\n");
}

/* ---------------------------------------------------------------------------
 * VCPUOPs with APs running: 0, 1, 3 and 10 on an online AP.
 */
static void vcpuops_with_aps(void)
{
    bool up = false;
    xenvcpu_errc want10 = xen_at_least(4, 18) ? XENVCPU_EBUSY : XENVCPU_EINVAL;

    printk("VCPUOPs, APs online\n");
    check_errc(xenvcpu_vcpu_is_up(&dom, 1, &up), XENVCPU_OK, "is_up(1)");
    check(up, "is_up(1) says up", up);
    check_errc(xenvcpu_vcpu_up(&dom, 1), XENVCPU_OK, "up(1) while it runs");
#ifdef CONFIG_PV
    check_errc(xenvcpu_vcpu_initialise_pv(&dom, 1, pv_context), XENVCPU_EEXIST,
               "initialise(1) again");
#else
    check_errc(xenvcpu_vcpu_initialise_hvm(&dom, 1, hvm_context), XENVCPU_EEXIST,
               "initialise(1) again");
#endif
    /* bring-up registered every AP's vcpu_info: Xen takes one per vCPU. */
    check_errc(xenvcpu_vcpu_register_vcpu_info(&dom, 1, &spare_vcpu_info,
                                               hook_frame_of(NULL, &spare_vcpu_info)),
               want10, "register_vcpu_info(1) a second time");
}

/* ---------------------------------------------------------------------------
 * Hotplug: every AP offline and back, several rounds; op 2 (down) on a
 * parked AP answers 0.
 */
static void test_hotplug(unsigned int rounds)
{
    uint32_t off_ok = 0, parked = 0, not_up = 0, down_ok = 0, on_ok = 0, call_ok = 0;
    uint32_t tries = 0, remote_ok = 0, remote_back = 0;
    uint64_t t0 = now_ns();

    printk("Hotplug: %u rounds over %u APs\n", rounds, nr_vcpus - 1);
    for ( unsigned int r = 0; r < rounds; ++r )
        for ( uint32_t v = 1; v < nr_vcpus; ++v )
        {
            bool up = true;

            tries++;
            off_ok += xenvcpu_smp_offline(&smp, v, &long_bound) == XENVCPU_OK;
            parked += xenvcpu_smp_state(&smp, v) == XENVCPU_CPU_PARKED;
            not_up += xenvcpu_vcpu_is_up(&dom, v, &up) == XENVCPU_OK && !up;
            down_ok += xenvcpu_vcpu_down(&dom, v) == XENVCPU_OK;
            on_ok += xenvcpu_smp_online(&smp, v, &long_bound) == XENVCPU_OK;
            pcpu[v].call_seen = 0;
            call_ok += xenvcpu_smp_call(&smp, v, call_note_self, (void *)(unsigned long)v,
                                        &long_bound) == XENVCPU_OK &&
                       pcpu[v].call_seen == v + 1;
        }
    /* Once more each, stopped from outside: offline_remote, then online. */
    for ( uint32_t v = 1; v < nr_vcpus; ++v )
    {
        bool up = true;

        remote_ok += xenvcpu_smp_offline_remote(&smp, v, &long_bound) == XENVCPU_OK &&
                     xenvcpu_vcpu_is_up(&dom, v, &up) == XENVCPU_OK && !up;
        pcpu[v].call_seen = 0;
        remote_back += xenvcpu_smp_online(&smp, v, &long_bound) == XENVCPU_OK &&
                       xenvcpu_smp_call(&smp, v, call_note_self, (void *)(unsigned long)v,
                                        &long_bound) == XENVCPU_OK &&
                       pcpu[v].call_seen == v + 1;
    }
    check(off_ok == tries, "offline", off_ok);
    check(parked == tries, "parked afterwards", parked);
    check(not_up == tries, "is_up says down while parked", not_up);
    check(down_ok == tries, "down of a parked vCPU = 0", down_ok);
    check(on_ok == tries, "online", on_ok);
    check(call_ok == tries, "a call runs on it after it came back", call_ok);
    check(remote_ok == nr_vcpus - 1, "offline_remote: down from vCPU 0", remote_ok);
    check(remote_back == nr_vcpus - 1, "online after offline_remote, and a call runs", remote_back);
    check(xenvcpu_smp_online_count(&smp) == nr_vcpus, "all online at the end",
          xenvcpu_smp_online_count(&smp));
    printk("  %u cycles by parking, %u stopped from outside, in %lu ms\n", tries,
           nr_vcpus - 1, (unsigned long)((now_ns() - t0) / 1000000));
}

void test_main(void)
{
    uint64_t t0;

    setup_domain();
    t0 = now_ns();
    vcpuops_early();

    check_errc(xenvcpu_timer_driver_init(&td, &dom, NULL), XENVCPU_OK, "timer_driver_init");
    xenvcpu_timer_init(&wake_timer, on_wake, NULL);
    start_timers_here();
    check(timer_start_errors == 0, "timer bind and start on vCPU 0", timer_start_errors);

    bring_up();
    if ( xenvcpu_smp_online_count(&smp) != nr_vcpus )
        return xtf_failure("Fail: not every AP came up; stopping\n");

    vcpuops_with_aps();
    test_calls();
    test_timers("first");
    test_clock();
    test_steal();
    test_hotplug(nr_vcpus > 32 ? 1 : 3);
    test_timers("after hotplug");
    vcpuops_late();

    printk("%u checks passed, %u failed, on %u vCPUs, in %lu ms\n",
           passes, failures, nr_vcpus, (unsigned long)((now_ns() - t0) / 1000000));
    if ( !failures )
        xtf_success(NULL);
}

/*
 * Local variables:
 * mode: C
 * c-file-style: "BSD"
 * c-basic-offset: 4
 * tab-width: 4
 * indent-tabs-mode: nil
 * End:
 */
