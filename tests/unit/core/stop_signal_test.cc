#include "core/stop_signal.h"

#include <gtest/gtest.h>
#include <poll.h>

namespace foreshock {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(StopSignal, IsQuietUntilStoppedThenWakesAPollAndStaysSet) {
  StopSignal s;
  ASSERT_GE(s.fd(), 0);
  EXPECT_FALSE(s.stopped());
  EXPECT_FALSE(readable(s.fd()));
  s.stop();
  EXPECT_TRUE(s.stopped());
  EXPECT_TRUE(readable(s.fd()));
  EXPECT_TRUE(readable(s.fd()));  // not consumed by a poll
}

}  // namespace
}  // namespace foreshock
