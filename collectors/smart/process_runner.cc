#include "collectors/smart/process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace foreshock::smart {

Result<ProcessOutput> runProcess(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, std::size_t max_output) {
  if (argv.empty()) return makeError("runProcess: empty argv");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return makeError(argv[0] + ": pipe: " + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group, so a timeout kills smartctl and anything it started; default signal
  // mask (the agent blocks SIGTERM/SIGHUP in its threads, the child must not inherit that).
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return makeError(argv[0] + ": cannot start: " + std::strerror(rc));
  }

  ProcessOutput po;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[16384];
  bool eof = false;
  while (!eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      po.timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) continue;
    ssize_t r = ::read(fds[0], buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    if (r == 0) {
      eof = true;
      break;
    }
    std::size_t room = max_output > po.out.size() ? max_output - po.out.size() : 0;
    po.out.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(r)));
  }
  ::close(fds[0]);
  // A child that closed stdout but keeps running is still bound by the deadline.
  int status = 0;
  bool reaped = false;
  while (!po.timed_out) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      reaped = true;
      break;
    }
    if (w < 0 && errno != EINTR) return makeError(argv[0] + ": waitpid: " + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      po.timed_out = true;
      break;
    }
    ::usleep(5000);
  }
  if (!reaped) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (WIFEXITED(status)) po.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) po.term_signal = WTERMSIG(status);
  return po;
}

}  // namespace foreshock::smart
