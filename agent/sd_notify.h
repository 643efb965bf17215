// systemd's notification protocol, spoken directly: one datagram per message to the
// AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract name written "@name").
// Without $NOTIFY_SOCKET (not started by systemd) every call is a no-op.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "core/result.h"

namespace foreshock {

// The watchdog settings systemd passes: $WATCHDOG_USEC (the WatchdogSec= of the unit), and
// $WATCHDOG_PID when set, which must be our pid for the watchdog to be ours.
struct WatchdogSetting {
  std::chrono::microseconds timeout{0};
  // How often to ping: half the timeout, as sd_watchdog_enabled(3) recommends.
  std::chrono::microseconds pingInterval() const { return timeout / 2; }
};

// Reads $WATCHDOG_USEC and $WATCHDOG_PID. nullopt when no watchdog applies to this process
// (unset, zero, malformed, or WATCHDOG_PID names another process).
std::optional<WatchdogSetting> watchdogFromEnvironment(int pid);

// Thread-safety: every method is safe from any thread (a mutex serialises sends).
class SdNotifier {
 public:
  // Reads $NOTIFY_SOCKET once. An empty or absent variable disables notifications.
  static SdNotifier fromEnvironment();
  explicit SdNotifier(std::string socket_name) : socket_(std::move(socket_name)) {}
  SdNotifier(const SdNotifier& o) : socket_(o.socket_) {}

  bool enabled() const { return !socket_.empty(); }
  const std::string& socketName() const { return socket_; }

  // Sends one message: newline-separated KEY=VALUE assignments ("READY=1\nSTATUS=...").
  // Errors name the socket; the caller logs them (a failed notification never stops the agent).
  Status notify(const std::string& message) const;

 private:
  std::string socket_;
  mutable std::mutex mu_;
};

// Paces watchdog pings: ping() sends WATCHDOG=1 at most once per interval. Called from the
// scheduler's monitor loop on every tick, so pings stop as soon as that loop stops.
// Thread-safety: tick() from one thread (the monitor loop).
class WatchdogPinger {
 public:
  WatchdogPinger(const SdNotifier* notifier, std::chrono::microseconds interval)
      : notifier_(notifier), interval_(interval) {}
  // Sends WATCHDOG=1 if `interval` has passed since the last ping; returns true if it sent.
  bool tick(std::chrono::steady_clock::time_point now);

 private:
  const SdNotifier* notifier_;
  std::chrono::microseconds interval_;
  std::optional<std::chrono::steady_clock::time_point> last_;
};

}  // namespace foreshock
