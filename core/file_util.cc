#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace foreshock {

namespace {
std::string errnoText(int err) {
  return std::strerror(err);
}
}  // namespace

namespace {
const char* fileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  return "not a plain file";
}
}  // namespace

int openRegularFile(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  if (!S_ISREG(st.st_mode)) {
    errno = EINVAL;
    return -1;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return -1;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = S_ISREG(st.st_mode) ? errno : EINVAL;
    ::close(fd);
    errno = err;
    return -1;
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

std::string describeOpenError(const std::filesystem::path& path, int err) {
  if (err == EINVAL) {
    struct stat st {};
    std::string what = ::stat(path.c_str(), &st) == 0 ? fileTypeName(st.st_mode) : "unknown";
    return path.string() + ": not a regular file (" + what + "); refusing to read it";
  }
  return path.string() + ": " + errnoText(err);
}

std::string formatBytes(std::uint64_t bytes) {
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (v == static_cast<double>(static_cast<std::uint64_t>(v))) {
    std::snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(v), units[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

namespace {
// Reads up to `limit` bytes from fd into out; false (errno set) on a read error.
bool readUpTo(int fd, std::size_t limit, std::string& out) {
  char buf[16384];
  while (out.size() < limit) {
    std::size_t want = std::min(sizeof(buf), limit - out.size());
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::string overCap(const std::filesystem::path& path, std::uint64_t size, std::size_t cap,
                    bool at_least) {
  return path.string() + ": file is " + (at_least ? "more than " : "") + formatBytes(size) + " (" +
         std::to_string(size) + " bytes), over the " + formatBytes(cap) +
         " limit; refusing to read a cut-off copy";
}
}  // namespace

Result<std::string> readFileBounded(const std::filesystem::path& path, std::size_t max_bytes) {
  int fd = openRegularFile(path);
  if (fd < 0) return makeError(describeOpenError(path, errno));
  std::string out;
  bool ok = readUpTo(fd, max_bytes, out);
  int err = errno;
  ::close(fd);
  if (!ok) return makeError(path.string() + ": read: " + errnoText(err));
  return out;
}

Result<std::string> readFileCapped(const std::filesystem::path& path, std::size_t cap) {
  int fd = openRegularFile(path);
  if (fd < 0) return makeError(describeOpenError(path, errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > cap) {
    ::close(fd);
    return makeError(overCap(path, static_cast<std::uint64_t>(st.st_size), cap, false));
  }
  std::string out;
  if (st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  bool ok = readUpTo(fd, cap + 1, out);  // one byte more tells a file that grew past the cap
  int err = errno;
  ::close(fd);
  if (!ok) return makeError(path.string() + ": read: " + errnoText(err));
  if (out.size() > cap) return makeError(overCap(path, cap, cap, true));
  return out;
}

std::optional<std::string> readAttribute(const std::filesystem::path& path) {
  auto r = readFileBounded(path, 64 * 1024);
  if (!r.ok()) return std::nullopt;
  return std::string(trim(*r));
}

Status writeFileAtomic(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return makeError(tmpl + ": cannot create temporary file: " + errnoText(errno));
  std::size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmpl.c_str());
      return makeError(tmpl + ": write: " + errnoText(err));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    return makeError(tmpl + ": " + errnoText(err));
  }
  ::close(fd);
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return makeError(path.string() + ": rename: " + errnoText(err));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

std::vector<std::filesystem::path> removeStaleTempFiles(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> removed;
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const std::string prefix = "." + path.filename().string() + ".";
  auto mkstempChar = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() != prefix.size() + 6 || !startsWith(name, prefix)) continue;
    if (!std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     mkstempChar))
      continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid())
      continue;
    if (::unlink(it->path().c_str()) == 0) removed.push_back(it->path());
  }
  return removed;
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> splitWhitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !space(s[j])) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

namespace {

// The whole of `s` (surrounding whitespace trimmed) as a decimal integer of type T; nullopt when
// empty, not a number, followed by anything else, or out of T's range.
template <typename T>
std::optional<T> parseWholeInteger(std::string_view s) {
  s = trim(s);
  T v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::int64_t> parseInt(std::string_view s) {
  return parseWholeInteger<std::int64_t>(s);
}

std::optional<std::uint64_t> parseUint(std::string_view s) {
  return parseWholeInteger<std::uint64_t>(s);
}

std::string formatNumber(double v, int significant) {
  char buf[64];
  if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*g", significant, v);
  }
  return buf;
}

std::optional<double> parseDouble(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size() || errno == ERANGE) return std::nullopt;
  return v;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace foreshock
