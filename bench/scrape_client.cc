// Scrape-latency client for bench/scrape.sh: N sequential GET /metrics over one keep-alive
// connection (as Prometheus does), timing each full response. Prints median, p90, p99, max.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

bool readResponse(int fd, std::string& buf, std::size_t& body_bytes) {
  buf.clear();
  char tmp[65536];
  std::size_t header_end = std::string::npos;
  std::size_t content_length = 0;
  for (;;) {
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      auto pos = buf.find("Content-Length: ");
      if (pos == std::string::npos || pos > header_end) return false;
      content_length = std::strtoul(buf.c_str() + pos + 16, nullptr, 10);
    }
    if (buf.size() >= header_end + 4 + content_length) {
      body_bytes = content_length;
      return true;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s HOST PORT [REQUESTS] [gzip]\n", argv[0]);
    return 2;
  }
  int requests = argc > 3 ? std::atoi(argv[3]) : 2000;
  bool gzip = argc > 4 && std::string(argv[4]) == "gzip";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    std::perror("connect");
    return 1;
  }
  std::string req = "GET /metrics HTTP/1.1\r\nHost: bench\r\n";
  if (gzip) req += "Accept-Encoding: gzip\r\n";
  req += "\r\n";
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(requests));
  std::string buf;
  std::size_t bytes = 0;
  for (int i = 0; i < requests; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) return 1;
    if (!readResponse(fd, buf, bytes)) {
      std::fprintf(stderr, "bad response at request %d\n", i);
      return 1;
    }
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) {
    return us[static_cast<std::size_t>(p * static_cast<double>(us.size() - 1))];
  };
  std::printf("requests=%d body_bytes=%zu%s median_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
              requests, bytes, gzip ? " (gzip)" : "", pct(0.5), pct(0.9), pct(0.99), us.back());
  ::close(fd);
  return 0;
}
