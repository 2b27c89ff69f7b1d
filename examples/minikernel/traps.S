/* Trap and event-upcall entry stubs for both guest types.
 *
 * Both build the same TrapFrame (traps.hpp) and call trap_dispatch(frame):
 *     r15 ... rax (15 registers), vector, error_code, rip, cs, rflags, rsp, ss
 * (low to high address). Only the way in and the way out differ.
 *
 * PVH (a real IDT): the CPU pushes ss, rsp, rflags, cs, rip and, for some
 * vectors, an error code. We return with iretq.
 *
 * PV: Xen delivers an exception or event by writing a "bounce frame" on the
 * kernel stack (Xen's x86-64 create_bounce_frame):
 *     rcx, r11, [error_code], rip, cs, rflags, rsp, ss      (low to high)
 * Xen used rcx and r11 itself (syscall/sysret clobber them), so it saved the
 * interrupted values on top; we reload them and drop the two slots, which
 * leaves a hardware-shaped frame. Bits 32-39 of the cs slot hold the
 * saved event mask; rflags.IF is its inverse.
 * A PV kernel runs in ring 3 and cannot iretq to itself while restoring the
 * event mask, so it returns with the iret hypercall: it pushes one flags
 * word and jumps (not calls) into the hypercall page's iret entry, which
 * pushes r11, rcx and rax itself and so completes Xen's
 *     struct iret_context { rax, r11, rcx, flags, rip, cs, rflags, rsp, ss }
 * (public arch-x86/xen-x86_64.h). flags 0 (not VGCF_in_syscall) restores
 * rcx, r11, cs:rip, rflags and ss:rsp, and Xen sets the event mask from
 * rflags.IF, so events masked by the upcall come back on.
 */

/* Vectors 256 and 257 are not CPU vectors: the PV event and failsafe
 * callbacks (traps.hpp). */
#define PV_EVENT_VECTOR    256
#define PV_FAILSAFE_VECTOR 257
#define HYPERCALL_IRET     23       /* __HYPERVISOR_iret */

/* Exceptions for which the CPU (or Xen) pushes an error code. */
.macro has_error_code vec, out
    .set \out, ((\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || \
                (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || \
                (\vec == 29) || (\vec == 30))
.endm

.macro save_registers
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
.endm

.macro restore_registers
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
.endm

/* Call trap_dispatch(frame) on a 16-byte aligned stack; rbx (saved in the
 * frame) remembers the frame. The red zone is off (-mno-red-zone), so the
 * interrupted code left nothing below its rsp that we could overwrite. */
.macro call_dispatch
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    call trap_dispatch
    mov %rbx, %rsp
.endm

    .section .text, "ax", @progbits
    .code64

/* ---- PVH: 256 stubs of 16 bytes, stub N at pvh_trap_stubs + 16 * N ------ */
    .balign 16
    .globl pvh_trap_stubs
pvh_trap_stubs:
    .set vec, 0
    .rept 256
    has_error_code vec, err
    .if !err
    push $0                         /* uniform frame: a dummy error code */
    .endif
    push $vec
    jmp pvh_trap_common
    .set vec, vec + 1
    .org pvh_trap_stubs + vec * 16  /* next slot; fails to assemble if a stub outgrew 16 bytes */
    .endr

pvh_trap_common:
    save_registers
    call_dispatch
    restore_registers
    add $16, %rsp                   /* vector, error code */
    iretq

/* ---- PV: 32 exception stubs of 32 bytes, stub N at pv_trap_stubs + 32 * N */
    .balign 32
    .globl pv_trap_stubs
pv_trap_stubs:
    .set vec, 0
    .rept 32
    mov (%rsp), %rcx                /* the bounce frame's saved rcx, r11 */
    mov 8(%rsp), %r11
    add $16, %rsp
    has_error_code vec, err
    .if !err
    push $0
    .endif
    push $vec
    jmp pv_trap_common
    .set vec, vec + 1
    .org pv_trap_stubs + vec * 32
    .endr

/* Event upcall (CALLBACKTYPE_event): the bounce frame has no error code.
 * Xen masked events (vcpu_info.evtchn_upcall_mask = 1) before entry. */
    .globl pv_event_callback
pv_event_callback:
    mov (%rsp), %rcx
    mov 8(%rsp), %r11
    add $16, %rsp
    push $0
    push $PV_EVENT_VECTOR
    jmp pv_trap_common

/* Failsafe callback (CALLBACKTYPE_failsafe): Xen could not load the segment
 * registers or the iret frame we gave it. Its frame is
 *     rcx, r11, ds, es, fs, gs, rip, cs, rflags, rsp, ss
 * We drop the four selectors; trap_dispatch reports it and never returns. */
    .globl pv_failsafe_callback
pv_failsafe_callback:
    mov (%rsp), %rcx
    mov 8(%rsp), %r11
    add $48, %rsp
    push $0
    push $PV_FAILSAFE_VECTOR
    jmp pv_trap_common

pv_trap_common:
    save_registers
    call_dispatch
    restore_registers
    add $16, %rsp                   /* vector, error code */
    push $0                         /* iret_context.flags: not VGCF_in_syscall */
    jmp xenvcpu_hypercall_page + HYPERCALL_IRET * 32

    .section .note.GNU-stack, "", @progbits
