/* The hypercall page: 128 entries of 32 bytes that Xen fills with the
 * instruction sequence for this guest type (PV: syscall; HVM/PVH: vmcall or
 * vmmcall). Until Xen fills it, every entry traps (int3). */
    .section .text.xenvcpu_hypercall_page, "ax", @progbits
    .balign 4096
    .globl xenvcpu_hypercall_page
    .type xenvcpu_hypercall_page, @function
xenvcpu_hypercall_page:
    .fill 4096, 1, 0xcc
    .size xenvcpu_hypercall_page, 4096

    .section .note.GNU-stack, "", @progbits
