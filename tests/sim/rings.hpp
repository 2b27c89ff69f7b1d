// Simulated backends for a domU's two shared rings: xenconsoled's side of
// the console ring and xenstored's side of the xenstore ring. They act on
// the ring page only when a test (or a client's WaitFn) steps them, so a
// test decides exactly how much moves at each step: partial reads and
// writes, a full ring, a backend that stops.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <xen/abi/console_ring.hpp>
#include <xen/abi/xenstore.hpp>

namespace xen::sim {

/// xenconsoled's end: drains `out`, feeds `in`.
class ConsoleBackend {
public:
    explicit ConsoleBackend(abi::xencons_interface& ring) : ring_(ring) {}

    /// Consume at most `max` bytes of the guest's output (all if 0).
    size_t drain(size_t max = 0);
    /// Everything drained so far.
    const std::string& output() const { return output_; }
    /// Queue input for the guest; step_input() moves it into the ring.
    void type(const std::string& text) { input_ += text; }
    /// Move as much queued input as fits (at most `max`, all if 0).
    size_t step_input(size_t max = 0);

private:
    abi::xencons_interface& ring_;
    std::string output_;
    std::string input_;
};

/// xenstored's end, with a flat store and watches.
class XenStoreBackend {
public:
    /// `home` is the domain's path, e.g. "/local/domain/1".
    XenStoreBackend(abi::xenstore_domain_interface& ring, std::string home) : ring_(ring), home_(std::move(home)) {}

    /// One step: read at most `max_in` request bytes and write at most
    /// `max_out` reply bytes (0: as much as the ring allows).
    void step(size_t max_in = 0, size_t max_out = 0);
    /// A toolstack write (xl, xenstore-write): sets the node, fires watches.
    void set(const std::string& path, const std::string& value);
    /// The node's value, empty if absent.
    std::string get(const std::string& path) const;
    bool has(const std::string& path) const { return store_.count(absolute(path)) != 0; }
    /// Requests handled so far, by type.
    unsigned handled(abi::xsd_sockmsg_type type) const;
    /// Queue a raw message to the guest (e.g. an unsolicited event).
    void push_message(uint32_t type, uint32_t req_id, const std::string& payload);
    /// Reply bytes waiting for room in the ring.
    size_t pending_out() const { return out_.size(); }

private:
    std::string absolute(const std::string& path) const;
    void handle(const abi::xsd_sockmsg& header, const std::string& body);
    void fire(const std::string& path);

    abi::xenstore_domain_interface& ring_;
    std::string home_;
    std::string in_;
    std::deque<char> out_;
    std::map<std::string, std::string> store_;
    std::vector<std::pair<std::string, std::string>> watches_; // path, token
    std::map<uint32_t, unsigned> handled_;
};

} // namespace xen::sim
