#!/usr/bin/env bash
# The library as other projects consume it, in the freestanding build:
#  1. as a meson subproject: dependency('xenvcpu') through
#     meson.override_dependency, linked into a tiny freestanding object;
#  2. installed: headers under <includedir>/xenvcpu/xen/ (never shadowing
#     Xen's own xen/*.h), libxenvcpu.a and xenvcpu.pc whose Cflags point
#     there.
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
