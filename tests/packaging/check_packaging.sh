#!/usr/bin/env bash
# The library as other projects consume it, in the freestanding build:
#  1. as a meson subproject: dependency('xenvcpu') through
#     meson.override_dependency, linked into a tiny freestanding object;
#  2. installed: headers under <includedir>/xenvcpu/xen/ (never shadowing
#     Xen's own xen/*.h), libxenvcpu.a and xenvcpu.pc whose Cflags point
#     there;
#  3. the C API from the install: a C file built with pkg-config's flags
#     beside a kernel's usual ones (freestanding, no red zone, kernel code
#     model, general registers only) includes <xenvcpu.h>, links against the archive,
#     and the result asks only for the documented hooks (xenvcpu_panic and
#     the mem* functions);
#  4. a kernel with a hypercall page of its own: it defines
#     xenvcpu_hypercall_page as an alias of its page, and the archive's page
#     is not linked at all.
# Usage: check_packaging.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/xenvcpu-packaging.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. Subproject.
mkdir -p "$work/user/subprojects"
ln -s "$src" "$work/user/subprojects/xenvcpu"
cat >"$work/user/meson.build" <<'MESON'
project('user-kernel', 'cpp', default_options: ['cpp_std=c++20'])
dep = dependency('xenvcpu', fallback: ['xenvcpu', 'xenvcpu_dep'])
static_library('user', 'user.cpp', dependencies: dep,
  cpp_args: ['-ffreestanding', '-fno-exceptions', '-fno-rtti', '-mno-red-zone', '-mcmodel=kernel', '-fno-pic'])
MESON
cat >"$work/user/user.cpp" <<'CPP'
#include <xen/hypercall.hpp>
extern "C" long user_is_up(unsigned id) { return xen::hc::vcpu_is_up(xen::VcpuId{id}).value_or(false); }
CPP
meson setup "$work/user-build" "$work/user" --cross-file "$src/cross/x86_64-xen.ini" >"$work/setup.log" 2>&1 ||
    { cat "$work/setup.log"; echo "FAIL: configuring a project that uses xenvcpu as a subproject"; exit 1; }
ninja -C "$work/user-build" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; echo "FAIL: building against the subproject"; exit 1; }
echo "ok: used as a meson subproject (dependency('xenvcpu'))"

# 2. Install.
meson install -C "$build" --destdir "$work/dest" --no-rebuild >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; echo "FAIL: meson install"; exit 1; }
pc=$(find "$work/dest" -name xenvcpu.pc | head -n1)
hdr=$(find "$work/dest" -path '*/xenvcpu/xen/hypercall/vcpu_op.hpp' | head -n1)
lib=$(find "$work/dest" -name libxenvcpu.a | head -n1)
[ -n "$pc" ] && [ -n "$hdr" ] && [ -n "$lib" ] ||
    { find "$work/dest"; echo "FAIL: install is missing xenvcpu.pc, headers or libxenvcpu.a"; exit 1; }
grep -q -- '-I${includedir}/xenvcpu' "$pc" ||
    { cat "$pc"; echo "FAIL: xenvcpu.pc does not add <includedir>/xenvcpu"; exit 1; }
if find "$work/dest" -path '*/include/xen/*' -not -path '*/xenvcpu/*' | grep -q .; then
    echo "FAIL: headers installed where they could shadow Xen's xen/*.h"; exit 1
fi
echo "ok: installed headers in <includedir>/xenvcpu/xen, libxenvcpu.a, xenvcpu.pc"

# 3. The C API, installed. The .pc names the install prefix; the sysroot
#    puts the staged copy in front of it.
chdr=$(find "$work/dest" -path '*/include/xenvcpu/xenvcpu.h' | head -n1)
[ -n "$chdr" ] || { find "$work/dest"; echo "FAIL: xenvcpu.h is not installed in <includedir>/xenvcpu"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$work/dest"
cflags=$(pkg-config --cflags xenvcpu)
cat >"$work/user.c" <<'C'
#include <xenvcpu.h>

static xenvcpu_domain domain;
static xenvcpu_vcpu_slot slots[4];
static xenvcpu_event_slot ports[16];
static xenvcpu_smp smp;
static xenvcpu_smp_scratch scratch;
static xenvcpu_timer_driver timers;

static uint32_t current(void *ctx) { (void)ctx; return 0; }

int user_setup(void *shared_info, const xenvcpu_smp_config *sc)
{
    xenvcpu_domain_config cfg = {XENVCPU_GUEST_PV, 0, 0, {0, current, 0, 0, 0, 0, 0, 0, 0, 0}};
    uint32_t n = 0;
    cfg.shared_info = shared_info;
    if (xenvcpu_domain_init(&domain, &cfg, slots, 4, ports, 16) != XENVCPU_OK ||
        xenvcpu_domain_discover(&domain, XENVCPU_MAX_PROBED_VCPUS, &n) != XENVCPU_OK ||
        xenvcpu_smp_init(&smp, &domain, sc, &scratch) != XENVCPU_OK ||
        xenvcpu_timer_driver_init(&timers, &domain, 0) != XENVCPU_OK)
        return -1;
    xenvcpu_smp_bring_up(&smp, XENVCPU_BRING_UP_PARALLEL, 0, 0);
    return (int)xenvcpu_domain_now(&domain);
}
C
# shellcheck disable=SC2086
gcc -std=c11 -Wall -Wextra -pedantic -ffreestanding -fno-pic -fno-pie -mno-red-zone -mcmodel=kernel -mgeneral-regs-only $cflags -c "$work/user.c" -o "$work/user.o" 2>"$work/cc.log" ||
    { cat "$work/cc.log"; echo "FAIL: a C file does not build with pkg-config --cflags xenvcpu"; exit 1; }
if grep -q . "$work/cc.log"; then
    cat "$work/cc.log"; echo "FAIL: warnings building a C file against the installed <xenvcpu.h>"; exit 1
fi
libs=$(pkg-config --libs xenvcpu)
# A relocatable link takes from the archive what the C file needs, as a
# kernel's final link would.
# shellcheck disable=SC2086
ld -r -o "$work/linked.o" "$work/user.o" $libs ||
    { echo "FAIL: linking a C file against the installed libxenvcpu.a ($libs)"; exit 1; }
unexpected=$(nm -u "$work/linked.o" | awk '{print $NF}' | grep -v -x -e xenvcpu_panic -e memcpy -e memset -e memmove -e memcmp || true)
if [ -n "$unexpected" ]; then
    echo "$unexpected"; echo "FAIL: a C kernel linking the C API would have to provide the symbols above"; exit 1
fi
echo "ok: a C file built with pkg-config's flags includes <xenvcpu.h> and links; it needs only: $(nm -u "$work/linked.o" | awk '{print $NF}' | sort -u | tr '\n' ' ')"

# 4. The kernel's own hypercall page, by symbol.
cat >"$work/own_page.S" <<'ASM'
    .section .text.kernel_hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc
    .globl xenvcpu_hypercall_page
    .set xenvcpu_hypercall_page, hypercall_page
    .section .note.GNU-stack, "", @progbits
ASM
gcc -c "$work/own_page.S" -o "$work/own_page.o"
# shellcheck disable=SC2086
ld -r -o "$work/own.o" "$work/user.o" "$work/own_page.o" $libs ||
    { echo "FAIL: linking the C API beside the kernel's own hypercall page"; exit 1; }
if objdump -h "$work/own.o" | grep -q 'text\.xenvcpu_hypercall_page'; then
    echo "FAIL: the library's hypercall page was linked although the kernel defines xenvcpu_hypercall_page"; exit 1
fi
[ "$(nm "$work/own.o" | awk '$2 == "T" && $3 == "xenvcpu_hypercall_page"' | wc -l)" = 1 ] ||
    { nm "$work/own.o" | grep hypercall_page; echo "FAIL: xenvcpu_hypercall_page is not the kernel's page alone"; exit 1; }
echo "ok: with the kernel's own page aliased as xenvcpu_hypercall_page, the library's page is not linked"
