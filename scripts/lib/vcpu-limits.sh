# shellcheck shell=bash
# How many vCPUs each guest type can boot with the minikernel, and which
# build of it serves a count: the one place scripts/boot, scripts/matrix and
# the tests take these figures from. Source this file; it defines variables
# and functions only. docs/smp.md ("Beyond 256 vCPUs") has the measurements.
#
# xv_max_vcpus MODE          the largest vCPU count MODE (pv or pvh) runs
# xv_kernel_max_vcpus N      the -Dmax_vcpus of the build that serves N vCPUs
# xv_kernel_build_dir N      that build's directory, relative to the tree
# xv_kernel_image_mib ELF    the MiB from physical 0 to the end of a kernel's
#                            loadable image, .bss included (empty if ELF
#                            cannot be read, e.g. no readelf)
# xv_dom0_mib IMAGE          dom0_mem for a PV or PVH dom0 whose image ends
#                            at IMAGE MiB: 64, or the power of two that holds
#                            the image and 4 MiB more (Xen builds a PV dom0's
#                            initial mapping in one power-of-two block and
#                            panics "Domain 0 allocation is too small for
#                            kernel image" if dom0_mem is below it)
# xv_guest_mib IMAGE FLOOR SPARE  memory for a domU whose image ends at
#                            IMAGE MiB: IMAGE + SPARE rounded up to 16 MiB,
#                            never below FLOOR

# The default build (build/target, no -Dmax_vcpus): 256 vCPUs.
xv_default_max_vcpus=256
# PV: the most the minikernel can be built for. Each vCPU holds two
# event-channel ports (call IPI, VIRQ_TIMER) and 64 stay spare, within the
# 4096 ports of the 2-level ABI: (4096 - 64) / 2 = 2016. The top-level
# meson.build refuses -Dmax_vcpus above it with the same arithmetic; the
# target suite checks that the two agree. Xen itself would build a PV dom0
# with more (it took 4096, measured on 4.17).
xv_max_vcpus_pv=2016
# PVH: Xen gives an HVM/PVH domain at most HVM_MAX_VCPUS = 128, dom0 too
# (it silently caps dom0_max_vcpus), on 4.17 and 4.20.
xv_max_vcpus_pvh=128
# The sizes the harness builds besides the default: one for up to 1024
# vCPUs, one at the maximum (each build: 80 s on two lightly loaded cores).
xv_big_max_vcpus=1024

xv_max_vcpus() { # pv|pvh
    case $1 in
    pv) echo "$xv_max_vcpus_pv" ;;
    pvh) echo "$xv_max_vcpus_pvh" ;;
    *) return 1 ;;
    esac
}

xv_kernel_max_vcpus() { # N
    if [ "$1" -le "$xv_default_max_vcpus" ]; then
        echo "$xv_default_max_vcpus"
    elif [ "$1" -le "$xv_big_max_vcpus" ]; then
        echo "$xv_big_max_vcpus"
    else
        echo "$xv_max_vcpus_pv"
    fi
}

xv_kernel_build_dir() { # N
    local m
    m=$(xv_kernel_max_vcpus "$1")
    if [ "$m" = "$xv_default_max_vcpus" ]; then echo build/target; else echo "build/target-vcpus$m"; fi
}

xv_kernel_image_mib() { # ELF
    command -v readelf >/dev/null || return 0
    local type paddr memsz hi=0
    while read -r type _ _ paddr _ memsz _; do
        [ "$type" = LOAD ] || continue
        if [ $((paddr + memsz)) -gt "$hi" ]; then hi=$((paddr + memsz)); fi
    done < <(LC_ALL=C readelf -lW "$1" 2>/dev/null || true)
    if [ "$hi" -gt 0 ]; then echo $(( (hi + 1048575) / 1048576 )); fi
}

xv_dom0_mib() { # IMAGE
    local m=64
    while [ "$m" -lt $(($1 + 4)) ]; do m=$((m * 2)); done
    echo "$m"
}

xv_guest_mib() { # IMAGE FLOOR SPARE
    local want=$(( ($1 + $3 + 15) / 16 * 16 ))
    if [ "$want" -gt "$2" ]; then echo "$want"; else echo "$2"; fi
}
