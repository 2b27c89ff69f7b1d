// Code-generation probe (built at -O2 with the kernel flags, never linked):
// three VCPUOP wrappers, each behind an extern "C" function with a stable
// name, so codegen_check.py can read what a wrapper really costs. The
// promise (ARCHITECTURE.md): register loads, one direct call into the
// hypercall page, the errno conversion; no other call, no indirect jump.
#include <cstdint>
#include <xen/hypercall/vcpu_op.hpp>

extern "C" {

/// VCPUOP_up: three register arguments, no memory argument.
xen::Result<void> codegen_vcpu_up(uint32_t id) noexcept { return xen::hc::vcpu_up(xen::VcpuId{id}); }

/// VCPUOP_set_singleshot_timer: the argument struct lives on the stack.
xen::Result<void> codegen_set_singleshot_timer(uint32_t id, uint64_t deadline_ns) noexcept
{
    return xen::hc::set_singleshot_timer(xen::VcpuId{id}, deadline_ns);
}

/// VCPUOP_is_up: a non-negative return value becomes a bool.
xen::Result<bool> codegen_vcpu_is_up(uint32_t id) noexcept { return xen::hc::vcpu_is_up(xen::VcpuId{id}); }

} // extern "C"
