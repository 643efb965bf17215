#include "collectors/sensors/bounded_executor.h"

#include <gtest/gtest.h>

#include <future>

namespace foreshock::sensors {
namespace {

using namespace std::chrono_literals;

TEST(BoundedExecutor, RunsAJobToCompletion) {
  BoundedExecutor ex;
  int x = 0;
  EXPECT_EQ(ex.run([&] { x = 42; }, 10s), BoundedExecutor::Outcome::kDone);
  EXPECT_EQ(x, 42);
  EXPECT_EQ(ex.run([&] { x = 43; }, 10s), BoundedExecutor::Outcome::kDone) << "worker reused";
  EXPECT_EQ(x, 43);
}

TEST(BoundedExecutor, AbandonsABlockedJobAndKeepsServingOthers) {
  BoundedExecutor ex;
  auto release = std::make_shared<std::promise<void>>();
  auto released = release->get_future().share();
  EXPECT_EQ(ex.run([released] { released.wait(); }, 20ms), BoundedExecutor::Outcome::kTimedOut);
  EXPECT_EQ(ex.stuckWorkers(), 1);
  int x = 0;
  EXPECT_EQ(ex.run([&] { x = 1; }, 10s), BoundedExecutor::Outcome::kDone)
      << "a fresh worker takes the next job";
  EXPECT_EQ(x, 1);
  release->set_value();
  while (ex.stuckWorkers() != 0) std::this_thread::yield();  // the blocked job returns
}

TEST(BoundedExecutor, RefusesJobsOnceTooManyWorkersAreStuck) {
  BoundedExecutor ex(2);
  auto release = std::make_shared<std::promise<void>>();
  auto released = release->get_future().share();
  EXPECT_EQ(ex.run([released] { released.wait(); }, 10ms), BoundedExecutor::Outcome::kTimedOut);
  EXPECT_EQ(ex.run([released] { released.wait(); }, 10ms), BoundedExecutor::Outcome::kTimedOut);
  bool ran = false;
  EXPECT_EQ(ex.run([&] { ran = true; }, 10s), BoundedExecutor::Outcome::kRefused);
  EXPECT_FALSE(ran);
  release->set_value();
  while (ex.stuckWorkers() != 0) std::this_thread::yield();
  EXPECT_EQ(ex.run([&] { ran = true; }, 10s), BoundedExecutor::Outcome::kDone);
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace foreshock::sensors
