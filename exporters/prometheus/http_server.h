// The scrape endpoint: libmicrohttpd (not prometheus-cpp's civetweb exposer, which under
// Debian has no IPv6 and crashes on TLS with OpenSSL 3). One MHD daemon per listen address,
// each with its own epoll thread, so a slow or silent client never blocks other scrapes.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/snapshot.h"
#include "exporters/prometheus/exposition.h"
#include "exporters/prometheus/web_config.h"

struct MHD_Daemon;

namespace foreshock {

struct ListenAddress {
  std::string host;  // numeric or name; "" means every address (dual-stack)
  std::uint16_t port = 0;
};

// Parses "host:port", "[v6]:port" or ":port". Errors name the address and what is wrong.
Result<ListenAddress> parseListenAddress(const std::string& s);

struct HttpServerOptions {
  std::vector<std::string> listen_addresses{":19100"};
  // Connections per listen address. When a new connection would exceed it, the connection that
  // has waited longest for a complete request (or is stuck being answered for longer than
  // request_timeout) is closed to make room, so a new client is always served.
  unsigned max_connections = 64;
  unsigned max_connections_per_ip = 16;
  // A connection that sends nothing for this long is closed (libmicrohttpd's timeout).
  Duration idle_timeout = std::chrono::seconds(30);
  // The whole request (line, headers, any body) must arrive within this long of the connection
  // opening, however slowly it trickles; on a kept-alive connection the next complete request
  // must arrive within max(idle_timeout, request_timeout) of the previous response.
  Duration request_timeout = std::chrono::seconds(10);
  // TLS, basic auth and extra headers from --web.config.file; null: plain HTTP, no auth.
  std::shared_ptr<const WebConfig> web;
};

// Thread-safety: start(), reloadWebConfig() and the destructor from one thread;
// boundAddresses() and the counters from any.
// Handlers run on MHD's threads and only read the SnapshotStore.
class HttpServer {
 public:
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds every address (port 0 picks a free port) and starts serving. `ready` answers
  // /-/ready (true once the first collection is published).
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options,
                                                   const SnapshotStore* store,
                                                   std::function<bool()> ready);

  // "127.0.0.1:43125", "[::1]:43125": the addresses actually bound.
  const std::vector<std::string>& boundAddresses() const { return bound_; }
  std::uint64_t requestsServed() const { return requests_.load(); }
  // Connections closed because no complete request arrived in time, and connections closed to
  // make room for a new one at max_connections (since start).
  std::uint64_t connectionsTimedOut() const;
  std::uint64_t connectionsEvicted() const;

  // Applies a new web config (SIGHUP). Users, hashes and headers change at once; a TLS change
  // restarts each listener on its bound socket (MHD_quiesce_daemon), so the port is never
  // released. If a listener cannot restart with the new settings it goes back to the old ones
  // and the error names it. Call from the thread that called start().
  Status reloadWebConfig(std::shared_ptr<const WebConfig> web);

  // Internal: the request handler state and one daemon's connection notifications (public for
  // the C callbacks).
  struct Impl;
  struct Listener;

 private:
  HttpServer() = default;
  Listener* newListener(std::size_t index);
  HttpServerOptions options_;
  std::vector<MHD_Daemon*> daemons_;
  std::vector<bool> daemon_v6_;
  std::vector<std::unique_ptr<Listener>> listeners_;  // one per started daemon, kept to the end
  std::vector<std::shared_ptr<const WebConfig>> retired_;
  std::vector<std::string> bound_;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace foreshock
