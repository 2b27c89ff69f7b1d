/// \file
/// Batched hypercalls (public xen.h, `HYPERVISOR_multicall(call_list, nr_calls)`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace xen::abi {

/// `struct multicall_entry` (x86-64): one hypercall of a batch. Xen runs
/// `op(args[0..5])` and writes its return value to `result`; everything
/// else in the entry is Xen's to overwrite (debug builds fill it with 0xAA
/// after the call), so only `result` may be read back.
struct multicall_entry {
    uint64_t op;      ///< the hypercall number (abi::hypercall)
    uint64_t result;  ///< written by Xen: the sub-call's return value
    uint64_t args[6]; ///< the sub-call's arguments, as in registers
};
static_assert(sizeof(multicall_entry) == 64);
static_assert(offsetof(multicall_entry, result) == 8 && offsetof(multicall_entry, args) == 16);
static_assert(std::is_standard_layout_v<multicall_entry> && std::is_trivially_copyable_v<multicall_entry>);

} // namespace xen::abi
