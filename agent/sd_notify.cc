#include "agent/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/file_util.h"

namespace foreshock {

std::optional<WatchdogSetting> watchdogFromEnvironment(int pid) {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr || *usec == '\0') return std::nullopt;
  auto v = parseUint(usec);
  if (!v || *v == 0) return std::nullopt;
  // systemd sets WATCHDOG_PID when the watchdog belongs to one process of the service (e.g.
  // the main pid after a fork); a wrapper's environment passed on to us must not make us ping.
  if (const char* wpid = std::getenv("WATCHDOG_PID"); wpid != nullptr && *wpid != '\0') {
    auto p = parseUint(wpid);
    if (!p || static_cast<long long>(*p) != pid) return std::nullopt;
  }
  WatchdogSetting w;
  w.timeout = std::chrono::microseconds(static_cast<long long>(*v));
  return w;
}

SdNotifier SdNotifier::fromEnvironment() {
  const char* s = std::getenv("NOTIFY_SOCKET");
  return SdNotifier(s == nullptr ? std::string() : std::string(s));
}

Status SdNotifier::notify(const std::string& message) const {
  if (socket_.empty()) return Status{};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof(addr.sun_path)) {
    return makeError("NOTIFY_SOCKET \"" + socket_ + "\": name longer than " +
                     std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  if (socket_[0] != '/' && socket_[0] != '@') {
    return makeError("NOTIFY_SOCKET \"" + socket_ +
                     "\": expected an absolute path or @abstract name");
  }
  std::memcpy(addr.sun_path, socket_.data(), socket_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size());
  if (socket_[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL
  std::lock_guard<std::mutex> l(mu_);
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(std::string("NOTIFY_SOCKET: socket(): ") + std::strerror(errno));
  ssize_t n = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (n < 0) return makeError("NOTIFY_SOCKET \"" + socket_ + "\": " + std::strerror(err));
  if (static_cast<std::size_t>(n) != message.size()) {
    return makeError("NOTIFY_SOCKET \"" + socket_ + "\": short send");
  }
  return Status{};
}

bool WatchdogPinger::tick(std::chrono::steady_clock::time_point now) {
  if (notifier_ == nullptr || !notifier_->enabled() || interval_.count() <= 0) return false;
  if (last_ && now - *last_ < interval_) return false;
  last_ = now;
  return notifier_->notify("WATCHDOG=1").ok();
}

}  // namespace foreshock
