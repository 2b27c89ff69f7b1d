#include "rings.hpp"

#include <cstring>

namespace xen::sim {

namespace {
template <class T>
T load(const T& v)
{
    return __atomic_load_n(&v, __ATOMIC_ACQUIRE);
}
template <class T>
void store(T& v, T x)
{
    __atomic_store_n(&v, x, __ATOMIC_RELEASE);
}
} // namespace

size_t ConsoleBackend::drain(size_t max)
{
    const uint32_t prod = load(ring_.out_prod);
    uint32_t cons = ring_.out_cons;
    size_t n = 0;
    while (cons != prod && (max == 0 || n < max)) {
        output_ += ring_.out[cons % sizeof(ring_.out)];
        ++cons;
        ++n;
    }
    store(ring_.out_cons, cons);
    return n;
}

size_t ConsoleBackend::step_input(size_t max)
{
    const uint32_t cons = load(ring_.in_cons);
    uint32_t prod = ring_.in_prod;
    size_t n = 0;
    while (!input_.empty() && prod - cons < sizeof(ring_.in) && (max == 0 || n < max)) {
        ring_.in[prod % sizeof(ring_.in)] = input_.front();
        input_.erase(0, 1);
        ++prod;
        ++n;
    }
    store(ring_.in_prod, prod);
    return n;
}

std::string XenStoreBackend::absolute(const std::string& path) const
{
    return !path.empty() && path[0] == '/' ? path : home_ + "/" + path;
}

void XenStoreBackend::set(const std::string& path, const std::string& value)
{
    store_[absolute(path)] = value;
    fire(absolute(path));
}

std::string XenStoreBackend::get(const std::string& path) const
{
    auto it = store_.find(absolute(path));
    return it == store_.end() ? std::string() : it->second;
}

unsigned XenStoreBackend::handled(abi::xsd_sockmsg_type type) const
{
    auto it = handled_.find(static_cast<uint32_t>(type));
    return it == handled_.end() ? 0 : it->second;
}

void XenStoreBackend::push_message(uint32_t type, uint32_t req_id, const std::string& payload)
{
    abi::xsd_sockmsg h{type, req_id, 0, static_cast<uint32_t>(payload.size())};
    const char* p = reinterpret_cast<const char*>(&h);
    out_.insert(out_.end(), p, p + sizeof(h));
    out_.insert(out_.end(), payload.begin(), payload.end());
}

void XenStoreBackend::fire(const std::string& path)
{
    for (const auto& [wpath, token] : watches_) {
        const std::string abs = absolute(wpath);
        if (path.compare(0, abs.size(), abs) == 0 && (path.size() == abs.size() || path[abs.size()] == '/')) {
            // The event names the path as the watcher wrote it (relative stays relative).
            std::string shown = wpath[0] == '/' ? path : path.substr(home_.size() + 1);
            push_message(static_cast<uint32_t>(abi::xsd_sockmsg_type::watch_event), 0,
                         shown + std::string(1, '\0') + token + std::string(1, '\0'));
        }
    }
}

void XenStoreBackend::handle(const abi::xsd_sockmsg& h, const std::string& body)
{
    using T = abi::xsd_sockmsg_type;
    ++handled_[h.type];
    auto reply = [&](T type, const std::string& payload) {
        push_message(static_cast<uint32_t>(type), h.req_id, payload);
    };
    auto error = [&](const char* name) { reply(T::error, std::string(name) + std::string(1, '\0')); };
    const std::string first = body.substr(0, body.find('\0'));
    const std::string rest = body.find('\0') == std::string::npos ? std::string() : body.substr(body.find('\0') + 1);
    switch (static_cast<T>(h.type)) {
    case T::read: {
        auto it = store_.find(absolute(first));
        if (it == store_.end())
            return error("ENOENT");
        return reply(T::read, it->second);
    }
    case T::write:
        store_[absolute(first)] = rest;
        reply(T::write, std::string("OK") + std::string(1, '\0'));
        fire(absolute(first));
        return;
    case T::watch: {
        const std::string token = rest.substr(0, rest.find('\0'));
        watches_.emplace_back(first, token);
        reply(T::watch, std::string("OK") + std::string(1, '\0'));
        // Xenstored fires every new watch once at once.
        push_message(static_cast<uint32_t>(T::watch_event), 0,
                     first + std::string(1, '\0') + token + std::string(1, '\0'));
        return;
    }
    case T::unwatch: {
        const std::string token = rest.substr(0, rest.find('\0'));
        for (auto it = watches_.begin(); it != watches_.end(); ++it)
            if (it->first == first && it->second == token) {
                watches_.erase(it);
                return reply(T::unwatch, std::string("OK") + std::string(1, '\0'));
            }
        return error("ENOENT");
    }
    default: return error("ENOSYS");
    }
}

void XenStoreBackend::step(size_t max_in, size_t max_out)
{
    // Requests in.
    const uint32_t prod = load(ring_.req_prod);
    uint32_t cons = ring_.req_cons;
    size_t n = 0;
    while (cons != prod && (max_in == 0 || n < max_in)) {
        in_ += ring_.req[cons % abi::xenstore_ring_size];
        ++cons;
        ++n;
    }
    store(ring_.req_cons, cons);
    while (in_.size() >= sizeof(abi::xsd_sockmsg)) {
        abi::xsd_sockmsg h{};
        std::memcpy(&h, in_.data(), sizeof(h));
        if (in_.size() < sizeof(h) + h.len)
            break;
        const std::string body = in_.substr(sizeof(h), h.len);
        in_.erase(0, sizeof(h) + h.len);
        handle(h, body);
    }
    // Replies and events out.
    const uint32_t rcons = load(ring_.rsp_cons);
    uint32_t rprod = ring_.rsp_prod;
    n = 0;
    while (!out_.empty() && rprod - rcons < abi::xenstore_ring_size && (max_out == 0 || n < max_out)) {
        ring_.rsp[rprod % abi::xenstore_ring_size] = out_.front();
        out_.pop_front();
        ++rprod;
        ++n;
    }
    store(ring_.rsp_prod, rprod);
}

} // namespace xen::sim
