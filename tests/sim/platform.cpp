// The smaller hypercalls around vCPUs: xen_version (17), vm_assist (21),
// console_io (18), hvm_op params (34, HVM/PVH only), callback_op (30, PV
// only) and set_segment_base (25, 64-bit PV only), plus the inspection
// helpers for what they recorded.
#include <algorithm>

#include <xen/abi/version.hpp>

#include "state.hpp"

namespace xen::sim {

namespace {

constexpr uint32_t feat(abi::xenfeat f) noexcept { return 1u << static_cast<uint32_t>(f); }

constexpr uint32_t hvm_nr_params = 39; // HVM_NR_PARAMS in Xen 4.17..4.20

} // namespace

long Hypervisor::xen_version_op(int32_t cmd, uint64_t arg)
{
    switch (static_cast<abi::xenver>(cmd)) {
    case abi::xenver::version: return static_cast<long>((cfg_.version.major << 16) | cfg_.version.minor);
    case abi::xenver::extraversion: {
        char text[abi::xen_extraversion_len]{};
        // Appended, not "." + to_string(...): GCC 12 at -O3 reports a
        // false -Wrestrict overlap inside that operator+.
        std::string extra = cfg_.extraversion;
        if (extra.empty())
            extra.append(".").append(std::to_string(cfg_.version.patch));
        std::copy_n(extra.data(), std::min<size_t>(extra.size(), sizeof(text) - 1), text);
        return copy_to_guest(arg, text) ? 0 : fail(Errc::efault);
    }
    case abi::xenver::get_features: {
        abi::xen_feature_info fi{};
        if (!copy_from_guest(fi, arg))
            return fail(Errc::efault);
        if (fi.submap_idx >= abi::xenfeat_nr_submaps)
            return fail(Errc::einval);
        uint32_t m = 0;
        if (cfg_.guest == GuestType::pv)
            m |= feat(abi::xenfeat::mmu_pt_update_preserve_ad) | feat(abi::xenfeat::highmem_assist) |
                 feat(abi::xenfeat::gnttab_map_avail_bits);
        else
            m |= feat(abi::xenfeat::auto_translated_physmap) | feat(abi::xenfeat::hvm_callback_vector) |
                 feat(abi::xenfeat::hvm_safe_pvclock);
        if (cfg_.hardware_domain)
            m |= feat(abi::xenfeat::dom0);
        if (cfg_.version.at_least(4, 18))
            m |= feat(abi::xenfeat::runstate_phys_area) | feat(abi::xenfeat::vcpu_time_phys_area);
        fi.submap = m;
        return copy_to_guest(arg, fi) ? 0 : fail(Errc::efault);
    }
    case abi::xenver::pagesize: return static_cast<long>(page_size);
    default: return fail(Errc::enosys);
    }
}

long Hypervisor::vm_assist(uint32_t cmd, uint32_t type)
{
    // The types this guest may use (VM_ASSIST_VALID / HVM_VM_ASSIST_MASK);
    // runstate_update_flag exists from Xen 4.8.
    uint64_t valid = 0;
    if (cfg_.guest == GuestType::pv)
        valid |= (1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 32);
    if (cfg_.version.at_least(4, 8))
        valid |= 1ull << static_cast<uint32_t>(abi::vmasst_type::runstate_update_flag);
    if (type >= 64 || ((valid >> type) & 1u) == 0)
        return fail(Errc::einval);
    switch (static_cast<abi::vmasst_cmd>(cmd)) {
    case abi::vmasst_cmd::enable: vm_assist_ |= 1ull << type; return 0;
    case abi::vmasst_cmd::disable: vm_assist_ &= ~(1ull << type); return 0;
    }
    return fail(Errc::enosys);
}

long Hypervisor::console_io(int32_t cmd, uint64_t count, uint64_t buffer)
{
    if (!cfg_.console_allowed)
        return fail(Errc::eperm);
    switch (static_cast<abi::consoleio>(cmd)) {
    case abi::consoleio::write:
        if (count != 0 && buffer == 0)
            return fail(Errc::efault);
        console_.append(guest_ptr<const char>(buffer), static_cast<uint32_t>(count));
        return 0;
    case abi::consoleio::read: return 0; // nothing typed on the simulated console
    }
    return fail(Errc::enosys);
}

long Hypervisor::hvm_op(uint64_t op, uint64_t arg)
{
    const bool hvm = cfg_.guest == GuestType::pvh;
    switch (static_cast<abi::hvmop>(op)) {
    case abi::hvmop::set_param:
    case abi::hvmop::get_param: {
        abi::xen_hvm_param p{};
        if (!copy_from_guest(p, arg))
            return fail(Errc::efault);
        if (p.domid != abi::domid_self)
            return fail(Errc::esrch);
        if (!hvm || p.index >= hvm_nr_params)
            return fail(Errc::einval);
        auto it = std::find_if(hvm_params_.begin(), hvm_params_.end(),
                               [&](const auto& kv) { return kv.first == p.index; });
        if (static_cast<abi::hvmop>(op) == abi::hvmop::set_param) {
            if (it != hvm_params_.end())
                it->second = p.value;
            else
                hvm_params_.emplace_back(p.index, p.value);
            return 0;
        }
        p.value = it != hvm_params_.end() ? it->second : 0;
        return copy_to_guest(arg, p) ? 0 : fail(Errc::efault);
    }
    case abi::hvmop::set_evtchn_upcall_vector: {
        abi::xen_hvm_evtchn_upcall_vector u{};
        if (!copy_from_guest(u, arg))
            return fail(Errc::efault);
        if (!hvm)
            return fail(Errc::einval);
        auto* v = find(u.vcpu);
        if (v == nullptr)
            return fail(Errc::enoent);
        if (u.vector < 0x10)
            return fail(Errc::einval);
        v->upcall_vector = u.vector;
        return 0;
    }
    }
    return fail(Errc::enosys);
}

long Hypervisor::callback_op(int32_t cmd, uint64_t arg)
{
    if (static_cast<abi::callbackop>(cmd) != abi::callbackop::register_)
        return fail(Errc::enosys);
    abi::callback_register r{};
    if (!copy_from_guest(r, arg))
        return fail(Errc::efault);
    switch (static_cast<abi::callback_type>(r.type)) {
    case abi::callback_type::event:
    case abi::callback_type::failsafe:
    case abi::callback_type::syscall:
    case abi::callback_type::nmi:
    case abi::callback_type::sysenter:
    case abi::callback_type::syscall32: break;
    default: return fail(Errc::einval);
    }
    auto it = std::find_if(callbacks_.begin(), callbacks_.end(), [&](const auto& kv) { return kv.first == r.type; });
    if (it != callbacks_.end())
        it->second = r.address;
    else
        callbacks_.emplace_back(r.type, r.address);
    return 0;
}

long Hypervisor::set_segment_base(VcpuId caller, uint32_t which, uint64_t base)
{
    // do_set_segment_base (pv/misc-hypercalls.c): the three bases must be
    // canonical (48-bit: bits 63..47 all equal); the selector form takes
    // base[15:0] and never fails; any other `which` is -EINVAL.
    auto* v = find(caller.value);
    if (v == nullptr)
        return fail(Errc::enoent);
    const bool canonical = (static_cast<int64_t>(base) >> 47) == (static_cast<int64_t>(base) >> 63);
    switch (static_cast<abi::segbase>(which)) {
    case abi::segbase::fs:
    case abi::segbase::gs_user:
    case abi::segbase::gs_kernel:
        if (!canonical)
            return fail(Errc::einval);
        v->segment_bases[which] = base;
        return 0;
    case abi::segbase::gs_user_sel: v->gs_user_selector = static_cast<uint16_t>(base); return 0;
    }
    return fail(Errc::einval);
}

uint64_t Hypervisor::segment_base(VcpuId id, abi::segbase which) const
{
    Lock l(mu_);
    const VcpuState& v = at(id);
    if (which == abi::segbase::gs_user_sel)
        return v.gs_user_selector;
    const auto i = static_cast<uint32_t>(which);
    return i < v.segment_bases.size() ? v.segment_bases[i] : 0;
}

std::string Hypervisor::console_output() const
{
    Lock l(mu_);
    return console_;
}

uint64_t Hypervisor::callback_address(abi::callback_type type) const
{
    Lock l(mu_);
    for (const auto& [t, a] : callbacks_)
        if (t == static_cast<uint16_t>(type))
            return a;
    return 0;
}

std::optional<uint64_t> Hypervisor::hvm_param(abi::hvm_param index) const
{
    Lock l(mu_);
    for (const auto& [i, v] : hvm_params_)
        if (i == static_cast<uint32_t>(index))
            return v;
    return std::nullopt;
}

} // namespace xen::sim
