// Host roots. No collector spells /sys or /dev itself: every path goes through HostPaths, so
// tests (and containers) point the agent at another root with --path.sysfs and friends.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace foreshock {

struct HostPaths {
  std::filesystem::path sysfs = "/sys";
  std::filesystem::path procfs = "/proc";
  std::filesystem::path devfs = "/dev";
  std::filesystem::path rootfs = "/";

  // sys("class/net") -> <sysfs>/class/net. The argument is relative (no leading slash).
  std::filesystem::path sys(std::string_view rel) const { return sysfs / rel; }
  std::filesystem::path proc(std::string_view rel) const { return procfs / rel; }
  std::filesystem::path dev(std::string_view rel) const { return devfs / rel; }
  // root("etc/sensors3.conf") -> <rootfs>/etc/sensors3.conf
  std::filesystem::path root(std::string_view rel) const { return rootfs / rel; }
};

}  // namespace foreshock
