#!/usr/bin/env bash
# The library as kernel projects take it, from the freestanding build:
#  1. installed: `meson install` of this build into a temporary tree gives
#     headers under <includedir>/xenvcpu/ (never shadowing Xen's own
#     xen/*.h), libxenvcpu.a, xenvcpu.pc whose Cflags point there, and the
#     CMake package (<libdir>/cmake/xenvcpu/xenvcpuConfig.cmake + Version);
#  2. the three consumer examples in examples/consumers/, each a tiny
#     freestanding C kernel built with the kernel flags of docs/building.md
#     and linked (ld -r) with the archive:
#       meson  as a subproject (dependency('xenvcpu') through
#              meson.override_dependency), then against the install through
#              pkg-config;
#       cmake  find_package(xenvcpu) with CMAKE_PREFIX_PATH = the install;
#       make   pkg-config --cflags --libs xenvcpu, PKG_CONFIG_PATH = the install;
#     each build is warning-free (the examples use -Werror) and each linked
#     object asks only for the documented link-time hooks (check_undefined);
#  3. a kernel with a hypercall page of its own: it defines
#     xenvcpu_hypercall_page as an alias of its page, and the archive's page
#     is not linked at all.
# The install is staged with --destdir, so the tree is DEST/PREFIX: CMake
# takes it as it is (the package config finds its prefix from its own
# location), pkg-config through PKG_CONFIG_SYSROOT_DIR=DEST.
# Needs meson, ninja, cmake, make and pkg-config (scripts/test installs them).
# Usage: check_packaging.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1 build=$2
examples=$src/examples/consumers
work=$(mktemp -d "${TMPDIR:-/tmp}/xenvcpu-packaging.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
# No `| grep -q` here: under pipefail, grep -q leaving at its first match
# can kill the writer with SIGPIPE, and the pipeline then fails though the
# line was there (it did, once nm's output outgrew one write).
for tool in meson ninja cmake make pkg-config nm ld; do
    command -v "$tool" >/dev/null ||
        fail "$tool is not installed; the consumer examples need it (scripts/test installs it: apt-get install cmake make pkg-config ...)"
done

# Run a build step quietly; on failure show its log.
run() { # log name, what, command...
    local log=$work/$1.log what=$2; shift 2
    "$@" >"$log" 2>&1 || { cat "$log"; fail "$what"; }
}

# The link-time symbols a kernel provides (docs/building.md, "What a kernel
# provides"). The examples define xenvcpu_panic themselves and leave the
# string functions to the rest of the kernel.
documented_hooks=(xenvcpu_panic memcpy memset memmove memcmp)
check_undefined() { # linked object, what
    local undefined sym hook unexpected=""
    undefined=$(nm -u "$1" | awk '{print $NF}' | sort -u)
    for sym in $undefined; do
        for hook in "${documented_hooks[@]}"; do [ "$sym" = "$hook" ] && continue 2; done
        unexpected+=" $sym"
    done
    [ -z "$unexpected" ] || fail "$2: the link also asks for:$unexpected (allowed: ${documented_hooks[*]})"
    nm "$1" | grep ' T xenvcpu_domain_init$' >/dev/null || fail "$2: the library's code is not in the linked object"
    echo "ok: $2 builds and links; undefined: ${undefined//$'\n'/ }"
}

# 1. Install.
run install "meson install" meson install -C "$build" --destdir "$work/dest" --no-rebuild
read -r prefix libdir includedir < <(meson introspect "$build" --buildoptions | /usr/bin/python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["libdir"], o["includedir"])')
root=$work/dest$prefix
lib=$root/$libdir inc=$root/$includedir
for f in "$inc/xenvcpu/xenvcpu.h" "$inc/xenvcpu/xen/hypercall/vcpu_op.hpp" "$lib/libxenvcpu.a" \
         "$lib/pkgconfig/xenvcpu.pc" "$lib/cmake/xenvcpu/xenvcpuConfig.cmake" \
         "$lib/cmake/xenvcpu/xenvcpuConfigVersion.cmake"; do
    [ -f "$f" ] || { (cd "$root" && find . -type f | sort); fail "the install has no ${f#"$root"/}"; }
done
# shellcheck disable=SC2016 # the literal ${includedir} of the .pc
grep -q -- '-I${includedir}/xenvcpu' "$lib/pkgconfig/xenvcpu.pc" ||
    { cat "$lib/pkgconfig/xenvcpu.pc"; fail "xenvcpu.pc does not add <includedir>/xenvcpu"; }
if find "$work/dest" -path '*/include/xen/*' -not -path '*/xenvcpu/*' | grep . >/dev/null; then
    fail "headers installed where they could shadow Xen's xen/*.h"
fi
echo "ok: installed under $prefix: $(cd "$root" && find . -type f -not -path './include/xenvcpu/xen/*' | sort | sed 's|^\./||' | tr '\n' ' ')and $(find "$inc/xenvcpu/xen" -type f | wc -l) headers in $includedir/xenvcpu/xen"

# pkg-config reads the staged .pc; the sysroot puts the staging directory
# in front of the prefix it names.
export PKG_CONFIG_SYSROOT_DIR=$work/dest

# 2a. meson, as a subproject.
# The examples share ../kernel.c, so each copy takes the whole directory.
cp -r "$examples" "$work/meson-sub"
mkdir "$work/meson-sub/meson/subprojects"
ln -s "$src" "$work/meson-sub/meson/subprojects/xenvcpu"
run meson-sub-setup "configuring the meson example with xenvcpu as a subproject" \
    meson setup "$work/meson-sub/build" "$work/meson-sub/meson" --cross-file "$work/meson-sub/meson/cross.ini" \
    --force-fallback-for=xenvcpu
grep -q 'Subproject xenvcpu finished' "$work/meson-sub-setup.log" ||
    { cat "$work/meson-sub-setup.log"; fail "the meson example did not take xenvcpu as a subproject"; }
run meson-sub-build "building the meson example with xenvcpu as a subproject" ninja -C "$work/meson-sub/build"
check_undefined "$work/meson-sub/build/kernel.o" "meson example, xenvcpu as a subproject"

# 2b. meson, installed (pkg-config; meson reads no PKG_CONFIG_PATH in a
#     cross build, so the path is an option).
cp -r "$examples" "$work/meson-pc"
run meson-pc-setup "configuring the meson example against the install" \
    meson setup "$work/meson-pc/build" "$work/meson-pc/meson" --cross-file "$work/meson-pc/meson/cross.ini" \
    -Dpkg_config_path="$lib/pkgconfig"
grep -q 'pkg-config --modversion xenvcpu` -> 0' "$work/meson-pc/build/meson-logs/meson-log.txt" ||
    { cat "$work/meson-pc-setup.log"; fail "the meson example did not find the install through pkg-config"; }
run meson-pc-build "building the meson example against the install" ninja -C "$work/meson-pc/build"
check_undefined "$work/meson-pc/build/kernel.o" "meson example, installed xenvcpu through pkg-config"

# 2c. CMake: find_package from the install prefix.
run cmake-setup "configuring the CMake example (find_package(xenvcpu) in $root)" \
    cmake -S "$examples/cmake" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$root"
found=$(sed -n 's/^xenvcpu_DIR:PATH=//p' "$work/cmake/CMakeCache.txt")
[ "$found" = "$lib/cmake/xenvcpu" ] || fail "the CMake example found xenvcpu in '$found', not in the install"
run cmake-build "building the CMake example" cmake --build "$work/cmake"
check_undefined "$work/cmake/kernel.o" "CMake example, find_package(xenvcpu)"

# 2d. make with pkg-config.
cp -r "$examples" "$work/make"
run make-build "building the make example" env PKG_CONFIG_PATH="$lib/pkgconfig" make -C "$work/make/make"
check_undefined "$work/make/make/kernel.o" "make example, pkg-config --cflags --libs xenvcpu"

# 3. The kernel's own hypercall page, by symbol.
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
libs=$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --libs xenvcpu)
# shellcheck disable=SC2086
ld -r -o "$work/own.o" "$work/make/make/kernel.c.o" "$work/own_page.o" $libs ||
    fail "linking the C API beside the kernel's own hypercall page"
if objdump -h "$work/own.o" | grep 'text\.xenvcpu_hypercall_page' >/dev/null; then
    fail "the library's hypercall page was linked although the kernel defines xenvcpu_hypercall_page"
fi
[ "$(nm "$work/own.o" | awk '$2 == "T" && $3 == "xenvcpu_hypercall_page"' | wc -l)" = 1 ] ||
    { nm "$work/own.o" | grep hypercall_page; fail "xenvcpu_hypercall_page is not the kernel's page alone"; }
echo "ok: with the kernel's own page aliased as xenvcpu_hypercall_page, the library's page is not linked"
