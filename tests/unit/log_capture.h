// Captures what the code under test logs, for unit tests that assert on log lines.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "core/log.h"

namespace foreshock::test {

// Installs itself as the log sink while it lives and restores the default sink when
// destroyed, so a test fixture that holds one as a member sees every line its test logs.
// Thread-safe: lines may arrive from any thread (collector threads, the scheduler) while the
// test reads them.
class LogCapture {
 public:
  LogCapture() {
    log::setSink([this](log::Level, const std::string& line) {
      std::lock_guard<std::mutex> l(mu_);
      lines_.push_back(line);
    });
  }
  ~LogCapture() { log::setSink({}); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // A copy of every line logged so far, oldest first.
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> l(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace foreshock::test
