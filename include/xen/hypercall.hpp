/// \file
/// Every typed hypercall wrapper in one include.
#pragma once

#include <xen/hypercall/event_channel_op.hpp>
#include <xen/hypercall/multicall.hpp>
#include <xen/hypercall/platform_op.hpp>
#include <xen/hypercall/sched_op.hpp>
#include <xen/hypercall/vcpu_op.hpp>
#include <xen/hypercall/xen_version.hpp>
