#include "exporters/prometheus/http_server.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "core/file_util.h"
#include "core/log.h"

namespace foreshock {

struct HttpServer::Impl {
  const SnapshotStore* store = nullptr;
  std::function<bool()> ready;
  ExpositionCache cache;
  std::atomic<std::uint64_t>* requests = nullptr;

  std::shared_ptr<const WebConfig> webConfig() const {
    std::lock_guard<std::mutex> l(mu);
    return web;
  }
  void setWebConfig(std::shared_ptr<const WebConfig> w) {
    std::lock_guard<std::mutex> l(mu);
    web = std::move(w);
    verified.clear();
  }
  // Credentials that passed bcrypt already (keyed by a SHA-256 of user, password and hash), so
  // a scrape every few seconds does not pay bcrypt's deliberate cost each time.
  bool cachedOk(const std::string& key) const {
    std::lock_guard<std::mutex> l(mu);
    return verified.count(key) != 0;
  }
  void remember(const std::string& key) {
    std::lock_guard<std::mutex> l(mu);
    if (verified.size() > 1024) verified.clear();
    verified.insert(key);
  }

  mutable std::mutex mu;
  std::shared_ptr<const WebConfig> web;
  std::set<std::string> verified;
};

namespace {

constexpr const char* kLanding =
    "<!DOCTYPE html>\n<html><head><title>foreshock</title></head><body>\n"
    "<h1>foreshock</h1>\n<p>Hardware and network health agent.</p>\n"
    "<ul><li><a href=\"/metrics\">Metrics</a></li>"
    "<li><a href=\"/-/healthy\">Health</a></li><li><a href=\"/-/ready\">Readiness</a></li></ul>\n"
    "</body></html>\n";

thread_local const WebConfig* t_web = nullptr;  // the config of the request being answered

MHD_Result queue(MHD_Connection* conn, unsigned status, const std::string& body,
                 const char* content_type, const char* encoding = nullptr,
                 const char* allow = nullptr) {
  MHD_Response* resp = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                       MHD_RESPMEM_MUST_COPY);
  if (resp == nullptr) return MHD_NO;
  if (t_web != nullptr) {
    for (const auto& [k, v] : t_web->extra_headers)
      MHD_add_response_header(resp, k.c_str(), v.c_str());
  }
  if (status == MHD_HTTP_UNAUTHORIZED) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"foreshock\"");
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (encoding != nullptr) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  if (allow != nullptr) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
  MHD_Result r = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return r;
}

bool acceptsGzip(MHD_Connection* conn) {
  const char* ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
  if (ae == nullptr) return false;
  for (const auto& part : split(ae, ',')) {
    auto p = trim(part);
    auto semi = p.find(';');
    auto coding = trim(p.substr(0, semi));
    if (coding != "gzip" && coding != "*") continue;
    if (semi != std::string_view::npos) {
      auto params = p.substr(semi + 1);
      auto q = params.find("q=");
      if (q != std::string_view::npos) {
        auto v = parseDouble(trim(params.substr(q + 2)));
        if (v && *v <= 0) return false;
      }
    }
    return true;
  }
  return false;
}

// Enforces client_auth_type on a TLS connection (libmicrohttpd requests the certificate when
// it has a trust list; requiring and verifying it is ours to do).
bool clientCertAccepted(MHD_Connection* conn, const TlsServerConfig& tls) {
  if (tls.client_auth == ClientAuth::kNoClientCert ||
      tls.client_auth == ClientAuth::kRequestClientCert) {
    return true;
  }
  const MHD_ConnectionInfo* ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (ci == nullptr || ci->tls_session == nullptr) return false;
  auto session = static_cast<gnutls_session_t>(ci->tls_session);
  unsigned n = 0;
  const gnutls_datum_t* peers = gnutls_certificate_get_peers(session, &n);
  bool given = peers != nullptr && n > 0;
  if (tls.client_auth == ClientAuth::kRequireAnyClientCert) return given;
  if (!given) return tls.client_auth == ClientAuth::kVerifyClientCertIfGiven;
  unsigned status = 0;
  if (gnutls_certificate_verify_peers2(session, &status) < 0) return false;
  return status == 0;
}

// True when the request carries the credentials of a configured user.
bool authorized(HttpServer::Impl* impl, MHD_Connection* conn, const WebConfig& web) {
  const char* h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (h == nullptr) return false;
  auto cred = parseBasicAuthorization(h);
  if (!cred) return false;
  auto it = web.basic_auth_users.find(cred->first);
  if (it == web.basic_auth_users.end()) return false;
  std::string material = cred->first + '\0' + cred->second + '\0' + it->second;
  unsigned char digest[32];
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, material.data(), material.size(), digest) < 0)
    return false;
  std::string key(reinterpret_cast<char*>(digest), sizeof(digest));
  if (impl->cachedOk(key)) return true;
  if (!verifyPasswordHash(cred->second, it->second)) return false;
  impl->remember(key);
  return true;
}

struct WebScope {
  explicit WebScope(const WebConfig* w) { t_web = w; }
  ~WebScope() { t_web = nullptr; }
};

MHD_Result handle(void* cls, MHD_Connection* conn, const char* url, const char* method,
                  const char* /*version*/, const char* /*upload_data*/, size_t* upload_data_size,
                  void** con_cls) {
  auto* impl = static_cast<HttpServer::Impl*>(cls);
  // MHD calls the handler once when the headers arrive, then once per body chunk, then once
  // more. Answering on the first call makes MHD close the connection (it cannot know the body
  // was read), which breaks keep-alive scrapes; so answer on the last call, discarding any
  // body (none of our endpoints takes one).
  if (*con_cls == nullptr) {
    *con_cls = impl;
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  impl->requests->fetch_add(1, std::memory_order_relaxed);
  auto web = impl->webConfig();
  WebScope scope(web.get());
  if (web && web->tls && !clientCertAccepted(conn, *web->tls)) {
    log::debug("http", "closing a TLS connection without an acceptable client certificate");
    return MHD_NO;  // closes the connection, like a failed handshake
  }
  if (web && !web->basic_auth_users.empty() && !authorized(impl, conn, *web)) {
    return queue(conn, MHD_HTTP_UNAUTHORIZED, "401 unauthorized\n", "text/plain; charset=utf-8");
  }
  std::string_view m(method), u(url);
  bool get_or_head = (m == MHD_HTTP_METHOD_GET || m == MHD_HTTP_METHOD_HEAD);
  bool known = (u == "/" || u == "/metrics" || u == "/-/healthy" || u == "/-/ready");
  if (!known)
    return queue(conn, MHD_HTTP_NOT_FOUND, "404 page not found\n", "text/plain; charset=utf-8");
  if (!get_or_head) {
    return queue(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
                 "text/plain; charset=utf-8", nullptr, "GET, HEAD");
  }
  if (u == "/") return queue(conn, MHD_HTTP_OK, kLanding, "text/html; charset=utf-8");
  if (u == "/-/healthy") return queue(conn, MHD_HTTP_OK, "Healthy\n", "text/plain; charset=utf-8");
  if (u == "/-/ready") {
    bool ok = impl->ready ? impl->ready() : true;
    return queue(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                 ok ? "Ready\n" : "Not ready: first collection not finished\n",
                 "text/plain; charset=utf-8");
  }
  auto rendered = impl->cache.get(impl->store->load());
  if (acceptsGzip(conn) && !rendered->gzip.empty()) {
    return queue(conn, MHD_HTTP_OK, rendered->gzip, kExpositionContentType, "gzip");
  }
  return queue(conn, MHD_HTTP_OK, rendered->text, kExpositionContentType);
}

void mhdLog(void* /*cls*/, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  std::string_view s(buf);
  log::debug("http", trim(s));
}

std::string formatAddress(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
  inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
  return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
}

Result<int> bindListen(const ListenAddress& la, const std::string& spec) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  std::string port = std::to_string(la.port);
  const char* host = la.host.empty() ? "::" : la.host.c_str();
  int gai = getaddrinfo(host, port.c_str(), &hints, &res);
  if (gai != 0) return makeError("listen address " + spec + ": " + gai_strerror(gai));
  int fd = -1;
  std::string last_err = "no usable address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_err = std::strerror(errno);
      continue;
    }
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) {
      // ":port" means every address of both families; an explicit v6 address means v6 only.
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, la.host.empty() ? &zero : &one, sizeof(int));
    }
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 128) == 0) break;
    last_err = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return makeError("listen address " + spec + ": " + last_err);
  return fd;
}

}  // namespace

Result<ListenAddress> parseListenAddress(const std::string& s) {
  ListenAddress la;
  std::string port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return makeError("listen address \"" + s + "\": expected [v6-address]:port");
    }
    la.host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    in6_addr tmp{};
    if (inet_pton(AF_INET6, la.host.c_str(), &tmp) != 1) {
      return makeError("listen address \"" + s + "\": \"" + la.host + "\" is not an IPv6 address");
    }
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) {
      return makeError("listen address \"" + s + "\": expected host:port, [v6]:port or :port");
    }
    la.host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (la.host.find(':') != std::string::npos) {
      return makeError("listen address \"" + s +
                       "\": put IPv6 addresses in brackets, e.g. [::1]:19100");
    }
  }
  auto p = parseUint(port);
  if (!p || *p > 65535) {
    return makeError("listen address \"" + s + "\": port \"" + port +
                     "\" is not a number from 0 to 65535");
  }
  la.port = static_cast<std::uint16_t>(*p);
  return la;
}

HttpServer::~HttpServer() {
  for (auto* d : daemons_) MHD_stop_daemon(d);
}

namespace {
// TLS sends a response as several records (headers, body); with Nagle's algorithm the second
// waits for the client's delayed ACK, adding ~40 ms to every scrape over TLS. Send at once.
void onConnection(void* /*cls*/, MHD_Connection* conn, void** /*socket_context*/,
                  MHD_ConnectionNotificationCode code) {
  if (code != MHD_CONNECTION_NOTIFY_STARTED) return;
  const MHD_ConnectionInfo* ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci == nullptr) return;
  int one = 1;
  ::setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// Starts one MHD daemon on an already bound, listening socket with the given web config.
MHD_Daemon* startDaemon(int fd, bool v6, const HttpServerOptions& options, const WebConfig* web,
                        HttpServer::Impl* impl) {
  // MHD_USE_ITC: needed by MHD_quiesce_daemon when a reload restarts the listener.
  unsigned flags =
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
  if (v6) flags |= MHD_USE_IPv6;
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_LISTEN_SOCKET, static_cast<intptr_t>(fd), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(options.max_connections), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(options.max_connections_per_ip),
       nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT,
       static_cast<intptr_t>(std::max<long long>(1, options.idle_timeout.count() / 1000)), nullptr},
  };
  std::string priorities;
  if (web != nullptr && web->tls) {
    const auto& t = *web->tls;
    flags |= MHD_USE_TLS;
    priorities = gnutlsPriorities(t);
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(t.key_pem.c_str())});
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(t.cert_pem.c_str())});
    if (!t.client_ca_pem.empty()) {
      items.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, const_cast<char*>(t.client_ca_pem.c_str())});
    }
    items.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(priorities.c_str())});
    items.push_back(
        {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&onConnection), nullptr});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  return MHD_start_daemon(flags, 0, nullptr, nullptr, &handle, impl, MHD_OPTION_EXTERNAL_LOGGER,
                          &mhdLog, nullptr, MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
}
}  // namespace

Status HttpServer::reloadWebConfig(std::shared_ptr<const WebConfig> web) {
  auto old = impl_->webConfig();
  const std::optional<TlsServerConfig> none;
  const auto& old_tls = old ? old->tls : none;
  const auto& new_tls = web ? web->tls : none;
  if (old_tls == new_tls) {
    impl_->setWebConfig(std::move(web));
    return Status{};
  }
  std::string errors;
  for (std::size_t i = 0; i < daemons_.size(); ++i) {
    MHD_socket fd = MHD_quiesce_daemon(daemons_[i]);
    if (fd == MHD_INVALID_SOCKET) {
      errors += (errors.empty() ? "" : "; ") + std::string("listener ") + bound_[i] +
                ": could not hand over its socket; keeping the old TLS settings";
      continue;
    }
    MHD_Daemon* next = startDaemon(fd, daemon_v6_[i], options_, web.get(), impl_.get());
    if (next == nullptr) {
      errors += (errors.empty() ? "" : "; ") + std::string("listener ") + bound_[i] +
                ": libmicrohttpd refused the new TLS settings; keeping the old ones";
      next = startDaemon(fd, daemon_v6_[i], options_, old.get(), impl_.get());
    }
    MHD_stop_daemon(daemons_[i]);  // a quiesced daemon leaves the socket to its successor
    daemons_[i] = next;
    if (next == nullptr) {
      ::close(fd);
      errors += "; listener " + bound_[i] + " stopped";
    }
  }
  // Keep every config a daemon may still point into (PEM buffers) alive with the server.
  if (old) retired_.push_back(old);
  impl_->setWebConfig(std::move(web));
  if (!errors.empty()) return makeError(errors);
  return Status{};
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options,
                                                      const SnapshotStore* store,
                                                      std::function<bool()> ready) {
  std::unique_ptr<HttpServer> srv(new HttpServer());
  srv->impl_ = std::make_unique<Impl>();
  srv->impl_->store = store;
  srv->impl_->ready = std::move(ready);
  srv->impl_->requests = &srv->requests_;
  srv->impl_->setWebConfig(options.web);
  srv->options_ = options;
  if (options.listen_addresses.empty()) return makeError("no listen address given");
  for (const auto& spec : options.listen_addresses) {
    auto la = parseListenAddress(spec);
    if (!la) return la.error();
    auto fd = bindListen(*la, spec);
    if (!fd) return fd.error();
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    ::getsockname(*fd, reinterpret_cast<sockaddr*>(&ss), &len);
    bool v6 = ss.ss_family == AF_INET6;
    MHD_Daemon* d = startDaemon(*fd, v6, options, options.web.get(), srv->impl_.get());
    if (d == nullptr) {
      ::close(*fd);
      return makeError("listen address " + spec + ": libmicrohttpd failed to start");
    }
    // From here MHD owns the socket and closes it in MHD_stop_daemon.
    srv->daemons_.push_back(d);
    srv->daemon_v6_.push_back(v6);
    srv->bound_.push_back(formatAddress(ss));
  }
  return srv;
}

}  // namespace foreshock
