// Many calls of one kind through HYPERVISOR_multicall, `Batch` entries per
// call, each with its own outcome (docs/vcpuop.md, "Batching with
// multicall"). The batched calls of the Domain and the event channels
// (up_many, initialise_many, place_vcpu_info_many, bind_ipi_many) share it;
// each instantiates it in a file of its own, so a kernel links only the
// ones it calls.
#pragma once

#include <cstdint>
#include <xen/abi/multicall.hpp>
#include <xen/hypercall/multicall.hpp>
#include <xen/support/errc.hpp>
#include <xen/support/result.hpp>

namespace xen::detail {

/// What make() decided for one item.
enum class Batched : uint8_t {
    call,    ///< an entry was built: send it
    done,    ///< nothing to ask Xen (e.g. already in place): success
    refused, ///< refused before any call; the error is in errors[i]
};

/// Run items 0..n-1, up to `Batch` per multicall, in order:
/// - make(i, arg, entry) -> Batched: build item i's entry (its argument in
///   `arg`, which lives until the call returns) or refuse it (writing
///   errors[i]) or find nothing to do;
/// - alone(i, arg) -> Result<void>: item i as a hypercall of its own, for a
///   Xen whose guest type has no multicall (-ENOSYS for the whole call: HVM
///   and PVH before 4.16); `arg` is as make() left it;
/// - took(i, arg) -> Errc: after Xen's success for item i, the caller's own
///   follow-up (e.g. publishing a port Xen wrote into `arg`); its error
///   becomes the item's.
/// Each item's outcome lands in errors[i]: Errc{}, the refusal, Xen's error
/// for its entry, the whole call's error when the multicall itself failed
/// (no entry of that batch can be trusted then), or took()'s. Returns how
/// many of the n failed.
template <uint32_t Batch, class Arg, class Make, class Alone, class Took>
uint32_t run_batched(uint32_t n, Errc* errors, Make make, Alone alone, Took took) noexcept
{
    uint32_t failed = 0;
    for (uint32_t base = 0; base < n; base += Batch) {
        const uint32_t end = n - base < Batch ? n : base + Batch;
        // Entries are built afresh for every call: Xen may overwrite all but
        // `result` (hypercall/multicall.hpp). `which[k]` maps entry k back
        // to its item.
        abi::multicall_entry calls[Batch];
        Arg args[Batch];
        uint32_t which[Batch];
        uint32_t k = 0;
        for (uint32_t i = base; i < end; ++i) {
            errors[i] = Errc{};
            if (make(i, args[k], calls[k]) == Batched::call)
                which[k++] = i;
        }
        const auto batch = hc::multicall(calls, k);
        for (uint32_t j = 0; j < k; ++j) {
            const uint32_t i = which[j];
            Errc e{};
            if (batch.has_value()) {
                if (const auto r = hc::entry_result(calls[j]); !r.has_value())
                    e = r.error();
            } else if (batch.error() == Errc::enosys) {
                if (const auto r = alone(i, args[j]); !r.has_value())
                    e = r.error();
            } else {
                e = batch.error();
            }
            if (e == Errc{})
                e = took(i, args[j]);
            errors[i] = e;
        }
        for (uint32_t i = base; i < end; ++i)
            failed += errors[i] != Errc{} ? 1 : 0;
    }
    return failed;
}

} // namespace xen::detail
