#include "collectors/smart/discovery.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <system_error>

#include "core/file_util.h"

namespace foreshock::smart {

namespace fs = std::filesystem;

bool isCandidateDiskName(std::string_view name) {
  if (name.empty() || name[0] == '.') return false;
  static constexpr std::string_view kSkipped[] = {"loop", "ram", "zram", "dm-",
                                                  "md",   "sr",  "fd",   "nbd"};
  for (auto p : kSkipped) {
    if (name.starts_with(p)) return false;
  }
  // nvme<ctrl>c<path>n<ns> are the hidden per-controller paths of a multipath namespace; the
  // namespace itself (nvme<subsys>n<ns>) is the disk.
  static const std::regex hidden_path("^nvme[0-9]+c[0-9]+n[0-9]+$");
  return !std::regex_match(std::string(name), hidden_path);
}

std::string transportFromDevicePath(std::string_view p, std::string_view name) {
  auto has = [&](std::string_view s) { return p.find(s) != std::string_view::npos; };
  if (name.starts_with("nvme") || has("/nvme")) return "nvme";
  if (has("/usb")) return "usb";
  if (has("/ata")) return "ata";
  if (has("/end_device-") || has("/sas_") || has("/port-")) return "sas";
  if (has("/virtio")) return "virtio";
  if (has("/mmc")) return "mmc";
  if (has("/host") || has("/target")) return "scsi";
  return "unknown";
}

std::string serialFromVpdPage80(std::string_view page) {
  if (page.size() < 4) return {};
  std::size_t len =
      (static_cast<unsigned char>(page[2]) << 8) | static_cast<unsigned char>(page[3]);
  std::string_view s = page.substr(4, std::min(len, page.size() - 4));
  std::string out;
  for (char c : s) {
    if (c >= 0x21 && c < 0x7F)
      out += c;
    else if (c == ' ' && !out.empty())
      out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Backend defaultBackend(std::string_view name, std::string_view transport) {
  if (name.starts_with("nvme")) return Backend::kNvme;
  if (transport == "ata" || transport == "usb") return Backend::kAta;
  return Backend::kSmartctl;
}

DiskIdentity readDiskIdentity(const HostPaths& paths, const std::string& name) {
  DiskIdentity id;
  id.device = name;
  fs::path dir = paths.sys("block") / name;
  fs::path dev = dir / "device";
  std::error_code ec;
  fs::path resolved = fs::canonical(dir, ec);
  id.transport = transportFromDevicePath(ec ? dir.string() : resolved.string(), name);
  if (auto s = readAttribute(dir / "size")) {
    if (auto n = parseUint(*s)) id.capacity_bytes = *n * 512;  // always 512-byte units
  }
  if (auto s = readAttribute(dir / "queue" / "rotational")) {
    if (*s == "1") id.rotational = true;
    if (*s == "0") id.rotational = false;
  }
  id.model = readAttribute(dev / "model").value_or("");
  if (id.model.empty()) id.model = readAttribute(dev / "name").value_or("");  // mmc
  id.serial = readAttribute(dev / "serial").value_or("");
  if (id.serial.empty()) {
    if (auto vpd = readFileBounded(dev / "vpd_pg80", 4096)) id.serial = serialFromVpdPage80(*vpd);
  }
  id.firmware = readAttribute(dev / "firmware_rev").value_or("");
  if (id.firmware.empty()) id.firmware = readAttribute(dev / "rev").value_or("");
  id.wwn = readAttribute(dir / "wwid").value_or("");
  if (id.wwn.empty()) id.wwn = readAttribute(dev / "wwid").value_or("");
  if (auto rs = readAttribute(dev / "power" / "runtime_status")) {
    id.runtime_suspended = *rs == "suspended";
  }
  id.backend = defaultBackend(name, id.transport);
  // The NVMe admin commands go to the controller's character device (nvme0 for nvme0n1);
  // ATA and smartctl use the block node.
  id.node = paths.dev(name).string();
  if (id.backend == Backend::kNvme) {
    std::string ctrl = fs::canonical(dev, ec).filename().string();
    static const std::regex ctrl_name("^nvme[0-9]+$");
    static const std::regex ns("^(nvme[0-9]+)n[0-9]+$");
    std::smatch m;
    if (!ec && std::regex_match(ctrl, ctrl_name)) {
      id.node = paths.dev(ctrl).string();
    } else if (std::regex_match(name, m, ns)) {
      id.node = paths.dev(m[1].str()).string();
    }
  }
  return id;
}

std::vector<DiskIdentity> discoverDisks(const HostPaths& paths) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(paths.sys("block"), ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!isCandidateDiskName(name)) continue;
    if (fs::exists(it->path() / "partition", ec)) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  std::vector<DiskIdentity> out;
  out.reserve(names.size());
  for (const auto& n : names) out.push_back(readDiskIdentity(paths, n));
  return out;
}

}  // namespace foreshock::smart
