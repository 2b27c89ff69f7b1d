/* C-callable helpers over the simulated Xen, for capi_test.c only. */
#ifndef XVT_SIM_SUPPORT_H
#define XVT_SIM_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A new simulated domain (the previous one goes), this thread its vCPU 0;
 * returns its shared_info page. */
void *xvt_sim_start(int pvh, uint32_t vcpus, int xen_4_20);
void xvt_sim_stop(void);
/* The vCPU this thread acts as, and switching it. */
uint32_t xvt_current(void);
void xvt_set_current(uint32_t v);
/* Virtual time: read, move on (firing timers), steal from vCPU v. */
uint64_t xvt_now(void);
void xvt_advance(uint64_t ns);
void xvt_preempt(uint32_t v, uint64_t ns);
/* Xen runs vCPU v (initialised, up and woken). */
bool xvt_running(uint32_t v);
uint32_t xvt_nmis(uint32_t v);
uint64_t xvt_vcpuop_calls(int op);
/* The kernel's own event channel work, beside the library's table: bind a
 * VIRQ straight through Xen (0 on failure); read and clear a port's
 * pending bit in shared_info. */
uint32_t xvt_bind_virq_raw(uint32_t virq, uint32_t v);
bool xvt_port_pending(uint32_t port);
void xvt_clear_port(uint32_t port);
/* Valid initialise contexts (Xen's structs, built by the C++ side). */
const void *xvt_pv_context(void);
const void *xvt_hvm_context(void);

/* Save/restore: what the next suspends do (cancelled, or a new domain
 * whose time moved by jump_ns and whose toolstack took `toolstack_ports`
 * low ports); Xen's shared_info now; restores so far; the PVH callback
 * param (0 if unset). */
void xvt_plan_suspend(int cancel, int64_t jump_ns, uint32_t toolstack_ports);
/* The kernel's own SCHEDOP_shutdown(SHUTDOWN_suspend): Xen's return value. */
long xvt_suspend_call(uint64_t start_info_mfn);
void *xvt_shared_info(void);
uint32_t xvt_restores(void);
uint64_t xvt_callback_irq(void);
uint64_t xvt_periodic_ns(uint32_t v);
/* Xen has a runstate area (op 5) / a time area (op 13) / a vcpu_info for v. */
bool xvt_runstate_area(uint32_t v);
bool xvt_time_area(uint32_t v);
bool xvt_vcpu_info_registered(uint32_t v);

#ifdef __cplusplus
}
#endif

#endif
