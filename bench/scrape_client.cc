// Scrape-latency client for bench/scrape.sh and the soak test (tests/soak/test_scrape_soak.py):
// N sequential GET /metrics over one keep-alive connection (as Prometheus does), timing each full
// response, as fast as possible or paced at RATE requests per second. Prints median, p90, p99,
// max and the achieved rate; exits 1 at the first failed scrape, naming it.
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
#include <thread>
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
    std::fprintf(stderr, "usage: %s HOST PORT [REQUESTS] [gzip|plain] [RATE]\n", argv[0]);
    return 2;
  }
  int requests = argc > 3 ? std::atoi(argv[3]) : 2000;
  bool gzip = argc > 4 && std::string(argv[4]) == "gzip";
  double rate = argc > 5 ? std::atof(argv[5]) : 0;  // requests per second; 0: unpaced
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
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < requests; ++i) {
    if (rate > 0) {
      std::this_thread::sleep_until(start +
                                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                        std::chrono::duration<double>(i / rate)));
    }
    auto t0 = std::chrono::steady_clock::now();
    if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
      std::fprintf(stderr, "send failed at request %d\n", i);
      return 1;
    }
    if (!readResponse(fd, buf, bytes) || buf.compare(0, 15, "HTTP/1.1 200 OK") != 0) {
      std::fprintf(stderr, "bad response at request %d: %.60s\n", i, buf.c_str());
      return 1;
    }
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) {
    return us[static_cast<std::size_t>(p * static_cast<double>(us.size() - 1))];
  };
  std::printf(
      "requests=%d body_bytes=%zu%s median_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f "
      "rate_per_s=%.0f\n",
      requests, bytes, gzip ? " (gzip)" : "", pct(0.5), pct(0.9), pct(0.99), us.back(),
      requests / secs);
  ::close(fd);
  return 0;
}
