// Routing-table access over rtnetlink (libmnl): the default gateways of each address family,
// the route a target's probes take (interface, source address, next hop), and a subscription
// that says when routes or links change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collectors/probe/probe_packets.h"
#include "core/result.h"

struct mnl_socket;

namespace foreshock {

struct DefaultGateway {
  IpAddress gateway;  // link-local IPv6 gateways carry the interface index as scope
  int ifindex = 0;
  std::string interface;
  std::uint32_t metric = 0;
};

// The kernel's answer to "how would a packet to X leave?" (RTM_GETROUTE for one address).
struct RouteLookup {
  int ifindex = 0;
  std::string interface;
  std::optional<IpAddress> gateway;  // none: X is on-link (or local)
  std::optional<IpAddress> source;   // the preferred source address
  bool local = false;                // X is one of this host's addresses (RTN_LOCAL)
};

// Parses one RTM_NEWROUTE message (as a dump returns it) and appends the default route's
// gateways (single or multipath) of the main table. Pure: no socket. Exposed for tests.
void parseDefaultRouteMessage(const void* nlh, std::vector<DefaultGateway>* out);

// Thread-safety: a RouteNetlink is used by one thread (the prober's).
class RouteNetlink {
 public:
  RouteNetlink() = default;
  ~RouteNetlink();
  RouteNetlink(const RouteNetlink&) = delete;
  RouteNetlink& operator=(const RouteNetlink&) = delete;

  // Opens the request socket and the change-notification socket (route and link groups).
  Status open();
  // Default routes of `family` (AF_INET or AF_INET6) from the main table, lowest metric first.
  Result<std::vector<DefaultGateway>> defaultGateways(int family);
  Result<RouteLookup> lookup(const IpAddress& dst);
  // The notification socket's fd (poll it for POLLIN), and a drain that returns true when
  // at least one route/link message was read.
  int eventFd() const;
  bool drainEvents();

 private:
  mnl_socket* req_ = nullptr;
  mnl_socket* events_ = nullptr;
  unsigned int port_ = 0;
  unsigned int seq_ = 1;
};

}  // namespace foreshock
