/* AP entry: where every application processor (a vCPU other than the boot
 * vCPU) starts, PV and PVH alike. Xen starts it from the context the boot
 * vCPU gave VCPUOP_initialise (smp.cpp, the library's make_*_context):
 *   rdi = this AP's xen::ApHandshake, rsp = the top of its own stack,
 *   events masked (PV: its vcpu_info's evtchn_upcall_mask; PVH: IF clear),
 *   PV: 64-bit ring 3 kernel, Xen's flat selectors, its trap table and
 *       callbacks, and its per-CPU block as the kernel GS base;
 *   PVH: 64-bit ring 0 with flat segments but no GDT, IDT or TR yet - so
 *       nothing may fault before the C++ entry has loaded them.
 * The stub reports the first stage of the handshake and calls the kernel
 * entry named in the handshake with it: ap_main(ApHandshake&), never
 * returning. The offsets are xen/smp/handshake.hpp's, static_asserted in
 * smp.cpp against these numbers. */

#define HS_STAGE      0     /* xen::ap_handshake_stage_offset */
#define HS_ENTRY      24    /* xen::ap_handshake_entry_offset */
#define STAGE_ENTERED 1     /* xen::ApStage::entered */

    .section .text, "ax", @progbits
    .code64
    .globl ap_entry_stub
    .type ap_entry_stub, @function
ap_entry_stub:
    cld
    movl $STAGE_ENTERED, HS_STAGE(%rdi)   /* an aligned store: the controller reads it whole */
    xor %ebp, %ebp                        /* end of the frame-pointer chain */
    call *HS_ENTRY(%rdi)                  /* ap_main(handshake): never returns */
1:  ud2
    jmp 1b
    .size ap_entry_stub, . - ap_entry_stub

    .section .note.GNU-stack, "", @progbits
