// HttpServer against real loopback sockets: the request deadline, eviction at max_connections,
// and response heads in which every header appears once (issue 13, items 4 and 8).
#include "exporters/prometheus/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace foreshock {
namespace {

using namespace std::chrono_literals;

class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Everything received until the peer closes or `wait` passes without data.
  std::string readUntilClosed(std::chrono::milliseconds wait, bool* closed = nullptr) {
    std::string out;
    char buf[65536];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) break;
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        if (closed != nullptr) *closed = true;
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // True when the server closed the connection within `wait`.
  bool closedWithin(std::chrono::milliseconds wait) {
    bool closed = false;
    readUntilClosed(wait, &closed);
    return closed;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::uint16_t portOf(const HttpServer& s) {
  const auto& a = s.boundAddresses().at(0);
  return static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
}

std::unique_ptr<HttpServer> startServer(HttpServerOptions o, const SnapshotStore* store) {
  o.listen_addresses = {"127.0.0.1:0"};
  auto s = HttpServer::start(o, store, [] { return true; });
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return std::move(*s);
}

constexpr const char* kGet = "GET /-/healthy HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

TEST(HttpServer, ClosesAConnectionWhoseRequestTricklesPastTheDeadline) {
  SnapshotStore store;
  HttpServerOptions o;
  o.request_timeout = 1s;
  auto srv = startServer(o, &store);
  Client c(portOf(*srv));
  ASSERT_TRUE(c.connected());
  std::string req = kGet;
  auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  // One byte every 200 ms: each resets libmicrohttpd's idle timeout, never the deadline.
  for (std::size_t i = 0; i + 1 < req.size() && !closed; ++i) {
    if (!c.send(req.substr(i, 1))) break;
    closed = c.closedWithin(200ms);
    if (std::chrono::steady_clock::now() - t0 > 4s) break;
  }
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(closed) << "still open after trickling for 4 s";
  EXPECT_LT(took, 2s);
  EXPECT_EQ(srv->connectionsTimedOut(), 1u);
}

TEST(HttpServer, EvictsTheLongestWaitingConnectionSoThatANewClientIsServed) {
  SnapshotStore store;
  HttpServerOptions o;
  o.max_connections = 4;
  auto srv = startServer(o, &store);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<Client>(portOf(*srv)));
    ASSERT_TRUE(idle.back()->connected());
    std::this_thread::sleep_for(20ms);  // distinct ages
  }
  Client fresh(portOf(*srv));
  ASSERT_TRUE(fresh.send(kGet));
  std::string resp = fresh.readUntilClosed(2s);
  EXPECT_EQ(resp.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << resp;
  EXPECT_TRUE(idle[0]->closedWithin(1s)) << "the oldest idle connection was not closed";
  EXPECT_FALSE(idle[3]->closedWithin(100ms)) << "a younger idle connection was closed";
  EXPECT_EQ(srv->connectionsEvicted(), 1u);
}

TEST(HttpServer, KeepsAKeptAliveConnectionIdleForLongerThanTheRequestDeadline) {
  SnapshotStore store;
  HttpServerOptions o;
  o.request_timeout = 1s;
  o.idle_timeout = 30s;
  auto srv = startServer(o, &store);
  Client c(portOf(*srv));
  const std::string req = "GET /-/healthy HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  EXPECT_NE(c.readUntilClosed(300ms).find("Healthy"), std::string::npos);
  bool closed = false;
  c.readUntilClosed(1500ms, &closed);  // idle between scrapes, past the 1 s request deadline
  EXPECT_FALSE(closed);
  ASSERT_TRUE(c.send(req));
  EXPECT_NE(c.readUntilClosed(300ms).find("Healthy"), std::string::npos);
  EXPECT_EQ(srv->connectionsTimedOut(), 0u);
}

std::vector<std::string> headerNames(const std::string& resp) {
  std::vector<std::string> names;
  auto end = resp.find("\r\n\r\n");
  std::size_t pos = resp.find("\r\n") + 2;
  while (pos < end) {
    auto eol = resp.find("\r\n", pos);
    auto line = resp.substr(pos, eol - pos);
    auto name = line.substr(0, line.find(':'));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    names.push_back(name);
    pos = eol + 2;
  }
  return names;
}

TEST(HttpServer, ConfiguredHeadersNeverRepeatOnesTheResponseHasAlready) {
  SnapshotStore store;
  HttpServerOptions o;
  auto web = std::make_shared<WebConfig>();
  web->extra_headers = {{"X-Frame-Options", "deny"}, {"content-type", "text/evil"},
                        {"Vary", "Cookie"},          {"Content-Length", "1"},
                        {"Date", "yesterday"},       {"Connection", "keep-alive"}};
  o.web = web;
  auto srv = startServer(o, &store);
  Client c(portOf(*srv));
  ASSERT_TRUE(c.send(kGet));
  std::string resp = c.readUntilClosed(2s);
  ASSERT_EQ(resp.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << resp;
  auto names = headerNames(resp);
  for (const auto& n : names) EXPECT_EQ(std::count(names.begin(), names.end(), n), 1) << resp;
  EXPECT_NE(resp.find("X-Frame-Options: deny\r\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("Content-Type: text/plain"), std::string::npos) << resp;
}

TEST(HttpServer, AnswersABadContentLengthWithOneHead) {
  SnapshotStore store;
  auto srv = startServer(HttpServerOptions{}, &store);
  Client c(portOf(*srv));
  ASSERT_TRUE(c.send("GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n"));
  std::string resp = c.readUntilClosed(2s);
  ASSERT_EQ(resp.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << resp;
  EXPECT_EQ(resp.find("HTTP/1.1", 1), std::string::npos) << "a second head:\n" << resp;
  auto names = headerNames(resp);
  for (const auto& n : names) EXPECT_EQ(std::count(names.begin(), names.end(), n), 1) << resp;
  auto body = resp.substr(resp.find("\r\n\r\n") + 4);
  auto cl = resp.find("Content-Length: ");
  ASSERT_NE(cl, std::string::npos);
  EXPECT_EQ(std::stoul(resp.substr(cl + 16)), body.size()) << resp;
}

}  // namespace
}  // namespace foreshock
