// Host names of configured probe targets, resolved off the prober's thread and with a bound:
// getaddrinfo() cannot be cancelled, so each lookup runs on its own detached thread that owns
// its state, and the resolver only waits for it up to a timeout. A lookup still blocked past
// the timeout is abandoned (its thread finishes on its own) and not started again until it
// returns, so a hung resolver costs at most one thread per name.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "collectors/probe/probe_packets.h"
#include "core/clock.h"
#include "core/result.h"

namespace foreshock {

// The addresses of `host` of `family` (AF_INET, AF_INET6 or AF_UNSPEC), best first; an error
// naming the host when there are none. May block (DNS); the resolver bounds the wait.
using HostLookup =
    std::function<Result<std::vector<IpAddress>>(const std::string& host, int family)>;

// getaddrinfo() through the system's resolver (nsswitch: /etc/hosts, DNS...).
Result<std::vector<IpAddress>> systemHostLookup(const std::string& host, int family);

// True for a syntactically valid host name (RFC 1123 labels of letters, digits, '-' and '_'
// separated by dots, at most 253 characters, the last label not all digits). Anything else is
// never looked up.
bool isValidHostName(const std::string& host);

// The state of one name.
struct HostResolution {
  std::optional<IpAddress> address;  // the address to probe (the last good one)
  // Empty once resolved; else why there is no address: "resolving" (first lookup not done),
  // "resolve_failed" or "resolve_timeout".
  std::string reason;
  std::string error;  // the last failure in words (kept while a previous address is used)
};

// Thread-safety: get(), generation() and firstRoundDone() may be called from any thread; the
// constructor starts the resolving thread, the destructor stops it without waiting for any
// lookup (abandoned lookups own their state).
class HostResolver {
 public:
  struct Name {
    std::string host;
    int family = 0;  // AF_UNSPEC, AF_INET (ARP targets) or AF_INET6 (NDP targets)
    bool operator<(const Name& o) const {
      return std::tie(host, family) < std::tie(o.host, o.family);
    }
  };
  // Every name is looked up at once, then again every `interval`; each lookup is waited for
  // at most `timeout`. A failed re-resolution keeps the last good address (a DNS outage must
  // not look like packet loss) and is logged; a name never resolved has no address.
  HostResolver(std::vector<Name> names, Duration interval, Duration timeout,
               HostLookup lookup = systemHostLookup);
  ~HostResolver();
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  HostResolution get(const Name& name) const;
  // Increases whenever an address or reason changes.
  std::uint64_t generation() const;
  // True once every name had its first lookup answered or timed out.
  bool firstRoundDone() const;
  // Lookups abandoned after the timeout that have not returned yet.
  std::size_t lookupsInFlight() const;

  struct Slot;  // one lookup, shared with its thread
  // The lock and wake-up shared with lookup threads, which may outlive the resolver.
  struct Sync {
    std::mutex mu;
    std::condition_variable cv;  // a finished lookup, or stop
  };

 private:
  void run();
  void round();
  void publish(const Name& name, const Slot& slot);  // under sync_->mu

  std::vector<Name> names_;
  Duration interval_;
  Duration timeout_;
  HostLookup lookup_;
  std::shared_ptr<Sync> sync_ = std::make_shared<Sync>();
  // Everything below is guarded by sync_->mu.
  bool stop_ = false;
  bool first_round_done_ = false;
  std::uint64_t generation_ = 0;
  std::map<Name, HostResolution> state_;
  std::map<Name, std::shared_ptr<Slot>> in_flight_;  // abandoned, still blocked
  std::thread thread_;
};

}  // namespace foreshock
