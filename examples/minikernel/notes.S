/* The ELF notes Xen's domain builder reads (public elfnote.h). Each note is
 * an ELF note named "Xen" whose type is a XEN_ELFNOTE_* number. One image
 * carries both the PV notes (ENTRY, HYPERCALL_PAGE, VIRT_BASE, ...) and the
 * PVH note (PHYS32_ENTRY): Xen picks by how it is asked to build dom0
 * (`dom0=pvh` on its command line selects PVH). */

/* xen_note TYPE: opens a note; the descriptor follows; xen_note_end closes it. */
.macro xen_note type
    .balign 4
    .long 2f - 1f          /* namesz */
    .long 4f - 3f          /* descsz */
    .long \type
1:  .asciz "Xen"
2:  .balign 4
3:
.endm
.macro xen_note_end
4:  .balign 4
.endm

    .section .note.xen, "a", @note

    /* XEN_ELFNOTE_GUEST_OS (6) and GUEST_VERSION (7): names for logs. */
    xen_note 6
    .asciz "xenvcpu-minikernel"
    xen_note_end
    xen_note 7
    .asciz "0.1"
    xen_note_end

    /* XEN_ELFNOTE_XEN_VERSION (5): the ABI generation we speak. */
    xen_note 5
    .asciz "xen-3.0"
    xen_note_end

    /* XEN_ELFNOTE_LOADER (8): a plain ELF loader is enough. */
    xen_note 8
    .asciz "generic"
    xen_note_end

    /* XEN_ELFNOTE_VIRT_BASE (3) and PADDR_OFFSET (4), both 0: the image is
     * linked at its pseudo-physical address, VA 1 MiB == PA 1 MiB. */
    xen_note 3
    .quad 0
    xen_note_end
    xen_note 4
    .quad 0
    xen_note_end

    /* XEN_ELFNOTE_ENTRY (1): the 64-bit PV entry point (a virtual address). */
    xen_note 1
    .quad pv_start
    xen_note_end

    /* XEN_ELFNOTE_HYPERCALL_PAGE (2): PV only; Xen fills the library's page
     * at this virtual address before the first instruction runs. */
    xen_note 2
    .quad xenvcpu_hypercall_page
    xen_note_end

    /* XEN_ELFNOTE_FEATURES (10): `dom0` declares that this kernel may run
     * as the hardware domain. Xen 4.17 and 4.20 also boot it as a PV dom0
     * without the word; it is here because it is true, as Linux says it. */
    xen_note 10
    .asciz "dom0"
    xen_note_end

    /* XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry, a 32-bit physical
     * address entered in flat 32-bit protected mode, paging off, ebx =
     * physical address of struct hvm_start_info. */
    xen_note 18
    .long pvh_start
    xen_note_end

    .section .note.GNU-stack, "", @progbits
