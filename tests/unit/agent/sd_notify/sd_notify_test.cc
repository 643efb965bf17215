#include "agent/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace foreshock {
namespace {

TEST(WatchdogFromEnvironment, PingsAtHalfOfWatchdogUsec) {
  setenv("WATCHDOG_USEC", "3000000", 1);
  unsetenv("WATCHDOG_PID");
  auto w = watchdogFromEnvironment(1234);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->pingInterval(), std::chrono::microseconds(1500000));
}

TEST(WatchdogFromEnvironment, IgnoresAWatchdogMeantForAnotherProcess) {
  setenv("WATCHDOG_USEC", "3000000", 1);
  setenv("WATCHDOG_PID", "99", 1);
  EXPECT_FALSE(watchdogFromEnvironment(1234).has_value());
  setenv("WATCHDOG_PID", "1234", 1);
  EXPECT_TRUE(watchdogFromEnvironment(1234).has_value());
  setenv("WATCHDOG_USEC", "zero", 1);
  EXPECT_FALSE(watchdogFromEnvironment(1234).has_value());
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

TEST(SdNotifier, SendsOneDatagramToAnAbstractSocket) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  std::string name = "@fspk-unit-" + std::to_string(::getpid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data() + 1, name.size() - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())),
            0);
  SdNotifier n(name);
  ASSERT_TRUE(n.notify("READY=1\nSTATUS=up").ok());
  char buf[64] = {0};
  ssize_t got = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  ::close(fd);
  EXPECT_EQ(std::string(buf, got > 0 ? static_cast<std::size_t>(got) : 0), "READY=1\nSTATUS=up");
}

TEST(SdNotifier, ReportsAMissingSocketByName) {
  SdNotifier n("/nonexistent/fspk/notify");
  auto st = n.notify("READY=1");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("/nonexistent/fspk/notify"), std::string::npos);
}

TEST(SdNotifier, DoesNothingOutsideSystemd) {
  SdNotifier n("");
  EXPECT_FALSE(n.enabled());
  EXPECT_TRUE(n.notify("READY=1").ok());
}

TEST(WatchdogPinger, PingsAtMostOncePerInterval) {
  SdNotifier n("");  // disabled: tick never sends
  WatchdogPinger p(&n, std::chrono::milliseconds(500));
  EXPECT_FALSE(p.tick(std::chrono::steady_clock::now()));
}

}  // namespace
}  // namespace foreshock
