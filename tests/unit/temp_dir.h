// A private, empty directory for one unit test, shared by the tests that build files on disk
// (a fake sysfs, hostile files).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace foreshock::test {

// Creates <temp>/<prefix>-<pid>-<test name>, emptied first in case an earlier crashed run left
// it, and removes it with all it holds when destroyed (a failing assertion included, since
// gtest still tears the fixture down). Not thread-safe: one test owns one instance.
class TestTempDir {
 public:
  explicit TestTempDir(std::string_view prefix)
      : path_(std::filesystem::temp_directory_path() /
              (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TestTempDir(const TestTempDir&) = delete;
  TestTempDir& operator=(const TestTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace foreshock::test
