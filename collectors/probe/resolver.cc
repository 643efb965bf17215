#include "collectors/probe/resolver.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <algorithm>

#include "core/log.h"
#include "core/options.h"

namespace foreshock {

namespace {
constexpr const char* kComponent = "probe";
constexpr std::size_t kParallelLookups = 16;
}  // namespace

Result<std::vector<IpAddress>> systemHostLookup(const std::string& host, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;  // one entry per address, not one per socket type
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return makeError("resolving \"" + host + "\": " +
                     (rc == EAI_SYSTEM ? std::string("system error") : ::gai_strerror(rc)));
  }
  std::vector<IpAddress> out;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    if (p->ai_family == AF_INET) {
      out.push_back(ipFromV4(reinterpret_cast<const sockaddr_in*>(p->ai_addr)->sin_addr));
    } else if (p->ai_family == AF_INET6) {
      const auto* s6 = reinterpret_cast<const sockaddr_in6*>(p->ai_addr);
      out.push_back(ipFromV6(s6->sin6_addr, s6->sin6_scope_id));
    }
  }
  ::freeaddrinfo(res);
  if (out.empty()) return makeError("resolving \"" + host + "\": no address");
  return out;
}

bool isValidHostName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (char c : host) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (alnum || c == '_' || (c == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  if (prev == '-') return false;
  // A last label of digits only is a mistyped IP address (10.0.0.300), not a name.
  const auto dot = host.find_last_of('.');
  const std::string last = dot == std::string::npos ? host : host.substr(dot + 1);
  return last.find_first_not_of("0123456789") != std::string::npos;
}

struct HostResolver::Slot {
  bool done = false;  // guarded by Sync::mu, like result
  Result<std::vector<IpAddress>> result = makeError("not looked up");
};

HostResolver::HostResolver(std::vector<Name> names, Duration interval, Duration timeout,
                           HostLookup lookup)
    : names_(std::move(names)), interval_(interval), timeout_(timeout), lookup_(std::move(lookup)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end(),
                           [](const Name& a, const Name& b) {
                             return a.host == b.host && a.family == b.family;
                           }),
               names_.end());
  for (const auto& n : names_) state_[n].reason = "resolving";
  thread_ = std::thread([this] { run(); });
}

HostResolver::~HostResolver() {
  {
    std::lock_guard<std::mutex> lock(sync_->mu);
    stop_ = true;
  }
  sync_->cv.notify_all();
  // The resolving thread only ever waits on the condition variable, so this join is prompt;
  // lookups blocked in getaddrinfo run on detached threads that own their Slot, the Sync and
  // a copy of the lookup function.
  if (thread_.joinable()) thread_.join();
}

HostResolution HostResolver::get(const Name& name) const {
  std::lock_guard<std::mutex> lock(sync_->mu);
  auto it = state_.find(name);
  if (it == state_.end()) return {std::nullopt, "resolve_failed", "not a configured name"};
  return it->second;
}

std::uint64_t HostResolver::generation() const {
  std::lock_guard<std::mutex> lock(sync_->mu);
  return generation_;
}

bool HostResolver::firstRoundDone() const {
  std::lock_guard<std::mutex> lock(sync_->mu);
  return first_round_done_;
}

std::size_t HostResolver::lookupsInFlight() const {
  std::lock_guard<std::mutex> lock(sync_->mu);
  std::size_t n = 0;
  for (const auto& [_, slot] : in_flight_) n += slot->done ? 0 : 1;
  return n;
}

void HostResolver::run() {
  ::pthread_setname_np(::pthread_self(), "fs-resolve");
  for (;;) {
    round();
    std::unique_lock<std::mutex> lock(sync_->mu);
    first_round_done_ = true;
    if (sync_->cv.wait_for(lock, interval_, [this] { return stop_; })) return;
  }
}

void HostResolver::publish(const Name& name, const Slot& slot) {
  HostResolution& st = state_[name];
  const HostResolution before = st;
  if (!slot.done) {
    st.reason = st.address ? "" : "resolve_timeout";
    st.error = "resolving \"" + name.host + "\" took longer than " + formatDuration(timeout_);
  } else if (!slot.result) {
    st.reason = st.address ? "" : "resolve_failed";
    st.error = slot.result.error().message;
  } else {
    st.address = slot.result->front();
    st.reason.clear();
    st.error.clear();
  }
  const bool changed = before.reason != st.reason || before.error != st.error ||
                       before.address.has_value() != st.address.has_value() ||
                       (st.address && !(*before.address == *st.address));
  if (!changed) return;
  ++generation_;
  if (st.address && st.error.empty()) {
    log::info(kComponent,
              "probe target " + name.host + " resolves to " + formatIpAddress(*st.address));
  } else if (st.address) {
    log::warn(kComponent,
              st.error + "; still probing the last address, " + formatIpAddress(*st.address));
  } else {
    log::warn(kComponent,
              st.error + "; the target is down (reason " + st.reason + ") until it resolves");
  }
}

void HostResolver::round() {
  for (std::size_t begin = 0; begin < names_.size(); begin += kParallelLookups) {
    const std::size_t end = std::min(names_.size(), begin + kParallelLookups);
    std::vector<std::pair<Name, std::shared_ptr<Slot>>> batch;
    {
      std::lock_guard<std::mutex> lock(sync_->mu);
      if (stop_) return;
      for (std::size_t i = begin; i < end; ++i) {
        const Name& n = names_[i];
        auto abandoned = in_flight_.find(n);
        if (abandoned != in_flight_.end()) {
          if (!abandoned->second->done) continue;  // still blocked: never pile up threads
          in_flight_.erase(abandoned);
        }
        batch.emplace_back(n, std::make_shared<Slot>());
      }
    }
    for (auto& [name, slot] : batch) {
      // The thread holds its own references: it may outlive this resolver.
      std::thread([slot = slot, sync = sync_, lookup = lookup_, host = name.host,
                   family = name.family] {
        auto r = lookup(host, family);
        {
          std::lock_guard<std::mutex> lock(sync->mu);
          slot->result = std::move(r);
          slot->done = true;
        }
        sync->cv.notify_all();
      }).detach();
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    std::unique_lock<std::mutex> lock(sync_->mu);
    sync_->cv.wait_until(lock, deadline, [&] {
      if (stop_) return true;
      for (const auto& [_, slot] : batch)
        if (!slot->done) return false;
      return true;
    });
    if (stop_) return;
    for (const auto& [name, slot] : batch) {
      publish(name, *slot);
      if (!slot->done) in_flight_[name] = slot;
    }
  }
}

}  // namespace foreshock
