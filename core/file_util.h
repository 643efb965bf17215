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

// Reads at most max_bytes of a file (sysfs/procfs attributes, small state files). The error
// message names the path and the errno text. Never blocks longer than the kernel read itself.
Result<std::string> readFileBounded(const std::filesystem::path& path,
                                    std::size_t max_bytes = 1 << 20);

// Reads a one-line attribute and strips trailing whitespace; nullopt when unreadable.
std::optional<std::string> readAttribute(const std::filesystem::path& path);

// Writes `content` to `path` atomically: temp file in the same directory, fsync, rename,
// fsync of the directory. Readers never see a half-written file.
Status writeFileAtomic(const std::filesystem::path& path, std::string_view content);

std::string_view trim(std::string_view s);
std::vector<std::string_view> splitWhitespace(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::optional<std::int64_t> parseInt(std::string_view s);
std::optional<std::uint64_t> parseUint(std::string_view s);
std::optional<double> parseDouble(std::string_view s);
bool startsWith(std::string_view s, std::string_view prefix);

}  // namespace foreshock
