/* PVH entry (XEN_ELFNOTE_PHYS32_ENTRY). Xen starts vCPU 0 here in 32-bit
 * flat protected mode, paging off, interrupts off, with:
 *   ebx = guest-physical address of struct hvm_start_info,
 *   cs = flat 32-bit code, ds/es/ss = flat data, no usable stack.
 * We enter long mode the architectural way:
 *   1. page tables identity-mapping the first 1 GiB (but page 0),
 *   2. CR4.PAE, CR3, EFER.LME, then CR0.PG (the CPU sets EFER.LMA),
 *   3. a GDT with a 64-bit code segment and a far jump into it.
 * The hypercall page is installed later, from C++ (boot_pvh.cpp). */

    .section .text.boot, "ax", @progbits
    .code32
    .globl pvh_start
    .type pvh_start, @function
pvh_start:
    cld
    mov %ebx, %esi                  /* hvm_start_info stays in esi */

    /* Clear .bss (Xen's loader does too; see entry_pv.S). */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    /* 2. Long mode: PAE paging with our tables, EFER.LME, then paging on. */
    mov %cr4, %eax
    or $(1 << 5), %eax              /* CR4.PAE */
    mov %eax, %cr4
    mov $pvh_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx           /* MSR_EFER */
    rdmsr
    or $(1 << 8), %eax              /* EFER.LME */
    wrmsr
    mov %cr0, %eax
    or $((1 << 31) | (1 << 0)), %eax /* CR0.PG | CR0.PE */
    mov %eax, %cr0

    /* 3. Into 64-bit code. */
    lgdt pvh_boot_gdt_ptr
    ljmp $0x08, $pvh_start64

    .code64
pvh_start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs

    mov $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov %esi, %edi                  /* zero-extends: physical == virtual */
    call pvh_main                   /* boot_pvh.cpp: never returns */
1:  hlt
    jmp 1b
    .size pvh_start, . - pvh_start

    .section .data.pvh_boot, "aw", @progbits

    /* 1. Page tables, built by the assembler: PML4[0] -> PDPT[0] -> one page
     * directory = the first GiB, identity, write-back, writable. The first
     * 2 MiB go through a page table so that page 0 can stay unmapped (a null
     * pointer faults); the rest are 2 MiB pages (0x83 = present | writable |
     * page size). */
    .balign 4096
pvh_pml4:
    .quad pvh_pdpt + 0x3            /* present | writable */
    .fill 511, 8, 0
pvh_pdpt:
    .quad pvh_pd + 0x3
    .fill 511, 8, 0
pvh_pd:
    .quad pvh_pt + 0x3
    .set page, 1
    .rept 511
    .quad (page << 21) | 0x83
    .set page, page + 1
    .endr
pvh_pt:
    .quad 0                         /* page 0: not present */
    .set page, 1
    .rept 511
    .quad (page << 12) | 0x3
    .set page, page + 1
    .endr

    /* The boot GDT: null, 64-bit code (0x08), data (0x10). traps.cpp loads
     * the final GDT with the same selectors plus a TSS. */
    .balign 8
pvh_boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* code: present, DPL 0, L=1 */
    .quad 0x00cf92000000ffff        /* data: present, DPL 0, writable */
pvh_boot_gdt_ptr:
    .word pvh_boot_gdt_ptr - pvh_boot_gdt - 1
    .long pvh_boot_gdt

    .section .note.GNU-stack, "", @progbits
