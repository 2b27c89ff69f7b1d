/** \file
 * xenvcpu.h: the C API of xenvcpu.
 *
 * A thin layer over the C++ object model (docs/object-model.md): every
 * function here forwards to one call of xen::Domain, xen::Smp,
 * xen::TimerDriver or the event channels, with the same checks and the
 * same errors. docs/capi.md walks through what a C kernel does, in order.
 *
 * C11 and C++, freestanding: only <stdint.h>, <stddef.h> and <stdbool.h>.
 * Every name starts with xenvcpu_ (functions, types) or XENVCPU_
 * (constants, enum values). vCPUs are Xen's vcpu_ids as uint32_t; ports
 * are event-channel ports as uint32_t.
 *
 * Errors: every fallible call returns an xenvcpu_errc, XENVCPU_OK (0) on
 * success. Its values are xen::Errc's, one for one: 1..999 are Xen's errno
 * numbers, 1000 and up the library's own. Nothing is reported through
 * errno.
 *
 * Storage: the library allocates nothing. Each object below is an opaque
 * block of the size and alignment given by its XENVCPU_*_SIZE constant;
 * the kernel declares it (static storage is the usual place) and hands a
 * pointer to its *_init function, which constructs the library's object in
 * it. An object must stay where it is for as long as the library uses it.
 *
 * Link time: the kernel provides xenvcpu_panic (see the end of this file)
 * and memcpy, memset, memmove, memcmp; and it may provide
 * xenvcpu_hypercall_page (the section on what a kernel keeps).
 */
#ifndef XENVCPU_H
#define XENVCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** \cond INTERNAL */
#ifdef __cplusplus
#define XENVCPU_ALIGNAS(n) alignas(n)
#define XENVCPU_NOEXCEPT noexcept
#define XENVCPU_NORETURN [[noreturn]]
extern "C" {
#else
#define XENVCPU_ALIGNAS(n) _Alignas(n)
#define XENVCPU_NOEXCEPT
#define XENVCPU_NORETURN _Noreturn
#endif
/** \endcond */

/* ------------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

/** Why a call failed: xen::Errc's values. XENVCPU_OK is success. A value
 *  Xen returns that is not named here is passed on as is. */
typedef enum xenvcpu_errc {
    XENVCPU_OK = 0,
    /* Xen's errno values (public errno.h). */
    XENVCPU_EPERM = 1,
    XENVCPU_ENOENT = 2,
    XENVCPU_ESRCH = 3,
    XENVCPU_EINTR = 4,
    XENVCPU_EIO = 5,
    XENVCPU_ENXIO = 6,
    XENVCPU_E2BIG = 7,
    XENVCPU_ENOEXEC = 8,
    XENVCPU_EBADF = 9,
    XENVCPU_ECHILD = 10,
    XENVCPU_EAGAIN = 11,
    XENVCPU_ENOMEM = 12,
    XENVCPU_EACCES = 13,
    XENVCPU_EFAULT = 14,
    XENVCPU_EBUSY = 16,
    XENVCPU_EEXIST = 17,
    XENVCPU_EXDEV = 18,
    XENVCPU_ENODEV = 19,
    XENVCPU_ENOTDIR = 20,
    XENVCPU_EISDIR = 21,
    XENVCPU_EINVAL = 22,
    XENVCPU_ENFILE = 23,
    XENVCPU_EMFILE = 24,
    XENVCPU_ENOSPC = 28,
    XENVCPU_EROFS = 30,
    XENVCPU_EMLINK = 31,
    XENVCPU_EDOM = 33,
    XENVCPU_ERANGE = 34,
    XENVCPU_EDEADLK = 35,
    XENVCPU_ENAMETOOLONG = 36,
    XENVCPU_ENOLCK = 37,
    XENVCPU_ENOSYS = 38,
    XENVCPU_ENOTEMPTY = 39,
    XENVCPU_ENODATA = 61,
    XENVCPU_ETIME = 62,
    XENVCPU_EBADMSG = 74,
    XENVCPU_EOVERFLOW = 75,
    XENVCPU_EILSEQ = 84,
    XENVCPU_ERESTART = 85,
    XENVCPU_ENOTSOCK = 88,
    XENVCPU_EMSGSIZE = 90,
    XENVCPU_EOPNOTSUPP = 95,
    XENVCPU_EADDRINUSE = 98,
    XENVCPU_EADDRNOTAVAIL = 99,
    XENVCPU_ENOBUFS = 105,
    XENVCPU_EISCONN = 106,
    XENVCPU_ENOTCONN = 107,
    XENVCPU_ETIMEDOUT = 110,
    XENVCPU_ECONNREFUSED = 111,
    /* The library's own. */
    XENVCPU_INVALID_ARGUMENT = 1000,    /**< an argument the library can judge is wrong */
    XENVCPU_VCPU_OUT_OF_RANGE = 1001,   /**< not a vCPU of the domain, or one without a slot */
    XENVCPU_AREA_MISALIGNED = 1002,     /**< a registered area is not aligned as Xen requires */
    XENVCPU_AREA_CROSSES_PAGE = 1003,   /**< a registered area would straddle a 4 KiB page */
    XENVCPU_PERIOD_TOO_SHORT = 1004,    /**< periodic timer period below Xen's 1 ms floor */
    XENVCPU_NOT_CURRENT_VCPU = 1005,    /**< the op acts only on the calling vCPU */
    XENVCPU_TIMED_OUT = 1006,           /**< a bounded wait ran out */
    XENVCPU_UNSUPPORTED = 1007,         /**< this Xen (version or guest type) lacks it */
    XENVCPU_LAST_VCPU = 1008,           /**< taking it down would power the domain off */
    XENVCPU_ALREADY_INITIALISED = 1009, /**< Xen would answer -EEXIST; not attempted */
    XENVCPU_BUSY_RETRY = 1010,          /**< a seqlock stayed odd / update flag stayed set */
    XENVCPU_NO_SPACE = 1011,            /**< a caller-provided table is full */
    XENVCPU_PORT_OUT_OF_RANGE = 1012,   /**< a port beyond the kernel's handler table */
    XENVCPU_PORT_NOT_BOUND = 1013,      /**< a port with no binding in the table */
    XENVCPU_RING_CORRUPT = 1014,        /**< a shared ring's indices broke the protocol */
    XENVCPU_SUSPEND_FAILED = 1015,      /**< no suspend happened: the domain runs on as before */
    XENVCPU_RESUME_FAILED = 1016,       /**< a step after the suspend could not be redone (see the report) */
    XENVCPU_VCPU_DOWN =
        1017 /**< the vCPU is down and the op would harm it when it starts (an NMI to a down PVH vCPU) */
} xenvcpu_errc;

/** The error's name for logs ("ENOENT", "vcpu_out_of_range", "ok" for
 *  XENVCPU_OK, "E?" for an unknown value). Never fails. */
const char *xenvcpu_errc_name(xenvcpu_errc e) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * Storage sizes and alignments (checked against the C++ types when the
 * library is built)
 * --------------------------------------------------------------------- */

#define XENVCPU_DOMAIN_SIZE 512       /**< bytes of a xenvcpu_domain */
#define XENVCPU_DOMAIN_ALIGN 64       /**< its alignment, bytes */
#define XENVCPU_VCPU_SLOT_SIZE 8960   /**< bytes of a xenvcpu_vcpu_slot */
#define XENVCPU_VCPU_SLOT_ALIGN 64    /**< its alignment, bytes */
#define XENVCPU_EVENT_SLOT_SIZE 24    /**< bytes of a xenvcpu_event_slot */
#define XENVCPU_EVENT_SLOT_ALIGN 8    /**< its alignment, bytes */
#define XENVCPU_SMP_SIZE 120          /**< bytes of a xenvcpu_smp */
#define XENVCPU_SMP_ALIGN 8           /**< its alignment, bytes */
#define XENVCPU_SMP_SCRATCH_SIZE 5296 /**< bytes of a xenvcpu_smp_scratch */
#define XENVCPU_SMP_SCRATCH_ALIGN 8   /**< its alignment, bytes */
#define XENVCPU_TIMER_DRIVER_SIZE 24  /**< bytes of a xenvcpu_timer_driver */
#define XENVCPU_TIMER_DRIVER_ALIGN 8  /**< its alignment, bytes */
#define XENVCPU_TIMER_SIZE 96         /**< bytes of a xenvcpu_timer */
#define XENVCPU_TIMER_ALIGN 8         /**< its alignment, bytes */

/** The most vCPUs xenvcpu_domain_discover probes for by default. */
#define XENVCPU_MAX_PROBED_VCPUS 8192u
/** Xen's "unregister" physical address for ops 14 and 15; also "not
 *  known" for xenvcpu_runstate_register. */
#define XENVCPU_PHYS_AREA_NONE 0xffffffffffffffffull

/** The domain: xen::Domain plus the kernel's hooks. One per domain. */
typedef struct xenvcpu_domain {
    XENVCPU_ALIGNAS(XENVCPU_DOMAIN_ALIGN)
    unsigned char opaque[XENVCPU_DOMAIN_SIZE]; /**< storage only: the library's object lives here */
} xenvcpu_domain;

/** One vCPU's slot (xen::VcpuSlot): slot v belongs to vCPU v. Xen writes
 *  into it once areas are registered: it never moves. */
typedef struct xenvcpu_vcpu_slot {
    XENVCPU_ALIGNAS(XENVCPU_VCPU_SLOT_ALIGN)
    unsigned char opaque[XENVCPU_VCPU_SLOT_SIZE]; /**< storage only: the library's object lives here */
} xenvcpu_vcpu_slot;

/** One event-channel port's handler slot (xen::EventSlot). */
typedef struct xenvcpu_event_slot {
    XENVCPU_ALIGNAS(XENVCPU_EVENT_SLOT_ALIGN)
    unsigned char opaque[XENVCPU_EVENT_SLOT_SIZE]; /**< storage only: the library's object lives here */
} xenvcpu_event_slot;

/** SMP bring-up, hotplug and calls (xen::Smp). One per domain. */
typedef struct xenvcpu_smp {
    XENVCPU_ALIGNAS(XENVCPU_SMP_ALIGN)
    unsigned char opaque[XENVCPU_SMP_SIZE]; /**< storage only: the library's object lives here */
} xenvcpu_smp;

/** Room for one VCPUOP_initialise argument (xen::SmpScratch). */
typedef struct xenvcpu_smp_scratch {
    XENVCPU_ALIGNAS(XENVCPU_SMP_SCRATCH_ALIGN)
    unsigned char opaque[XENVCPU_SMP_SCRATCH_SIZE]; /**< storage only: the library's object lives here */
} xenvcpu_smp_scratch;

/** The tickless timer driver (xen::TimerDriver). One per domain. */
typedef struct xenvcpu_timer_driver {
    XENVCPU_ALIGNAS(XENVCPU_TIMER_DRIVER_ALIGN)
    unsigned char opaque[XENVCPU_TIMER_DRIVER_SIZE]; /**< storage only: the library's object lives here */
} xenvcpu_timer_driver;

/** One software timer (xen::Timer and its C callback). */
typedef struct xenvcpu_timer {
    XENVCPU_ALIGNAS(XENVCPU_TIMER_ALIGN)
    unsigned char opaque[XENVCPU_TIMER_SIZE]; /**< storage only: the library's object lives here */
} xenvcpu_timer;

/* ------------------------------------------------------------------------
 * Xen's structures the API hands over (layouts of Xen's public headers)
 * --------------------------------------------------------------------- */

/** Xen's struct vcpu_runstate_info (48 bytes). */
typedef struct xenvcpu_runstate_info {
    int32_t state;             /**< XENVCPU_RUNSTATE_* */
    uint32_t pad0;             /**< padding */
    uint64_t state_entry_time; /**< bit 63: Xen is updating the area */
    uint64_t time[4];          /**< ns in each runstate */
} xenvcpu_runstate_info;

/** Runstates (Xen's RUNSTATE_*): index of xenvcpu_runstate_info::time. */
enum {
    XENVCPU_RUNSTATE_RUNNING = 0,
    XENVCPU_RUNSTATE_RUNNABLE = 1,
    XENVCPU_RUNSTATE_BLOCKED = 2,
    XENVCPU_RUNSTATE_OFFLINE = 3
};

/** Xen's struct vcpu_time_info (32 bytes): a pvclock record. */
typedef struct xenvcpu_vcpu_time_info {
    uint32_t version;           /**< odd while Xen updates the record */
    uint32_t pad0;              /**< padding */
    uint64_t tsc_timestamp;     /**< TSC at the last update */
    uint64_t system_time;       /**< Xen system time (ns) at tsc_timestamp */
    uint32_t tsc_to_system_mul; /**< ns per TSC tick, 32.32 fixed point, applied after tsc_shift */
    int8_t tsc_shift;           /**< TSC ticks are shifted left by this first (right if negative) */
    uint8_t flags;              /**< bit 0: TSC stable across pCPUs; bit 1: the guest was stopped */
    uint8_t pad1[2];            /**< padding */
} xenvcpu_vcpu_time_info;

/** A runstate area Xen writes into once registered (ops 5 and 14):
 *  64-byte aligned, so it never crosses a page. Must outlive the
 *  registration. */
typedef struct xenvcpu_runstate_area {
    XENVCPU_ALIGNAS(64) xenvcpu_runstate_info info; /**< what Xen keeps current */
} xenvcpu_runstate_area;

/** A secondary time area (ops 13 and 15), 64-byte aligned. */
typedef struct xenvcpu_time_area {
    XENVCPU_ALIGNAS(64) xenvcpu_vcpu_time_info info; /**< the record Xen keeps current */
} xenvcpu_time_area;

/** A vcpu_info area (op 10): Xen's struct vcpu_info, 64 bytes. */
typedef struct xenvcpu_vcpu_info_area {
    XENVCPU_ALIGNAS(64) unsigned char bytes[64]; /**< Xen's struct vcpu_info, written by Xen */
} xenvcpu_vcpu_info_area;

/** The APIC and ACPI ids of the pCPU a vCPU is pinned to (op 12). */
typedef struct xenvcpu_physid {
    uint32_t apic_id; /**< the pCPU's local APIC id */
    uint32_t acpi_id; /**< the pCPU's ACPI processor id */
} xenvcpu_physid;

/* ------------------------------------------------------------------------
 * Domain and hooks
 * --------------------------------------------------------------------- */

/** How Xen built the domain. */
typedef enum xenvcpu_guest_kind { XENVCPU_GUEST_PV = 0, XENVCPU_GUEST_PVH = 1 } xenvcpu_guest_kind;

/** Where an AP starts (from the ap_stack hook). */
typedef struct xenvcpu_ap_stack {
    uint64_t stack_top; /**< 16-byte aligned */
    uint64_t arg;       /**< handed to the AP's entry in the handshake */
    uint64_t gs_base;   /**< PV: the kernel GS base Xen loads; PVH: unused */
} xenvcpu_ap_stack;

/** The kernel's side of the library: xen::KernelHooks with vCPUs as
 *  uint32_t. `ctx` is passed back to every hook. Every hook must be safe on
 *  any vCPU. `current` is required; `frame_of` and `ap_stack` are needed
 *  for bring-up; the rest may be NULL (see xen/kernel_hooks.hpp for what
 *  NULL means for each). */
typedef struct xenvcpu_hooks {
    /** The kernel's context, passed back as every hook's first argument. */
    void *ctx;
    /** The calling vCPU's vcpu_id. Any context. */
    uint32_t (*current)(void *ctx);
    /** The frame Xen knows kernel memory `p` by (PV: MFN, PVH: GFN). */
    uint64_t (*frame_of)(void *ctx, const void *p);
    /** AP `vcpu`'s stack and entry data. */
    xenvcpu_ap_stack (*ap_stack)(void *ctx, uint32_t vcpu);
    /** Xen system time (ns) as the caller reads it; NULL: the domain's clock. */
    uint64_t (*now_ns)(void *ctx);
    /** One step of a bounded wait; NULL: SCHEDOP_yield. */
    void (*relax)(void *ctx);
    /** A line of diagnostics, no newline; NULL: silent. */
    void (*log)(void *ctx, const char *text, size_t len);
    /** More per-vCPU setup before AP `vcpu` first starts; an error fails
     *  xenvcpu_smp_prepare. */
    xenvcpu_errc (*ap_prepare)(void *ctx, uint32_t vcpu);
    /** On the AP right before it parks, and right after it resumes. */
    void (*before_park)(void *ctx, uint32_t vcpu);
    /** On the AP right after it resumes from parking (pair of before_park). */
    void (*after_resume)(void *ctx, uint32_t vcpu);
} xenvcpu_hooks;

/** What the domain is built from. */
typedef struct xenvcpu_domain_config {
    /** PV or PVH. */
    xenvcpu_guest_kind kind;
    /** The mapped shared_info page (Xen's struct shared_info); stays mapped. */
    void *shared_info;
    /** XENFEAT submap 0 (XENVER_get_features). */
    uint32_t features;
    /** The kernel's hooks; copied into the domain. */
    xenvcpu_hooks hooks;
} xenvcpu_domain_config;

/** Construct the domain in `d` (zero-filled before the first call: static
 *  storage is) and its slots, then init it: `slots[v]` is vCPU v's for v <
 *  nr_slots, `ports[p]` handles port p for p < nr_ports. The hooks are
 *  copied into `d`. No hypercall. A refused call may be repeated with
 *  corrected arguments. Errors: XENVCPU_INVALID_ARGUMENT (a NULL argument,
 *  no shared_info, no `current` hook, no slots or ports, or init succeeded
 *  already: then nothing is touched). */
xenvcpu_errc xenvcpu_domain_init(xenvcpu_domain *d, const xenvcpu_domain_config *config, xenvcpu_vcpu_slot *slots,
                                 uint32_t nr_slots, xenvcpu_event_slot *ports, uint32_t nr_ports) XENVCPU_NOEXCEPT;

/** Count the domain's vCPUs (VCPUOP_is_up until -ENOENT, at most vCPUs
 *  0..limit) into `*count`. Errors: is_up's other than -ENOENT;
 *  XENVCPU_NO_SPACE if vCPU `limit` exists too. */
xenvcpu_errc xenvcpu_domain_discover(xenvcpu_domain *d, uint32_t limit, uint32_t *count) XENVCPU_NOEXCEPT;
/** Set the vCPU count without probing. Never fails. */
void xenvcpu_domain_set_vcpu_count(xenvcpu_domain *d, uint32_t n) XENVCPU_NOEXCEPT;
/** vCPUs the domain has (after discover; the slot count before). Never fails. */
uint32_t xenvcpu_domain_vcpu_count(const xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** vCPUs the library drives: below both the vCPU count and the slots.
 *  Never fails. */
uint32_t xenvcpu_domain_managed(const xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** The calling vCPU (the `current` hook). Never fails. */
uint32_t xenvcpu_domain_self(const xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** The guest kind given at init. Never fails. */
xenvcpu_guest_kind xenvcpu_domain_kind(const xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** Xen system time (ns) on the calling vCPU, monotonic across vCPUs
 *  (Domain::now: the now_ns hook, else the SystemClock). Never fails: if
 *  the record cannot be read it returns the caller's last reading. */
uint64_t xenvcpu_domain_now(xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** Xen system time by the caller's own pvclock record (what its
 *  single-shot timer runs by; Domain::own_now). Never fails. */
uint64_t xenvcpu_domain_own_now(xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** One step of a bounded wait (the relax hook, else SCHEDOP_yield).
 *  Never fails. */
void xenvcpu_domain_relax(xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** Xen's struct vcpu_info for vCPU `v` (its registered area, else its
 *  shared_info slot); NULL for a vCPU >= 32 without an area, or beyond the
 *  managed vCPUs (its only failure). */
void *xenvcpu_domain_vcpu_info(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** Register `v`'s slot area as its vcpu_info (op 10 with the frame_of
 *  hook), once. Errors: XENVCPU_VCPU_OUT_OF_RANGE; XENVCPU_INVALID_ARGUMENT
 *  (no frame_of hook); the op's. */
xenvcpu_errc xenvcpu_domain_place_vcpu_info(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** xenvcpu_domain_place_vcpu_info for the `n` vCPUs `vs[0..n-1]`, batched:
 *  up to 16 registrations per HYPERVISOR_multicall (one VM exit per batch
 *  on PVH instead of one per vCPU), in the order given. `errors[i]` gets
 *  vCPU vs[i]'s own outcome: XENVCPU_OK (registered now or before: nothing
 *  is sent for it), XENVCPU_VCPU_OUT_OF_RANGE or XENVCPU_INVALID_ARGUMENT
 *  (no frame_of hook), refused, never sent, or Xen's error for that entry;
 *  on a Xen without multicall for the guest type (HVM/PVH before 4.16) it
 *  falls back to one registration each. `*failed` (may be NULL) counts the
 *  vCPUs that failed. Errors of the call itself: XENVCPU_INVALID_ARGUMENT
 *  (NULL `vs` or `errors` with `n` > 0). */
xenvcpu_errc xenvcpu_domain_place_vcpu_info_many(xenvcpu_domain *d, const uint32_t *vs, uint32_t n,
                                                 xenvcpu_errc *errors, uint32_t *failed) XENVCPU_NOEXCEPT;
/** The kernel registered `v`'s slot area itself: take it as registered.
 *  Errors: XENVCPU_VCPU_OUT_OF_RANGE. */
xenvcpu_errc xenvcpu_domain_adopt_vcpu_info(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * The 16 VCPUOPs, with the domain's checks: XENVCPU_VCPU_OUT_OF_RANGE for
 * a vCPU beyond the domain's count, then Xen's errors (docs/vcpuop.md).
 * --------------------------------------------------------------------- */

/** Op 0, PV: give `v` its first register state; `context` is Xen's struct
 *  vcpu_guest_context. Errors: XENVCPU_INVALID_ARGUMENT (NULL context); Xen's
 *  -EEXIST (initialised before, also after down), -EINVAL (a bad context, or
 *  vCPU >= 32 without a vcpu_info), -EFAULT, -ENOMEM. */
xenvcpu_errc xenvcpu_vcpu_initialise_pv(xenvcpu_domain *d, uint32_t v, const void *context) XENVCPU_NOEXCEPT;
/** Op 0, HVM/PVH (Xen 4.7+): `context` is Xen's struct vcpu_hvm_context;
 *  the vCPU stays down (up it next). Errors: XENVCPU_INVALID_ARGUMENT (NULL
 *  context, non-zero padding or an unknown mode, before the call); Xen's as
 *  for PV. */
xenvcpu_errc xenvcpu_vcpu_initialise_hvm(xenvcpu_domain *d, uint32_t v, const void *context) XENVCPU_NOEXCEPT;
/** Op 0, HVM/PVH, for the `n` vCPUs `vs[0..n-1]`, batched: up to 16
 *  VCPUOP_initialises per HYPERVISOR_multicall (one VM exit per batch on
 *  PVH instead of one per vCPU), in the order given; `contexts` is an
 *  array of `n` struct vcpu_hvm_context, vs[i] getting the i-th. `errors[i]`
 *  gets vCPU vs[i]'s own outcome: XENVCPU_OK, XENVCPU_VCPU_OUT_OF_RANGE or
 *  XENVCPU_INVALID_ARGUMENT (non-zero padding or an unknown mode), refused,
 *  never sent, or Xen's error for that entry (-EEXIST, -EINVAL, ...); on a
 *  Xen without multicall for the guest type (before 4.16) it falls back to
 *  one initialise each. `*failed` (may be NULL) counts the vCPUs that
 *  failed. Errors of the call itself: XENVCPU_INVALID_ARGUMENT (NULL `vs`,
 *  `contexts` or `errors` with `n` > 0). */
xenvcpu_errc xenvcpu_vcpu_initialise_hvm_many(xenvcpu_domain *d, const uint32_t *vs, const void *contexts, uint32_t n,
                                              xenvcpu_errc *errors, uint32_t *failed) XENVCPU_NOEXCEPT;
/** Op 1: let initialised `v` run (no effect if it runs). Errors: Xen's
 *  -EINVAL if it was never initialised. */
xenvcpu_errc xenvcpu_vcpu_up(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** Op 1 for the `n` vCPUs `vs[0..n-1]`, batched: up to 16 VCPUOP_ups per
 *  HYPERVISOR_multicall (one VM exit per batch on PVH instead of one per
 *  vCPU), in the order given. `errors[i]` gets vCPU vs[i]'s own outcome:
 *  XENVCPU_OK, XENVCPU_VCPU_OUT_OF_RANGE (refused, never sent) or Xen's
 *  error for that entry; on a Xen without multicall for the guest type
 *  (HVM/PVH before 4.16) it falls back to one up each. `*failed` (may be
 *  NULL) counts the vCPUs that were not upped. Errors of the call itself:
 *  XENVCPU_INVALID_ARGUMENT (NULL `vs` or `errors` with `n` > 0). */
xenvcpu_errc xenvcpu_vcpu_up_many(xenvcpu_domain *d, const uint32_t *vs, uint32_t n, xenvcpu_errc *errors,
                                  uint32_t *failed) XENVCPU_NOEXCEPT;
/** Op 2: stop `v` (asynchronous for another vCPU: poll is_up). Errors:
 *  XENVCPU_LAST_VCPU when no other vCPU is up (Xen would power the domain
 *  off); Xen's. */
xenvcpu_errc xenvcpu_vcpu_down(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** Op 3: `*up` set to whether `v` is up. Errors: Xen's -ENOENT. */
xenvcpu_errc xenvcpu_vcpu_is_up(xenvcpu_domain *d, uint32_t v, bool *up) XENVCPU_NOEXCEPT;
/** Op 4: a snapshot of any vCPU's runstate, the time in its current state
 *  included. Errors: Xen's -ENOENT, -EFAULT. */
xenvcpu_errc xenvcpu_vcpu_get_runstate_info(xenvcpu_domain *d, uint32_t v, xenvcpu_runstate_info *out) XENVCPU_NOEXCEPT;
/** Op 5: Xen keeps `area` current by virtual address. Errors:
 *  XENVCPU_INVALID_ARGUMENT (NULL), XENVCPU_AREA_MISALIGNED,
 *  XENVCPU_AREA_CROSSES_PAGE, Xen's -EFAULT. */
xenvcpu_errc xenvcpu_vcpu_register_runstate_memory_area(xenvcpu_domain *d, uint32_t v,
                                                        xenvcpu_runstate_area *area) XENVCPU_NOEXCEPT;
/** Op 6: periodic VIRQ_TIMER every `period_ns` while `v` runs. Errors:
 *  XENVCPU_PERIOD_TOO_SHORT (under 1 ms), XENVCPU_INVALID_ARGUMENT (above
 *  2^62-1 ns), Xen's. */
xenvcpu_errc xenvcpu_vcpu_set_periodic_timer(xenvcpu_domain *d, uint32_t v, uint64_t period_ns) XENVCPU_NOEXCEPT;
/** Op 7: stop the periodic timer (PV vCPUs start with 100 Hz). Errors:
 *  only the vCPU range. */
xenvcpu_errc xenvcpu_vcpu_stop_periodic_timer(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** Op 8: one VIRQ_TIMER at absolute system time `deadline_ns`, replacing
 *  the last. Errors: XENVCPU_NOT_CURRENT_VCPU unless `v` is the caller; Xen's. */
xenvcpu_errc xenvcpu_vcpu_set_singleshot_timer(xenvcpu_domain *d, uint32_t v, uint64_t deadline_ns) XENVCPU_NOEXCEPT;
/** Op 9: cancel the caller's single-shot timer. Errors:
 *  XENVCPU_NOT_CURRENT_VCPU unless `v` is the caller; Xen's. */
xenvcpu_errc xenvcpu_vcpu_stop_singleshot_timer(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** Op 10: `area` becomes v's vcpu_info, found by Xen at `frame` (PV: MFN,
 *  PVH: GFN); once per vCPU. Errors: XENVCPU_INVALID_ARGUMENT (NULL),
 *  XENVCPU_AREA_MISALIGNED, XENVCPU_AREA_CROSSES_PAGE; Xen's -EINVAL (4.17)
 *  or -EBUSY (4.18+) the second time, -ENXIO, -EAGAIN, -EPERM, -ENOMEM. */
xenvcpu_errc xenvcpu_vcpu_register_vcpu_info(xenvcpu_domain *d, uint32_t v, xenvcpu_vcpu_info_area *area,
                                             uint64_t frame) XENVCPU_NOEXCEPT;
/** Op 11: raise an NMI on `v`. Errors: Xen's. */
xenvcpu_errc xenvcpu_vcpu_send_nmi(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** Op 12: the ids of the pCPU `v` is pinned to. Errors: Xen's -EINVAL
 *  unless the caller is the hardware domain and `v` is pinned. */
xenvcpu_errc xenvcpu_vcpu_get_physid(xenvcpu_domain *d, uint32_t v, xenvcpu_physid *out) XENVCPU_NOEXCEPT;
/** Op 13 (Xen 4.3+): a secondary time record by virtual address. Errors:
 *  XENVCPU_INVALID_ARGUMENT (NULL), XENVCPU_AREA_MISALIGNED,
 *  XENVCPU_AREA_CROSSES_PAGE, Xen's -ENOSYS, -EFAULT. */
xenvcpu_errc xenvcpu_vcpu_register_vcpu_time_memory_area(xenvcpu_domain *d, uint32_t v,
                                                         xenvcpu_time_area *area) XENVCPU_NOEXCEPT;
/** Op 14 (Xen 4.18+): the runstate area by guest-physical address `pa`.
 *  Errors: XENVCPU_INVALID_ARGUMENT (NULL, or `pa` not where `area` is in
 *  its page), XENVCPU_AREA_MISALIGNED, XENVCPU_AREA_CROSSES_PAGE, Xen's
 *  -ENOSYS before 4.18. */
xenvcpu_errc xenvcpu_vcpu_register_runstate_phys_area(xenvcpu_domain *d, uint32_t v, xenvcpu_runstate_area *area,
                                                      uint64_t pa) XENVCPU_NOEXCEPT;
/** Op 15 (Xen 4.18+): the secondary time area by guest-physical address.
 *  Errors as op 14. */
xenvcpu_errc xenvcpu_vcpu_register_vcpu_time_phys_area(xenvcpu_domain *d, uint32_t v, xenvcpu_time_area *area,
                                                       uint64_t pa) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * Event channels (2-level), the domain's
 * --------------------------------------------------------------------- */

/** A port's handler: runs in upcall context on the port's vCPU. */
typedef void (*xenvcpu_event_handler)(uint32_t port, uint32_t vcpu, void *ctx);

/** Xen's VIRQs a kernel binds most. */
enum { XENVCPU_VIRQ_TIMER = 0, XENVCPU_VIRQ_DEBUG = 1 };

/** Set every mask bit (boot, before binding). Never fails. */
void xenvcpu_events_mask_all(xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** Bind `virq` on vCPU `v` to `handler`, unmasked; `*port` gets the port.
 *  Errors: XENVCPU_INVALID_ARGUMENT (NULL handler), XENVCPU_VCPU_OUT_OF_RANGE,
 *  XENVCPU_NO_SPACE (port beyond the table), Xen's. */
xenvcpu_errc xenvcpu_events_bind_virq(xenvcpu_domain *d, uint32_t virq, uint32_t v, xenvcpu_event_handler handler,
                                      void *ctx, uint32_t *port) XENVCPU_NOEXCEPT;
/** A new IPI port delivered to `v`. Errors as bind_virq. */
xenvcpu_errc xenvcpu_events_bind_ipi(xenvcpu_domain *d, uint32_t v, xenvcpu_event_handler handler, void *ctx,
                                     uint32_t *port) XENVCPU_NOEXCEPT;
/** xenvcpu_events_bind_ipi for the `n` vCPUs `vs[0..n-1]`, batched: up to
 *  16 EVTCHNOP_bind_ipi per HYPERVISOR_multicall (one VM exit per batch on
 *  PVH instead of one per port), in the order given; vs[i]'s port goes to
 *  `handler` with `ctxs[i]`. `errors[i]` gets its own outcome and, on
 *  XENVCPU_OK, `ports[i]` its port, bound and unmasked: XENVCPU_OK,
 *  XENVCPU_INVALID_ARGUMENT (NULL handler) or XENVCPU_VCPU_OUT_OF_RANGE,
 *  refused, never sent; XENVCPU_NO_SPACE (port beyond the table, closed
 *  again); Xen's error for that entry; on a Xen without multicall for the
 *  guest type (HVM/PVH before 4.16) one bind each. `*failed` (may be NULL)
 *  counts the vCPUs that failed. Errors of the call itself:
 *  XENVCPU_INVALID_ARGUMENT (NULL `vs`, `ctxs`, `ports` or `errors` with
 *  `n` > 0). */
xenvcpu_errc xenvcpu_events_bind_ipi_many(xenvcpu_domain *d, const uint32_t *vs, uint32_t n,
                                          xenvcpu_event_handler handler, void *const *ctxs, uint32_t *ports,
                                          xenvcpu_errc *errors, uint32_t *failed) XENVCPU_NOEXCEPT;
/** Handle a port bound by other means on vCPU `v`. No hypercall. Errors:
 *  XENVCPU_INVALID_ARGUMENT, XENVCPU_PORT_OUT_OF_RANGE, XENVCPU_VCPU_OUT_OF_RANGE. */
xenvcpu_errc xenvcpu_events_attach(xenvcpu_domain *d, uint32_t port, uint32_t v, xenvcpu_event_handler handler,
                                   void *ctx) XENVCPU_NOEXCEPT;
/** EVTCHNOP_send. Errors: XENVCPU_PORT_OUT_OF_RANGE, Xen's. */
xenvcpu_errc xenvcpu_events_send(xenvcpu_domain *d, uint32_t port) XENVCPU_NOEXCEPT;
/** Set the mask bit. Errors: XENVCPU_PORT_OUT_OF_RANGE. */
xenvcpu_errc xenvcpu_events_mask(xenvcpu_domain *d, uint32_t port) XENVCPU_NOEXCEPT;
/** Clear the mask bit (re-delivering a pending event). Errors:
 *  XENVCPU_PORT_OUT_OF_RANGE, Xen's. */
xenvcpu_errc xenvcpu_events_unmask(xenvcpu_domain *d, uint32_t port) XENVCPU_NOEXCEPT;
/** EVTCHNOP_close of a port bound to `self` (the caller, or a vCPU that is
 *  down). Errors: XENVCPU_PORT_OUT_OF_RANGE, XENVCPU_PORT_NOT_BOUND,
 *  XENVCPU_NOT_CURRENT_VCPU, Xen's. */
xenvcpu_errc xenvcpu_events_close(xenvcpu_domain *d, uint32_t port, uint32_t self) XENVCPU_NOEXCEPT;
/** Raise `port` on the calling vCPU `self` as Xen would. Errors:
 *  XENVCPU_PORT_OUT_OF_RANGE, XENVCPU_PORT_NOT_BOUND, XENVCPU_NOT_CURRENT_VCPU,
 *  XENVCPU_VCPU_OUT_OF_RANGE (no vcpu_info known for `self`). */
xenvcpu_errc xenvcpu_events_raise_local(xenvcpu_domain *d, uint32_t port, uint32_t self) XENVCPU_NOEXCEPT;
/** The upcall body for vCPU `self` (upcalls held off): runs at most
 *  `budget` handlers (0: the library's default); `*handled` gets how many
 *  ran and `*more` whether work was handed back (either may be NULL).
 *  Errors: XENVCPU_VCPU_OUT_OF_RANGE (no vcpu_info known for `self`). */
xenvcpu_errc xenvcpu_events_dispatch(xenvcpu_domain *d, uint32_t self, uint32_t budget, uint32_t *handled,
                                     bool *more) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * SMP: bring-up (serial and parallel), hotplug, IPIs and cross-CPU calls
 * (xen::Smp; docs/smp.md). Controller calls run on one vCPU at a time in
 * thread context; ap_* / service / park_* on the AP itself.
 * --------------------------------------------------------------------- */

/** The bring-up handshake of one AP (xen::ApHandshake, 64 bytes): shared
 *  with the AP's entry stub, which reads it by offset. */
typedef struct xenvcpu_ap_handshake {
    XENVCPU_ALIGNAS(64) uint32_t stage; /**< XENVCPU_AP_STAGE_*; written by the AP */
    uint32_t generation;                /**< check-ins so far */
    uint32_t reserved0;                 /**< zero */
    uint32_t vcpu;                      /**< Xen's vcpu_id */
    uint64_t stack_top;                 /**< initial rsp */
    uint64_t entry;                     /**< the xenvcpu_ap_entry_fn the stub calls */
    uint64_t arg;                       /**< the ap_stack hook's `arg` */
    uint64_t start_ns;                  /**< Xen system time just before the AP was started (controller) */
    uint64_t online_ns;                 /**< Xen system time of the AP's last check-in, by its own clock */
    uint64_t reserved;                  /**< zero */
} xenvcpu_ap_handshake;

/** Stages of xenvcpu_ap_handshake::stage (xen::ApStage). */
enum {
    XENVCPU_AP_STAGE_IDLE = 0,
    XENVCPU_AP_STAGE_ENTERED = 1, /**< the entry stub writes this first */
    XENVCPU_AP_STAGE_ONLINE = 2,
    XENVCPU_AP_STAGE_PARKED = 3
};

/** The AP's kernel entry, called by the stub with its handshake: set the
 *  CPU up, then xenvcpu_smp_ap_online. Never returns on real hardware. */
typedef void (*xenvcpu_ap_entry_fn)(xenvcpu_ap_handshake *hs);

/** Which APs get a vcpu_info in their slot. */
typedef enum xenvcpu_vcpu_info_placement {
    XENVCPU_VCPU_INFO_EVERY_AP = 0,
    XENVCPU_VCPU_INFO_BEYOND_LEGACY = 1 /**< only vCPUs >= 32 */
} xenvcpu_vcpu_info_placement;

/** What bring-up needs beyond the domain (xen::SmpConfig). */
typedef struct xenvcpu_smp_config {
    struct {
        uint64_t cr3;               /**< pfn_to_cr3(MFN of the kernel's L4) */
        const void *trap_table;     /**< Xen's trap_info array ending with address 0; may be NULL */
        uint64_t event_callback;    /**< the event upcall entry */
        uint64_t failsafe_callback; /**< the failsafe entry (a bad segment on return to the guest) */
        uint64_t syscall_callback;  /**< 0 for none */
        uint64_t
            nmi_callback; /**< the NMI entry, set in each AP's context (trap_ctxt[2]) before it starts; 0 for none */
    } pv;                 /**< for a PV domain */
    struct {
        uint64_t cr0, cr3, cr4, efer;
    } hvm;                        /**< for a PVH domain: the control registers and EFER APs start with (64-bit mode) */
    uint64_t entry_stub;          /**< rip of every AP */
    xenvcpu_ap_entry_fn ap_entry; /**< what the stub calls */
    xenvcpu_vcpu_info_placement placement; /**< which APs get a vcpu_info (op 10) before they start */
} xenvcpu_smp_config;

/** A bounded wait: Xen system time and a poll count backstop. */
typedef struct xenvcpu_wait_bound {
    uint64_t timeout_ns; /**< give up after this much Xen system time, ns */
    uint64_t max_polls;  /**< ... or after this many polls, whatever the clock says */
} xenvcpu_wait_bound;

/** The defaults of xen::WaitBound, for a NULL bound. */
#define XENVCPU_WAIT_TIMEOUT_NS 5000000000ull
/** The default poll backstop of a wait (xen::WaitBound). */
#define XENVCPU_WAIT_MAX_POLLS 100000000ull

/** How bring-up orders the work: SERIAL prepares, starts and awaits one AP
 *  after the other; PARALLEL prepares all, starts all, then awaits all. */
typedef enum xenvcpu_bring_up_mode { XENVCPU_BRING_UP_SERIAL = 0, XENVCPU_BRING_UP_PARALLEL = 1 } xenvcpu_bring_up_mode;

/** What bring_up did. */
typedef struct xenvcpu_bring_up_report {
    uint32_t online;           /**< vCPUs online afterwards, the boot vCPU included */
    uint32_t failed;           /**< APs not online afterwards (xenvcpu_smp_last_error) */
    uint64_t total_ns;         /**< from the first prepare to the last check-in seen, ns */
    uint64_t prepare_phase_ns; /**< parallel: preparing them all, ns */
    uint64_t start_phase_ns;   /**< parallel: preparing and starting them all, ns */
    xenvcpu_errc first_error;  /**< the first AP's failure (XENVCPU_OK if none failed) */
} xenvcpu_bring_up_report;

/** Where a vCPU is in its life (xen::CpuState). */
typedef enum xenvcpu_cpu_state {
    XENVCPU_CPU_ABSENT = 0,
    XENVCPU_CPU_DOWN = 1,
    XENVCPU_CPU_PREPARED = 2,
    XENVCPU_CPU_STARTING = 3,
    XENVCPU_CPU_ONLINE = 4,
    XENVCPU_CPU_PARKING = 5,
    XENVCPU_CPU_PARKED = 6,
    XENVCPU_CPU_RESUMING = 7
} xenvcpu_cpu_state;

/** What xenvcpu_smp_service did. */
typedef enum xenvcpu_served {
    XENVCPU_SERVED_NOTHING = 0,
    XENVCPU_SERVED_CALL = 1,
    XENVCPU_SERVED_PARKED = 2
} xenvcpu_served;

/** A cross-CPU call. */
typedef void (*xenvcpu_call_fn)(void *arg);

/** A posted call, to wait for. */
typedef struct xenvcpu_call_ticket {
    uint32_t vcpu; /**< the target of the call */
    uint32_t seq;  /**< its sequence number in the target's mailbox */
} xenvcpu_call_ticket;

/** Construct `smp` and take over `d`'s managed vCPUs (after discover): the
 *  boot vCPU online, the rest down. `d` and `scratch` must outlive it.
 *  Errors: XENVCPU_INVALID_ARGUMENT (a NULL argument, no frame_of hook, or
 *  no slot for the boot vCPU). */
xenvcpu_errc xenvcpu_smp_init(xenvcpu_smp *smp, xenvcpu_domain *d, const xenvcpu_smp_config *config,
                              xenvcpu_smp_scratch *scratch) XENVCPU_NOEXCEPT;
/** vCPU `v`'s state (XENVCPU_CPU_ABSENT beyond the managed vCPUs). Never
 *  fails. */
xenvcpu_cpu_state xenvcpu_smp_state(const xenvcpu_smp *smp, uint32_t v) XENVCPU_NOEXCEPT;
/** vCPUs under management. Never fails. */
uint32_t xenvcpu_smp_count(const xenvcpu_smp *smp) XENVCPU_NOEXCEPT;
/** vCPUs online now, the boot vCPU included. Never fails. */
uint32_t xenvcpu_smp_online_count(const xenvcpu_smp *smp) XENVCPU_NOEXCEPT;
/** The calling vCPU. Never fails. */
uint32_t xenvcpu_smp_self(const xenvcpu_smp *smp) XENVCPU_NOEXCEPT;
/** AP `v`'s handshake (for the entry code); NULL beyond the managed vCPUs
 *  (its only failure). */
xenvcpu_ap_handshake *xenvcpu_smp_handshake(xenvcpu_smp *smp, uint32_t v) XENVCPU_NOEXCEPT;
/** The last failure of prepare/start/await/hotplug on `v` (XENVCPU_OK if
 *  none, or beyond the managed vCPUs). */
xenvcpu_errc xenvcpu_smp_last_error(const xenvcpu_smp *smp, uint32_t v) XENVCPU_NOEXCEPT;

/** Get AP `v` ready to start (vcpu_info, masked upcalls, call IPI, the
 *  ap_prepare hook). Errors: as xen::Smp::prepare. */
xenvcpu_errc xenvcpu_smp_prepare(xenvcpu_smp *smp, uint32_t v) XENVCPU_NOEXCEPT;
/** Initialise and up prepared AP `v`. Errors: as xen::Smp::start. */
xenvcpu_errc xenvcpu_smp_start(xenvcpu_smp *smp, uint32_t v) XENVCPU_NOEXCEPT;
/** Wait (bounded; NULL: the defaults) until started AP `v` checks in.
 *  Errors: XENVCPU_VCPU_OUT_OF_RANGE, XENVCPU_INVALID_ARGUMENT, XENVCPU_TIMED_OUT. */
xenvcpu_errc xenvcpu_smp_await_online(xenvcpu_smp *smp, uint32_t v, const xenvcpu_wait_bound *bound) XENVCPU_NOEXCEPT;
/** Bring every down AP online, serially or in parallel; `*report` (may be
 *  NULL) says how it went. Never fails as a whole: per-vCPU errors are in
 *  xenvcpu_smp_last_error. */
void xenvcpu_smp_bring_up(xenvcpu_smp *smp, xenvcpu_bring_up_mode mode, const xenvcpu_wait_bound *bound,
                          xenvcpu_bring_up_report *report) XENVCPU_NOEXCEPT;

/** On AP `self`, in thread context: check in (set up, serves calls). Never
 *  fails. */
void xenvcpu_smp_ap_online(xenvcpu_smp *smp, uint32_t self) XENVCPU_NOEXCEPT;
/** On AP `self`, after every wake-up: run a posted call, or park if asked.
 *  Says what it did; never fails (an AP that cannot park runs on, and the
 *  controller's offline times out). */
xenvcpu_served xenvcpu_smp_service(xenvcpu_smp *smp, uint32_t self) XENVCPU_NOEXCEPT;
/** True if a call or a park request waits for `self` (check it with
 *  upcalls off right before sleeping). Never fails. */
bool xenvcpu_smp_pending(const xenvcpu_smp *smp, uint32_t self) XENVCPU_NOEXCEPT;
/** Take `self` down until xenvcpu_smp_online brings it back. Errors:
 *  XENVCPU_NOT_CURRENT_VCPU, XENVCPU_LAST_VCPU, VCPUOP_down's. */
xenvcpu_errc xenvcpu_smp_park_self(xenvcpu_smp *smp, uint32_t self) XENVCPU_NOEXCEPT;
/** The first half of park_self, for kernels that park elsewhere: up to and
 *  including VCPUOP_down. Errors as park_self. */
xenvcpu_errc xenvcpu_smp_park_begin(xenvcpu_smp *smp, uint32_t self) XENVCPU_NOEXCEPT;
/** The second half: on `self` after Xen runs it again, check in anew.
 *  Never fails. */
void xenvcpu_smp_resume(xenvcpu_smp *smp, uint32_t self) XENVCPU_NOEXCEPT;

/** Take online AP `v` offline (it parks itself). Errors: as
 *  xen::Smp::offline (XENVCPU_LAST_VCPU, XENVCPU_TIMED_OUT, ...). */
xenvcpu_errc xenvcpu_smp_offline(xenvcpu_smp *smp, uint32_t v, const xenvcpu_wait_bound *bound) XENVCPU_NOEXCEPT;
/** Take AP `v` down from the controller (VCPUOP_down on it). Errors as offline. */
xenvcpu_errc xenvcpu_smp_offline_remote(xenvcpu_smp *smp, uint32_t v, const xenvcpu_wait_bound *bound) XENVCPU_NOEXCEPT;
/** Bring parked `v` back (VCPUOP_up, then its check-in). Errors: as
 *  xen::Smp::online. */
xenvcpu_errc xenvcpu_smp_online(xenvcpu_smp *smp, uint32_t v, const xenvcpu_wait_bound *bound) XENVCPU_NOEXCEPT;

/** Notify `v`'s call IPI. Errors: XENVCPU_VCPU_OUT_OF_RANGE,
 *  XENVCPU_UNSUPPORTED (no IPI bound), EVTCHNOP_send's. */
xenvcpu_errc xenvcpu_smp_send_ipi(xenvcpu_smp *smp, uint32_t v) XENVCPU_NOEXCEPT;
/** Post fn(arg) to run on `v` and wake it; `*ticket` to wait for. Errors:
 *  as xen::Smp::post. */
xenvcpu_errc xenvcpu_smp_post(xenvcpu_smp *smp, uint32_t v, xenvcpu_call_fn fn, void *arg,
                              const xenvcpu_wait_bound *bound, xenvcpu_call_ticket *ticket) XENVCPU_NOEXCEPT;
/** Wait until a posted call returned. Errors: XENVCPU_TIMED_OUT. */
xenvcpu_errc xenvcpu_smp_wait_call(xenvcpu_smp *smp, xenvcpu_call_ticket ticket,
                                   const xenvcpu_wait_bound *bound) XENVCPU_NOEXCEPT;
/** post + wait_call; on the caller's own vCPU a plain call. Errors as post
 *  and wait_call. */
xenvcpu_errc xenvcpu_smp_call(xenvcpu_smp *smp, uint32_t v, xenvcpu_call_fn fn, void *arg,
                              const xenvcpu_wait_bound *bound) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * Clocks: system time, wall clock, runstate and steal
 * --------------------------------------------------------------------- */

/** One SystemClock reading. */
typedef struct xenvcpu_clock_reading {
    uint64_t ns;        /**< never below an earlier reading on any vCPU */
    bool tsc_stable;    /**< the record carried XEN_PVCLOCK_TSC_STABLE_BIT */
    bool guest_stopped; /**< the domain was paused: time jumped */
} xenvcpu_clock_reading;

/** Read the domain's SystemClock on the calling vCPU with the hardware
 *  TSC (ignores the now_ns hook). Errors: XENVCPU_VCPU_OUT_OF_RANGE (no
 *  slot for the caller), XENVCPU_INVALID_ARGUMENT (no clock record),
 *  XENVCPU_BUSY_RETRY. */
xenvcpu_errc xenvcpu_clock_read(xenvcpu_domain *d, xenvcpu_clock_reading *out) XENVCPU_NOEXCEPT;

/** Seconds and nanoseconds since 1970-01-01 UTC. */
typedef struct xenvcpu_wall_time {
    uint64_t sec;  /**< seconds since the epoch */
    uint32_t nsec; /**< below 1000000000 */
} xenvcpu_wall_time;

/** The wall-clock time at Xen system time 0, from shared_info. Errors:
 *  XENVCPU_BUSY_RETRY. */
xenvcpu_errc xenvcpu_wallclock_base(xenvcpu_domain *d, xenvcpu_wall_time *out) XENVCPU_NOEXCEPT;
/** The wall-clock time now (the base + xenvcpu_domain_now). Errors:
 *  XENVCPU_BUSY_RETRY. */
xenvcpu_errc xenvcpu_wallclock_now(xenvcpu_domain *d, xenvcpu_wall_time *out) XENVCPU_NOEXCEPT;

/** How a runstate area is registered. */
typedef enum xenvcpu_area_kind {
    XENVCPU_AREA_NONE = 0,
    XENVCPU_AREA_VIRTUAL = 1, /**< op 5 */
    XENVCPU_AREA_PHYSICAL = 2 /**< op 14 */
} xenvcpu_area_kind;

/** VMASST_TYPE_runstate_update_flag: `*on` whether Xen now flags updates
 *  of virtual-address areas (false before Xen 4.8). Errors: Xen's other
 *  than -EINVAL. */
xenvcpu_errc xenvcpu_runstate_enable_update_flag(xenvcpu_domain *d, bool *on) XENVCPU_NOEXCEPT;
/** Register `v`'s slot runstate area: op 14 when the features offer it
 *  and `pa` (its physical address; XENVCPU_PHYS_AREA_NONE if unknown) is
 *  given, else op 5 (also when op 14 answers -ENOSYS).
 *  `*kind` (may be NULL) says which. Errors: XENVCPU_VCPU_OUT_OF_RANGE, the op's. */
xenvcpu_errc xenvcpu_runstate_register(xenvcpu_domain *d, uint32_t v, uint64_t pa,
                                       xenvcpu_area_kind *kind) XENVCPU_NOEXCEPT;
/** Stop Xen writing `v`'s area. Errors: XENVCPU_VCPU_OUT_OF_RANGE, the op's. */
xenvcpu_errc xenvcpu_runstate_unregister(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** A consistent snapshot of `v`'s runstate taken on the calling vCPU (its
 *  area when readable, else VCPUOP_get_runstate_info). Errors:
 *  XENVCPU_VCPU_OUT_OF_RANGE, XENVCPU_BUSY_RETRY, the op's. */
xenvcpu_errc xenvcpu_runstate_snapshot(xenvcpu_domain *d, uint32_t v, xenvcpu_runstate_info *out) XENVCPU_NOEXCEPT;

/** Steal totals of one vCPU (runnable + offline since its baseline). */
typedef struct xenvcpu_steal_sample {
    uint64_t steal_ns; /**< runnable + offline time since the baseline, ns */
    uint64_t total_ns; /**< all four runstates since the baseline, ns */
} xenvcpu_steal_sample;

/** `v` came online: take a snapshot as its steal baseline. Errors: as
 *  xenvcpu_runstate_snapshot. */
xenvcpu_errc xenvcpu_steal_start(xenvcpu_domain *d, uint32_t v) XENVCPU_NOEXCEPT;
/** Add what a new snapshot of `v` shows; `*sample` (may be NULL) gets the
 *  totals after it. Errors: as xenvcpu_runstate_snapshot. */
xenvcpu_errc xenvcpu_steal_update(xenvcpu_domain *d, uint32_t v, xenvcpu_steal_sample *sample) XENVCPU_NOEXCEPT;
/** Steal between two samples in parts per million (0..1000000). Pure. */
uint32_t xenvcpu_steal_ppm(const xenvcpu_steal_sample *from, const xenvcpu_steal_sample *to) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * The tickless timer driver (xen::TimerDriver; docs/timers.md). Every call
 * names the vCPU whose queue it uses and must run on it
 * (XENVCPU_NOT_CURRENT_VCPU otherwise).
 * --------------------------------------------------------------------- */

/** What runs when a timer expires (already disarmed): in the VIRQ_TIMER
 *  handler, upcalls held off; may arm and cancel timers of `self`. */
typedef void (*xenvcpu_timer_fn)(xenvcpu_timer *timer, uint32_t self, uint64_t now_ns, void *ctx);

/** The driver's tunables; 0 in a field means the library's default. */
typedef struct xenvcpu_timer_config {
    /** Longest delta programmed into Xen at once, ns; a later deadline gets
     *  an intermediate wake-up (default 4 s). */
    uint64_t max_delta_ns;
    /** Timers one event runs at most before the rest get a fresh event
     *  (default 1024). */
    uint32_t max_expiries_per_event;
} xenvcpu_timer_config;

/** Construct `td` to serve `d`'s vCPUs (config may be NULL). Errors:
 *  XENVCPU_INVALID_ARGUMENT (NULL td or d). */
xenvcpu_errc xenvcpu_timer_driver_init(xenvcpu_timer_driver *td, xenvcpu_domain *d,
                                       const xenvcpu_timer_config *config) XENVCPU_NOEXCEPT;
/** Bind VIRQ_TIMER of `v` (the caller) to the driver; `*port` (may be
 *  NULL) gets the port. Errors: XENVCPU_NOT_CURRENT_VCPU,
 *  XENVCPU_VCPU_OUT_OF_RANGE, bind_virq's. */
xenvcpu_errc xenvcpu_timer_driver_bind(xenvcpu_timer_driver *td, uint32_t v, uint32_t *port) XENVCPU_NOEXCEPT;
/** Undo bind (after stop). Errors: as bind, XENVCPU_INVALID_ARGUMENT (not bound). */
xenvcpu_errc xenvcpu_timer_driver_unbind(xenvcpu_timer_driver *td, uint32_t v) XENVCPU_NOEXCEPT;
/** The VIRQ_TIMER handler body, for kernels binding the VIRQ themselves.
 *  Never fails. */
void xenvcpu_timer_driver_handle_event(xenvcpu_timer_driver *td, uint32_t v) XENVCPU_NOEXCEPT;
/** Take over `v`'s timer (stops the periodic one, programs the first
 *  deadline). Errors: XENVCPU_NOT_CURRENT_VCPU, XENVCPU_VCPU_OUT_OF_RANGE, Xen's. */
xenvcpu_errc xenvcpu_timer_driver_start(xenvcpu_timer_driver *td, uint32_t v) XENVCPU_NOEXCEPT;
/** Before `v` goes down: stop its single-shot timer. Errors as start. */
xenvcpu_errc xenvcpu_timer_driver_stop(xenvcpu_timer_driver *td, uint32_t v) XENVCPU_NOEXCEPT;
/** Arm `t` on `v` at `deadline_ns` (driver clock), at most `slack_ns`
 *  late. Errors: XENVCPU_NOT_CURRENT_VCPU, XENVCPU_VCPU_OUT_OF_RANGE,
 *  XENVCPU_ETIME, Xen's. */
xenvcpu_errc xenvcpu_timer_driver_arm(xenvcpu_timer_driver *td, uint32_t v, xenvcpu_timer *t, uint64_t deadline_ns,
                                      uint64_t slack_ns) XENVCPU_NOEXCEPT;
/** arm at now + `delay_ns`. Errors as arm. */
xenvcpu_errc xenvcpu_timer_driver_arm_after(xenvcpu_timer_driver *td, uint32_t v, xenvcpu_timer *t, uint64_t delay_ns,
                                            uint64_t slack_ns) XENVCPU_NOEXCEPT;
/** Disarm `t`; `*was_armed` (may be NULL) whether it was. Errors as arm. */
xenvcpu_errc xenvcpu_timer_driver_cancel(xenvcpu_timer_driver *td, uint32_t v, xenvcpu_timer *t,
                                         bool *was_armed) XENVCPU_NOEXCEPT;
/** Move stopped, down vCPU `from`'s timers to `v` (the caller); `*moved`
 *  (may be NULL) how many. Errors: as xen::TimerDriver::adopt. */
xenvcpu_errc xenvcpu_timer_driver_adopt(xenvcpu_timer_driver *td, uint32_t v, uint32_t from,
                                        size_t *moved) XENVCPU_NOEXCEPT;
/** Sleep `v` (the caller, upcalls held off) until an event. Errors:
 *  XENVCPU_NOT_CURRENT_VCPU, XENVCPU_VCPU_OUT_OF_RANGE, XENVCPU_UNSUPPORTED
 *  (PVH in a host build), Xen's. */
xenvcpu_errc xenvcpu_timer_driver_idle(xenvcpu_timer_driver *td, uint32_t v) XENVCPU_NOEXCEPT;
/** The driver's clock on the calling vCPU (ns). Never fails. */
uint64_t xenvcpu_timer_driver_now(const xenvcpu_timer_driver *td) XENVCPU_NOEXCEPT;
/** Timers armed on `v` (0 beyond the managed vCPUs). Never fails. */
size_t xenvcpu_timer_driver_armed(const xenvcpu_timer_driver *td, uint32_t v) XENVCPU_NOEXCEPT;

/** Construct a disarmed timer in `t` that calls fn(t, self, now, ctx).
 *  Errors: XENVCPU_INVALID_ARGUMENT (NULL t or fn). */
xenvcpu_errc xenvcpu_timer_init(xenvcpu_timer *t, xenvcpu_timer_fn fn, void *ctx) XENVCPU_NOEXCEPT;
/** True while `t` is armed (between arm and expiry or cancel). Never fails. */
bool xenvcpu_timer_armed(const xenvcpu_timer *t) XENVCPU_NOEXCEPT;
/** The deadline of `t`'s last arming (ns). Never fails. */
uint64_t xenvcpu_timer_deadline(const xenvcpu_timer *t) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * What a kernel may keep for itself: its hypercall page, its event
 * dispatch, its upcall vector, its idle loop (docs/porting.md)
 *
 * The library makes every hypercall through the symbol
 * xenvcpu_hypercall_page. Its archive carries a page of that name in a
 * member of its own, which the linker takes only if the kernel defines no
 * xenvcpu_hypercall_page. A kernel with a page of its own (on PV, Xen
 * fills only the page the kernel's XEN_ELFNOTE_HYPERCALL_PAGE note names)
 * defines the name as an alias of it, e.g. with the linker option
 * --defsym=xenvcpu_hypercall_page=hypercall_page (or an assembler .set in
 * the file that defines its page); the library's page is then not linked
 * at all.
 * --------------------------------------------------------------------- */

/** HVM/PVH: ask Xen to fill the hypercall page at guest-physical
 *  `page_phys` (page aligned), by the MSR Xen's CPUID leaves name; the
 *  library's own page or the kernel's. Errors: XENVCPU_AREA_MISALIGNED
 *  (not page aligned); XENVCPU_UNSUPPORTED (no Xen CPUID leaves, or the
 *  host build, which cannot write MSRs). */
xenvcpu_errc xenvcpu_hypercall_page_install(uint64_t page_phys) XENVCPU_NOEXCEPT;

/** HVM/PVH: have Xen deliver event upcalls as interrupt `vector` on every
 *  vCPU (HVM_PARAM_CALLBACK_IRQ, "vector" type); the kernel's IDT entry
 *  for it acknowledges nothing and calls its dispatch (or
 *  xenvcpu_events_dispatch). Keep it non-zero: the toolstack takes a zero
 *  as "not enlightened". Errors: XENVCPU_INVALID_ARGUMENT (a vector below
 *  0x10, which the CPU reserves); Xen's -EINVAL (not an HVM/PVH domain). */
xenvcpu_errc xenvcpu_hvm_set_callback_vector(uint8_t vector) XENVCPU_NOEXCEPT;

/** HVM/PVH (Xen 4.6+): vCPU `v`'s own upcall vector
 *  (HVMOP_set_evtchn_upcall_vector), e.g. for an AP before it enables
 *  interrupts. Errors: XENVCPU_VCPU_OUT_OF_RANGE; XENVCPU_INVALID_ARGUMENT
 *  (a vector below 0x10); Xen's -ENOENT, -EINVAL. */
xenvcpu_errc xenvcpu_hvm_set_upcall_vector(xenvcpu_domain *d, uint32_t v, uint8_t vector) XENVCPU_NOEXCEPT;

/** For a kernel with its own event dispatch, instead of
 *  xenvcpu_timer_driver_bind: it bound VIRQ_TIMER of `v` (the caller) to
 *  `port` itself (EVTCHNOP_bind_virq) and its handler for that port calls
 *  xenvcpu_timer_driver_handle_event. The driver self-injects an overdue
 *  timer through `port` as Xen would. Repeat after a rebind. Errors:
 *  XENVCPU_NOT_CURRENT_VCPU, XENVCPU_VCPU_OUT_OF_RANGE,
 *  XENVCPU_PORT_OUT_OF_RANGE (0 or beyond 4095), XENVCPU_INVALID_ARGUMENT
 *  (bound with xenvcpu_timer_driver_bind: unbind first). */
xenvcpu_errc xenvcpu_timer_driver_attach(xenvcpu_timer_driver *td, uint32_t v, uint32_t port) XENVCPU_NOEXCEPT;

/** Hold event upcalls off on the calling vCPU (PV: its vcpu_info's
 *  evtchn_upcall_mask; PVH: cli). Returns whether they were on, for
 *  xenvcpu_upcalls_restore. Never fails. */
bool xenvcpu_upcalls_off(xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** Let upcalls in on the calling vCPU (PV: clear the mask and, if an event
 *  is pending, have Xen deliver it before this returns; PVH: sti). Returns
 *  whether they were on already. Never fails. */
bool xenvcpu_upcalls_on(xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** xenvcpu_upcalls_on if `was_on` (what xenvcpu_upcalls_off returned),
 *  else nothing: nested critical sections. Never fails. */
void xenvcpu_upcalls_restore(xenvcpu_domain *d, bool was_on) XENVCPU_NOEXCEPT;
/** Sleep the calling vCPU until an upcall is due, losing none that came
 *  since the caller last looked for work: call with upcalls off; returns
 *  with them off again, after the upcall that woke it has run (PV:
 *  SCHEDOP_block; PVH: sti; hlt; cli). Any upcall ends it. Errors:
 *  SCHEDOP_block's; XENVCPU_UNSUPPORTED for PVH in the host build. */
xenvcpu_errc xenvcpu_safe_halt(xenvcpu_domain *d) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * Save, restore, checkpoint, migration (docs/lifecycle.md)
 * --------------------------------------------------------------------- */

/** How the suspend hypercall returned. */
typedef enum xenvcpu_suspend_outcome {
    XENVCPU_SUSPEND_RESUMED = 0,  /**< restored into a new domain */
    XENVCPU_SUSPEND_CANCELLED = 1 /**< the same domain goes on (checkpoint) */
} xenvcpu_suspend_outcome;

/** The steps of the sequence, in order (xen::SuspendStep). */
typedef enum xenvcpu_suspend_step {
    XENVCPU_STEP_NONE = 0,
    XENVCPU_STEP_PARK_APS = 1,
    XENVCPU_STEP_STOP_TIMERS = 2,
    XENVCPU_STEP_BEFORE_SUSPEND = 3,
    XENVCPU_STEP_SUSPEND_CALL = 4,
    XENVCPU_STEP_SHARED_INFO = 5,
    XENVCPU_STEP_VCPU_INFO = 6,
    XENVCPU_STEP_UPDATE_FLAG = 7,
    XENVCPU_STEP_RUNSTATE_AREA = 8,
    XENVCPU_STEP_TIME_AREA = 9,
    XENVCPU_STEP_UPCALL_VECTOR = 10,
    XENVCPU_STEP_CALLBACK_IRQ = 11,
    XENVCPU_STEP_EVENTS = 12,
    XENVCPU_STEP_PERIODIC_TIMER = 13,
    XENVCPU_STEP_TIMERS = 14,
    XENVCPU_STEP_APS = 15
} xenvcpu_suspend_step;

/** What xenvcpu_domain_suspend needs beyond the domain. */
typedef struct xenvcpu_suspend_config {
    uint64_t start_info_mfn;         /**< PV: start_info's MFN (the third argument) */
    uint64_t callback_via;           /**< PVH: HVM_PARAM_CALLBACK_IRQ again; 0: 1 if upcall_vector */
    uint8_t upcall_vector;           /**< PVH: per-vCPU upcall vector again; 0: none */
    xenvcpu_smp *smp;                /**< APs parked and brought back; NULL: none */
    xenvcpu_timer_driver *timers;    /**< ports and pending timers; NULL: none */
    const xenvcpu_wait_bound *bound; /**< per AP; NULL: the defaults */
    void *ctx;                       /**< passed to both hooks */
    /** PV, required: map the new domain's shared_info; return it (NULL fails). */
    void *(*remap_shared_info)(void *ctx);
    /** Optional: right before the hypercall; an error cancels the suspend. */
    xenvcpu_errc (*before_suspend)(void *ctx);
    /** PV with an smp, required: the cr3 restarted APs get in the new domain
     *  (pfn_to_cr3 of the L4's new MFN). */
    uint64_t (*pv_cr3)(void *ctx);
} xenvcpu_suspend_config;

/** What xenvcpu_domain_suspend did, and where a failure stopped it. */
typedef struct xenvcpu_suspend_report {
    xenvcpu_suspend_outcome outcome;  /**< how the hypercall returned (meaningless if a step before it failed) */
    xenvcpu_suspend_step failed_step; /**< the step that failed (XENVCPU_STEP_NONE: none) */
    uint32_t failed_vcpu;             /**< the vCPU it failed on, for per-vCPU steps */
    xenvcpu_errc cause;               /**< the failed step's error */
    uint64_t clock_before_ns;         /**< the clock right before the hypercall */
    uint64_t clock_after_ns;          /**< the clock after the re-base (never lower) */
    int64_t offset_ns;                /**< xenvcpu_domain_clock_offset afterwards */
    uint32_t aps_parked;              /**< APs parked for the suspend */
    uint32_t aps_back;                /**< of those, brought back online */
    uint32_t ports_rebound;           /**< VIRQ and IPI ports bound again */
    uint32_t downed_to_register;      /**< vCPUs found up, downed to register, upped */
    uint32_t still_registered;        /**< registrations Xen still held (a reset domain) */
} xenvcpu_suspend_report;

/** Suspend for save, checkpoint or migration, and resume (Domain::suspend):
 *  on vCPU 0, thread context, upcalls held off. `report` may be NULL;
 *  `outcome` (may be NULL) says resumed (new domain) or cancelled. Errors:
 *  XENVCPU_NOT_CURRENT_VCPU, XENVCPU_INVALID_ARGUMENT (PV without
 *  remap_shared_info), XENVCPU_SUSPEND_FAILED (nothing suspended, all
 *  undone), XENVCPU_RESUME_FAILED (stopped at report->failed_step). */
xenvcpu_errc xenvcpu_domain_suspend(xenvcpu_domain *d, const xenvcpu_suspend_config *config,
                                    xenvcpu_suspend_outcome *outcome, xenvcpu_suspend_report *report) XENVCPU_NOEXCEPT;
/** For a kernel that made SCHEDOP_shutdown(SHUTDOWN_suspend) itself and got
 *  0 back (a new domain): redo the library's part of the resumed path
 *  (Domain::resumed): shared_info (PV: through remap_shared_info), vcpu_info,
 *  the clock re-based to go on from `before_ns` (the kernel's
 *  xenvcpu_domain_now right before its hypercall, no lower than any reading
 *  it took), runstate and time areas, steal, PVH upcall vector and callback,
 *  the library's VIRQs and IPIs, the PV tick stopped, `timers` restarted if
 *  it was running. Parks and brings back no AP; start_info_mfn and
 *  before_suspend are not used. On vCPU 0, upcalls held off. `report` may
 *  be NULL. Errors as xenvcpu_domain_suspend's after the hypercall. */
xenvcpu_errc xenvcpu_domain_resumed(xenvcpu_domain *d, const xenvcpu_suspend_config *config, uint64_t before_ns,
                                    xenvcpu_suspend_report *report) XENVCPU_NOEXCEPT;
/** The kernel-visible clock minus Xen's system time (0 before any restore). */
int64_t xenvcpu_domain_clock_offset(const xenvcpu_domain *d) XENVCPU_NOEXCEPT;
/** A time of the kernel-visible clock (xenvcpu_domain_now) as Xen's system
 *  time, for a deadline the kernel hands Xen itself (set_singleshot_timer,
 *  SCHEDOP_poll): minus the offset; 1 if that is below 0. Never fails. */
uint64_t xenvcpu_domain_to_xen_time(const xenvcpu_domain *d, uint64_t t) XENVCPU_NOEXCEPT;
/** A step's name for logs ("vcpu_info", ...). */
const char *xenvcpu_suspend_step_name(xenvcpu_suspend_step step) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * PV: the p2m for the toolstack (save, restore, migration)
 * --------------------------------------------------------------------- */

/** One page of the p2m frame lists: 512 MFNs. */
typedef struct xenvcpu_p2m_page {
    XENVCPU_ALIGNAS(4096) uint64_t mfn[512]; /**< MFNs, filled by xenvcpu_pv_publish_p2m */
} xenvcpu_p2m_page;

/** PV: let the toolstack find the p2m at `p2m` (start_info's mfn_list,
 *  `nr_pfns` entries, page aligned): fill `list_list` (one page) and
 *  `lists` (`nr_list_pages` pages, each covering 1 GiB of guest memory)
 *  with the MFNs the frame_of hook gives, and publish them in shared_info
 *  (arch.max_pfn, arch.pfn_to_mfn_frame_list_list). Without it a PV guest
 *  cannot be saved; a restored guest must call it again. The pages must
 *  stay in place. Errors: XENVCPU_UNSUPPORTED (not PV);
 *  XENVCPU_INVALID_ARGUMENT (no frame_of hook, a NULL pointer, no pfns);
 *  XENVCPU_AREA_MISALIGNED (p2m not page aligned); XENVCPU_NO_SPACE (too
 *  few list pages). */
xenvcpu_errc xenvcpu_pv_publish_p2m(xenvcpu_domain *d, const uint64_t *p2m, uint64_t nr_pfns,
                                    xenvcpu_p2m_page *list_list, xenvcpu_p2m_page *lists,
                                    uint32_t nr_list_pages) XENVCPU_NOEXCEPT;

/* ------------------------------------------------------------------------
 * Link-time hook
 * --------------------------------------------------------------------- */

/** Provided by the kernel: stop it, with `message`. Called by the library
 *  only for a broken invariant. Must not return. */
XENVCPU_NORETURN void xenvcpu_panic(const char *message) XENVCPU_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#undef XENVCPU_NOEXCEPT
#undef XENVCPU_NORETURN

#endif /* XENVCPU_H */
