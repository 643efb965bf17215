// Runs a helper program (smartctl) with an argv — never through a shell — under a hard
// timeout: the child is killed (SIGKILL, whole process group) when the deadline passes.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace foreshock::smart {

struct ProcessOutput {
  std::string out;         // stdout, truncated at max_output bytes
  int exit_code = -1;      // exit status when the child exited normally
  int term_signal = 0;     // the signal that ended it, 0 if none
  bool timed_out = false;  // killed because the deadline passed
};

// Contract: argv[0] is the program (looked up in PATH when it has no '/'). stdin is
// /dev/null, stderr is discarded. Returns an Error only when the child could not be started
// (the message names the program and errno); a non-zero exit is a normal ProcessOutput.
// Thread-safety: safe to call from several threads at once (fork/exec with CLOEXEC pipes).
Result<ProcessOutput> runProcess(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout,
                                 std::size_t max_output = 8 << 20);

}  // namespace foreshock::smart
