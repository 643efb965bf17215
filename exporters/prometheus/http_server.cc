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

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/file_util.h"
#include "core/log.h"

namespace foreshock {

using SteadyTime = std::chrono::steady_clock::time_point;

// One connection of one listen address, from MHD's STARTED notification to its CLOSED one.
struct TrackedConnection {
  int fd = -1;
  std::size_t listener = 0;  // index of the listen address (limits are per address)
  bool answering = false;    // a complete request arrived and is being answered
  bool closing = false;      // shut down by the guard; MHD closes it on its next turn
  SteadyTime since;          // when the current phase (receiving or answering) began
  SteadyTime deadline;       // while receiving: when the complete request must have arrived
};

// Bounds what slow or idle clients can hold (issue 13): a request deadline per connection, and
// at max_connections per listen address the connection that has waited longest for a complete
// request (or is stuck being answered) is closed to make room for the new one. libmicrohttpd
// has neither (its timeout is an idle timeout, which a byte every few seconds defeats, and at
// its connection limit it refuses new clients), so the guard closes connections itself with
// shutdown(2): MHD sees the end of the stream and releases the connection on its next turn.
// The descriptor stays valid while tracked because MHD notifies CLOSED before close(2).
// Thread-safety: every method may be called from any thread (MHD's and the reaper); state is
// under one mutex.
class ConnectionGuard {
 public:
  ConnectionGuard(unsigned max_per_listener, Duration request_timeout, Duration idle_timeout)
      : max_(max_per_listener),
        request_timeout_(request_timeout),
        keepalive_timeout_(std::max(request_timeout, idle_timeout)) {
    reaper_ = std::thread([this] { reapLoop(); });
  }
  ~ConnectionGuard() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    reaper_.join();
    for (auto* c : conns_) delete c;
  }
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // A connection was accepted on `listener`; makes room if that listener is over its limit.
  TrackedConnection* opened(std::size_t listener, int fd) {
    auto now = std::chrono::steady_clock::now();
    auto* c = new TrackedConnection{fd, listener, false, false, now, now + request_timeout_};
    std::lock_guard<std::mutex> l(mu_);
    conns_.insert(c);
    if (++live_[listener] > max_) evictOne(listener, now);
    return c;
  }
  // MHD is about to close the connection's descriptor.
  void closed(TrackedConnection* c) {
    std::lock_guard<std::mutex> l(mu_);
    if (!c->closing) --live_[c->listener];
    conns_.erase(c);
    delete c;
  }
  // The complete request arrived; the deadline no longer applies while it is answered.
  void requestReceived(TrackedConnection* c) {
    std::lock_guard<std::mutex> l(mu_);
    c->answering = true;
    c->since = std::chrono::steady_clock::now();
  }
  // The response went out; a kept-alive connection waits for its next request.
  void responseDone(TrackedConnection* c) {
    std::lock_guard<std::mutex> l(mu_);
    c->answering = false;
    c->since = std::chrono::steady_clock::now();
    c->deadline = c->since + keepalive_timeout_;
  }
  std::uint64_t timedOut() const {
    std::lock_guard<std::mutex> l(mu_);
    return timed_out_;
  }
  std::uint64_t evicted() const {
    std::lock_guard<std::mutex> l(mu_);
    return evicted_;
  }

 private:
  void shut(TrackedConnection* c) {
    c->closing = true;
    --live_[c->listener];
    ::shutdown(c->fd, SHUT_RDWR);
  }
  // Closes the connection of `listener` that has waited longest for a request, or failing that
  // one stuck being answered for longer than request_timeout; the newest (the caller's) last.
  void evictOne(std::size_t listener, SteadyTime now) {
    TrackedConnection* victim = nullptr;
    for (auto* c : conns_) {
      if (c->listener != listener || c->closing) continue;
      if (c->answering && now - c->since < request_timeout_) continue;
      // Waiting for a request beats being answered; then the oldest phase goes first.
      if (victim == nullptr || (victim->answering && !c->answering) ||
          (victim->answering == c->answering && c->since < victim->since)) {
        victim = c;
      }
    }
    if (victim == nullptr) return;  // every connection is being answered: MHD's limit applies
    shut(victim);
    ++evicted_;
    ++evicted_unlogged_;
  }
  void reapLoop() {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      cv_.wait_for(l, std::chrono::milliseconds(200));
      if (stop_) break;
      auto now = std::chrono::steady_clock::now();
      for (auto* c : conns_) {
        if (c->closing || c->answering || now < c->deadline) continue;
        shut(c);
        ++timed_out_;
        ++timed_out_unlogged_;
      }
      // One line a minute at most, however hard the listener is pressed.
      if ((timed_out_unlogged_ != 0 || evicted_unlogged_ != 0) &&
          (!logged_once_ || now - last_log_ >= std::chrono::minutes(1))) {
        std::string msg = "closed";
        if (timed_out_unlogged_ != 0) {
          msg += " " + std::to_string(timed_out_unlogged_) +
                 " connections that sent no complete request within " +
                 std::to_string(request_timeout_.count() / 1000) + "s";
        }
        if (evicted_unlogged_ != 0) {
          msg += std::string(timed_out_unlogged_ != 0 ? " and" : "") + " " +
                 std::to_string(evicted_unlogged_) +
                 " waiting connections to make room at the connection limit (" +
                 std::to_string(max_) + " per listen address)";
        }
        log::warn("http", msg + (logged_once_ ? " in the last minute" : ""));
        timed_out_unlogged_ = evicted_unlogged_ = 0;
        last_log_ = now;
        logged_once_ = true;
      }
    }
  }

  const unsigned max_;
  const Duration request_timeout_;
  const Duration keepalive_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::unordered_set<TrackedConnection*> conns_;
  std::unordered_map<std::size_t, unsigned> live_;  // tracked and not closing, per listener
  std::uint64_t timed_out_ = 0, evicted_ = 0;
  std::uint64_t timed_out_unlogged_ = 0, evicted_unlogged_ = 0;
  SteadyTime last_log_{};
  bool logged_once_ = false;
  std::thread reaper_;
};

struct HttpServer::Impl {
  const SnapshotStore* store = nullptr;
  std::function<bool()> ready;
  ExpositionCache cache;
  std::atomic<std::uint64_t>* requests = nullptr;
  std::unique_ptr<ConnectionGuard> guard;

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

// --- libmicrohttpd 0.9.75 workaround: the repeated head of MHD's own error responses ----------
//
// When libmicrohttpd rejects a request while parsing its headers (a Content-Length that is not a
// number or is too large, a Cookie header that does not fit the connection's memory pool), it
// builds the error response's head, then its state machine (MHD_connection_handle_idle, case
// HEADERS_RECEIVED, which only checks for CLOSED) carries on as if the request were good and
// builds the head a second time after the first: the client receives "HTTP/1.1 400 ...",
// its headers, the same status line and headers again, then the body. Fixed upstream in
// 1.0.0 (commit f1bfbe71, "fixed handling of various errors automatically detected by MHD
// code"); Debian 12 ships 0.9.75. Every response head goes out through the library's internal
// MHD_send_hdr_and_body_(), which the link wraps (-Wl,--wrap, exporters/CMakeLists.txt): a head
// that is exactly one complete head twice is sent once, and the bytes of the copy are reported
// as sent so the library's offsets stay right. No correct response has that shape, so with a
// fixed library the wrapper only forwards.
namespace {
struct RepeatedHead {
  const char* begin;  // where the copy starts in MHD's write buffer
  const char* end;    // where it (and the head) ends
};
std::mutex g_repeated_mu;
std::unordered_map<const void*, RepeatedHead> g_repeated;  // heads sent only in part so far

// The start of the second copy when [head, head + size) is one complete response head twice.
const char* repeatedHeadCopy(const char* head, std::size_t size) {
  std::string_view v(head, size);
  if (!v.starts_with("HTTP/")) return nullptr;
  auto end = v.find("\r\n\r\n");
  if (end == std::string_view::npos) return nullptr;
  std::size_t one = end + 4;
  if (size != 2 * one || v.substr(0, one) != v.substr(one)) return nullptr;
  return head + one;
}

// The connection is gone; forget any head it was sending (its address may be reused).
void forgetRepeatedHead(const void* conn) {
  std::lock_guard<std::mutex> l(g_repeated_mu);
  g_repeated.erase(conn);
}
}  // namespace

}  // namespace foreshock

extern "C" {
// libmicrohttpd 0.9.75, src/microhttpd/mhd_send.h.
ssize_t __real_MHD_send_hdr_and_body_(MHD_Connection* connection, const char* header,
                                      size_t header_size, bool never_push_hdr, const char* body,
                                      size_t body_size, bool complete_response);

ssize_t __wrap_MHD_send_hdr_and_body_(MHD_Connection* connection, const char* header,
                                      size_t header_size, bool never_push_hdr, const char* body,
                                      size_t body_size, bool complete_response) {
  using foreshock::g_repeated;
  using foreshock::g_repeated_mu;
  const char* copy = nullptr;
  {
    std::lock_guard<std::mutex> l(g_repeated_mu);
    auto it = g_repeated.find(connection);
    if (it != g_repeated.end() && it->second.end == header + header_size &&
        header <= it->second.begin) {
      copy = it->second.begin;  // the rest of a head whose first part went out already
    }
  }
  if (copy == nullptr) copy = foreshock::repeatedHeadCopy(header, header_size);
  if (copy == nullptr) {
    return __real_MHD_send_hdr_and_body_(connection, header, header_size, never_push_hdr, body,
                                         body_size, complete_response);
  }
  auto keep = static_cast<size_t>(copy - header);
  auto skip = header_size - keep;
  ssize_t sent = static_cast<ssize_t>(skip);  // nothing left of the first copy: skip the rest
  if (keep != 0) {
    sent = __real_MHD_send_hdr_and_body_(connection, header, keep, never_push_hdr, body, body_size,
                                         complete_response);
    if (sent < 0) return sent;
    if (static_cast<size_t>(sent) < keep) {
      std::lock_guard<std::mutex> l(g_repeated_mu);
      g_repeated[connection] = {copy, header + header_size};
      return sent;
    }
    sent += static_cast<ssize_t>(skip);
  }
  std::lock_guard<std::mutex> l(g_repeated_mu);
  g_repeated.erase(connection);
  return sent;
}
}  // extern "C"

namespace foreshock {

// What one daemon's connection notifications need: which listen address it serves, whether it
// speaks TLS (TCP_NODELAY), and the guard.
struct HttpServer::Listener {
  std::size_t index = 0;
  bool tls = false;
  ConnectionGuard* guard = nullptr;
};

namespace {

TrackedConnection* trackedOf(MHD_Connection* conn) {
  const MHD_ConnectionInfo* ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci == nullptr ? nullptr : static_cast<TrackedConnection*>(ci->socket_context);
}

constexpr const char* kLanding =
    "<!DOCTYPE html>\n<html><head><title>foreshock</title></head><body>\n"
    "<h1>foreshock</h1>\n<p>Hardware and network health agent.</p>\n"
    "<ul><li><a href=\"/metrics\">Metrics</a></li>"
    "<li><a href=\"/-/healthy\">Health</a></li><li><a href=\"/-/ready\">Readiness</a></li></ul>\n"
    "</body></html>\n";

thread_local const WebConfig* t_web = nullptr;  // the config of the request being answered

// Headers libmicrohttpd writes itself from the connection's state.
bool isFramingHeader(std::string_view name) {
  for (std::string_view h : {"Content-Length", "Date", "Connection", "Transfer-Encoding",
                             "Keep-Alive", "Upgrade", "Trailer"}) {
    if (name.size() == h.size() &&
        std::equal(name.begin(), name.end(), h.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return true;
    }
  }
  return false;
}

MHD_Result queue(MHD_Connection* conn, unsigned status, const std::string& body,
                 const char* content_type, const char* encoding = nullptr,
                 const char* allow = nullptr) {
  MHD_Response* resp = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                       MHD_RESPMEM_MUST_COPY);
  if (resp == nullptr) return MHD_NO;
  if (status == MHD_HTTP_UNAUTHORIZED) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"foreshock\"");
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (encoding != nullptr) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  if (allow != nullptr) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
  if (t_web != nullptr) {
    // Configured headers never repeat one the response has already, nor one that
    // libmicrohttpd writes itself: every header appears once.
    for (const auto& [k, v] : t_web->extra_headers) {
      if (MHD_get_response_header(resp, k.c_str()) != nullptr || isFramingHeader(k)) continue;
      MHD_add_response_header(resp, k.c_str(), v.c_str());
    }
  }
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
  if (auto* tracked = trackedOf(conn)) impl->guard->requestReceived(tracked);
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

constexpr int kListenBacklog = 4096;

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
    // A deep accept queue (the kernel caps it at net.core.somaxconn): under a connection flood
    // a new client waits in it for a moment instead of having its SYNs dropped for seconds
    // while the guard makes room (kListenBacklog).
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, kListenBacklog) == 0) break;
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

HttpServer::Listener* HttpServer::newListener(std::size_t index) {
  auto l = std::make_unique<Listener>();
  l->index = index;
  l->guard = impl_->guard.get();
  listeners_.push_back(std::move(l));
  return listeners_.back().get();
}

std::uint64_t HttpServer::connectionsTimedOut() const {
  return impl_->guard->timedOut();
}
std::uint64_t HttpServer::connectionsEvicted() const {
  return impl_->guard->evicted();
}

namespace {
// Room above max_connections for connections accepted in one burst before the guard's
// evictions are released by MHD (it accepts up to 10 per turn).
constexpr unsigned kEvictionHeadroom = 32;

// Tracks every connection in the guard (which may close an older one to make room).
// TLS sends a response as several records (headers, body); with Nagle's algorithm the second
// waits for the client's delayed ACK, adding ~40 ms to every scrape over TLS. Send at once.
void onConnection(void* cls, MHD_Connection* conn, void** socket_context,
                  MHD_ConnectionNotificationCode code) {
  auto* listener = static_cast<HttpServer::Listener*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    forgetRepeatedHead(conn);
    if (*socket_context != nullptr) {
      listener->guard->closed(static_cast<TrackedConnection*>(*socket_context));
      *socket_context = nullptr;
    }
    return;
  }
  const MHD_ConnectionInfo* ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci == nullptr) return;
  if (listener->tls) {
    int one = 1;
    ::setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  *socket_context = listener->guard->opened(listener->index, ci->connect_fd);
}

// A response went out (or the request ended in error): the connection waits for its next one.
void onCompleted(void* cls, MHD_Connection* conn, void** /*con_cls*/,
                 MHD_RequestTerminationCode /*toe*/) {
  auto* listener = static_cast<HttpServer::Listener*>(cls);
  if (auto* tracked = trackedOf(conn)) listener->guard->responseDone(tracked);
}

// Starts one MHD daemon on an already bound, listening socket with the given web config.
MHD_Daemon* startDaemon(int fd, bool v6, const HttpServerOptions& options, const WebConfig* web,
                        HttpServer::Impl* impl, HttpServer::Listener* listener) {
  // MHD_USE_ITC: needed by MHD_quiesce_daemon when a reload restarts the listener.
  unsigned flags =
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
  if (v6) flags |= MHD_USE_IPv6;
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_LISTEN_SOCKET, static_cast<intptr_t>(fd), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT,
       static_cast<intptr_t>(options.max_connections + kEvictionHeadroom), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(options.max_connections_per_ip),
       nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT,
       static_cast<intptr_t>(std::max<long long>(1, options.idle_timeout.count() / 1000)), nullptr},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&onConnection), listener},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&onCompleted), listener},
  };
  listener->tls = web != nullptr && web->tls.has_value();
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
    MHD_Daemon* next =
        startDaemon(fd, daemon_v6_[i], options_, web.get(), impl_.get(), newListener(i));
    if (next == nullptr) {
      errors += (errors.empty() ? "" : "; ") + std::string("listener ") + bound_[i] +
                ": libmicrohttpd refused the new TLS settings; keeping the old ones";
      next = startDaemon(fd, daemon_v6_[i], options_, old.get(), impl_.get(), newListener(i));
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
  srv->impl_->guard = std::make_unique<ConnectionGuard>(
      options.max_connections, options.request_timeout, options.idle_timeout);
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
    MHD_Daemon* d = startDaemon(*fd, v6, options, options.web.get(), srv->impl_.get(),
                                srv->newListener(srv->daemons_.size()));
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
