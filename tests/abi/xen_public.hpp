// Xen's own public headers, for the conformance test only (the library never
// includes them). Our headers come first so no macro of Xen's can touch them.
#pragma once

#include <xen/abi/cpuid.hpp>
#include <xen/abi/elfnote.hpp>
#include <xen/abi/event_channel.hpp>
#include <xen/abi/guest_context.hpp>
#include <xen/abi/hvm_context.hpp>
#include <xen/abi/hypercall_numbers.hpp>
#include <xen/abi/multicall.hpp>
#include <xen/abi/platform.hpp>
#include <xen/abi/sched.hpp>
#include <xen/abi/shared_info.hpp>
#include <xen/abi/start_info.hpp>
#include <xen/abi/vcpu.hpp>
#include <xen/abi/version.hpp>
#include <xen/support/errc.hpp>

// A guest that names no interface version gets Xen's legacy one, where for
// instance __HYPERVISOR_sched_op is the compat op 6 and vcpu_time_info has no
// `flags`. We mirror the current interface, so ask for the newest these
// headers offer. The macro expands lazily: xen-compat.h defines
// __XEN_LATEST_INTERFACE_VERSION__ before it first uses this one.
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__

#include <xen/xen.h>

#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/callback.h>
#include <xen/elfnote.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/features.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>

#if !defined(__x86_64__)
#error "the conformance test compares the x86-64 layouts: build it for x86-64"
#endif

// Build-time expectation (meson passes it for Debian 13's headers): headers
// of Xen 4.18 or later must define the phys-area ops and feature bits, so a
// header set that silently lacks them cannot pass as "checked".
#if defined(ABI_EXPECT_XEN_4_18) && !defined(VCPUOP_register_runstate_phys_area)
#error "these headers should be Xen >= 4.18 but lack VCPUOP_register_runstate_phys_area"
#endif

namespace xa = xen::abi;
