/* PV entry (XEN_ELFNOTE_ENTRY). Xen starts vCPU 0 here in 64-bit mode, in
 * ring 3 (a 64-bit PV kernel never runs in ring 0), with:
 *   rsi = virtual address of struct start_info,
 *   rsp = a small stack at the end of Xen's bootstrap area,
 *   the image, start_info and Xen's bootstrap page tables mapped, and the
 *   hypercall page already filled (XEN_ELFNOTE_HYPERCALL_PAGE).
 * No event or trap handler is set yet: a fault now makes Xen crash the
 * domain (and print the registers), which is what we want this early. */

    .section .text.boot, "ax", @progbits
    .code64
    .globl pv_start
    .type pv_start, @function
pv_start:
    cld
    mov %rsi, %r12                  /* keep start_info across the clear */

    /* Xen's loader already zeroes .bss; clearing it again keeps the kernel
     * correct under loaders that do not. Nothing Xen placed lies inside. */
    mov $__bss_start, %rdi
    mov $__bss_end, %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    rep stosb

    mov $boot_stack_top, %rsp       /* our own stack, 16-byte aligned */
    xor %ebp, %ebp                  /* end of the frame-pointer chain */
    mov %r12, %rdi
    call pv_main                    /* boot_pv.cpp: never returns */
1:  ud2
    jmp 1b
    .size pv_start, . - pv_start

    /* The boot stack, shared with the PVH entry (only one of them runs). */
    .section .bss.boot_stack, "aw", @nobits
    .balign 16
    .globl boot_stack_top
boot_stack:
    .skip 16384
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
