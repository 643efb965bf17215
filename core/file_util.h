// Small, bounded file reads and text helpers shared by every collector's thin I/O layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace foreshock {

// Opens `path` read-only only if it is a regular file, without ever blocking in open() or
// touching a device: the path is stat()ed first (a FIFO, socket, device node or directory is
// refused before any open), opened with O_NONBLOCK|O_NOCTTY, fstat()ed again (the path may
// have been swapped meanwhile), then switched back to blocking reads. Returns the descriptor
// (O_CLOEXEC; the caller closes it), or -1 with errno set: EINVAL when the path is not a
// regular file, otherwise what stat/open returned.
int openRegularFile(const std::filesystem::path& path);

// The message for a failed openRegularFile(): "PATH: not a regular file (a FIFO)" for EINVAL,
// "PATH: <strerror>" otherwise.
std::string describeOpenError(const std::filesystem::path& path, int err);

// Reads at most max_bytes of a regular file: a prefix by design (sysfs/procfs attributes whose
// st_size means nothing, file headers). A FIFO, socket or device is an error, never a hang.
// The error message names the path and the errno text.
Result<std::string> readFileBounded(const std::filesystem::path& path,
                                    std::size_t max_bytes = 1 << 20);

// Reads a whole regular file that must not exceed `cap` bytes (configuration, state, inputs
// an operator names). Never truncates: a file over the cap is an error naming the file, its
// size and the cap ("PATH: file is 1.5 MiB (1572864 bytes), over the 1 MiB limit"). The size
// is checked with fstat() before anything is read, and again while reading (a file that
// grows, or a procfs file whose st_size is 0). FIFOs and devices are refused as above.
Result<std::string> readFileCapped(const std::filesystem::path& path, std::size_t cap);

// "512 KiB", "1 MiB", "1.5 MiB", "2 GiB", "100 bytes": a byte count for messages.
std::string formatBytes(std::uint64_t bytes);

// "3", "-12", "0.25", "1.23e+06": a whole number exactly (below 1e15), any other value with
// `significant` significant digits (printf %g). For messages and reports.
std::string formatNumber(double v, int significant);

// Reads a one-line attribute and strips trailing whitespace; nullopt when unreadable.
std::optional<std::string> readAttribute(const std::filesystem::path& path);

// Writes `content` to `path` atomically: temp file in the same directory, fsync, rename,
// fsync of the directory. Readers never see a half-written file.
Status writeFileAtomic(const std::filesystem::path& path, std::string_view content);

// Removes what interrupted writeFileAtomic(path) calls left behind (a crash or SIGKILL between
// mkstemp and rename): regular files, not symlinks, named exactly ".NAME.XXXXXX" (NAME being
// path's file name, X from mkstemp's alphabet) in path's directory and owned by this user.
// Nothing else is touched. Call only while no writeFileAtomic(path) can be running (e.g. at
// start, before the first save). Returns the paths removed; errors are ignored.
std::vector<std::filesystem::path> removeStaleTempFiles(const std::filesystem::path& path);

std::string_view trim(std::string_view s);
std::vector<std::string_view> splitWhitespace(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::optional<std::int64_t> parseInt(std::string_view s);
std::optional<std::uint64_t> parseUint(std::string_view s);
std::optional<double> parseDouble(std::string_view s);
bool startsWith(std::string_view s, std::string_view prefix);

}  // namespace foreshock
