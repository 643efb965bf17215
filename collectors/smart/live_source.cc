#include "collectors/smart/live_source.h"

#include <atasmart.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nvme_ioctl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "collectors/smart/ata_reader.h"
#include "collectors/smart/discovery.h"
#include "collectors/smart/nvme_log.h"
#include "collectors/smart/process_runner.h"
#include "collectors/smart/smartctl_json.h"
#include "core/options.h"

namespace foreshock::smart {

ErrnoReason reasonForErrno(int err, Backend backend) {
  switch (err) {
    case EACCES:
    case EPERM:
      // ATA passthrough (SG_IO / HDIO) needs CAP_SYS_RAWIO, NVMe admin commands CAP_SYS_ADMIN;
      // both also need read access to the node.
      return {"permission_denied", backend == Backend::kNvme ? "CAP_SYS_ADMIN" : "CAP_SYS_RAWIO"};
    case ENOENT:
    case ENXIO:
    case ENODEV: return {"no_device", ""};
    case ENOTTY:
    case ENOTSUP:
    case EINVAL:
    case ENOTBLK: return {"not_smart_capable", ""};
    case ETIMEDOUT: return {"timeout", ""};
    default: return {"read_failed", ""};
  }
}

namespace {

std::string errnoText(int e) {
  return std::strerror(e);
}

// Whether the process holds `cap` in its effective set (capget(2); no libcap needed).
bool hasCapability(int cap) {
  __user_cap_header_struct hdr{};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

ReadOutcome failed(const DiskIdentity& d, int err, const std::string& what) {
  ReadOutcome o;
  o.kind = ReadOutcome::Kind::kFailed;
  auto r = reasonForErrno(err, d.backend);
  o.reason = r.reason;
  o.missing_capability = r.capability;
  o.message = what + " " + d.node + ": " + errnoText(err);
  if (r.reason == "permission_denied") {
    // EPERM/EACCES means three different things: no read access to the node, a missing
    // capability, or (libatasmart on a non-ATA disk) a device that refused every access
    // method. Tell them apart so the log names the real cause.
    int fd = ::open(d.node.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
      o.missing_capability.clear();
      o.message = "no read access to " + d.node + " (" + errnoText(errno) + ")";
      return o;
    }
    if (fd >= 0) ::close(fd);
    const int cap = d.backend == Backend::kNvme ? CAP_SYS_ADMIN : CAP_SYS_RAWIO;
    if (hasCapability(cap)) {
      o.reason = "not_smart_capable";
      o.missing_capability.clear();
      o.message += " (the device rejected the command although " + r.capability + " is held)";
    }
  }
  return o;
}

struct SkDiskCloser {
  void operator()(SkDisk* d) const { sk_disk_free(d); }
};
using SkDiskPtr = std::unique_ptr<SkDisk, SkDiskCloser>;

const char* nocheckArg(PowerCheckMode m) {
  switch (m) {
    case PowerCheckMode::kNever: return "--nocheck=never";
    case PowerCheckMode::kSleep: return "--nocheck=sleep";
    case PowerCheckMode::kStandby: return "--nocheck=standby";
  }
  return "--nocheck=standby";
}

class LiveSource final : public DeviceSource {
 public:
  LiveSource(HostPaths paths, LiveOptions options)
      : paths_(std::move(paths)), options_(std::move(options)) {}

  std::vector<DiskIdentity> discover() override {
    std::vector<DiskIdentity> disks = discoverDisks(paths_);
    for (const auto& o : options_.devices) {
      auto it = std::find_if(disks.begin(), disks.end(),
                             [&](const DiskIdentity& d) { return d.device == o.device; });
      if (it == disks.end()) {
        DiskIdentity d;
        d.device = o.device;
        d.transport = "configured";
        d.backend = Backend::kSmartctl;
        disks.push_back(std::move(d));
        it = disks.end() - 1;
      }
      if (o.backend == "ata") it->backend = Backend::kAta;
      if (o.backend == "nvme") it->backend = Backend::kNvme;
      if (o.backend == "smartctl") it->backend = Backend::kSmartctl;
      if (!o.smartctl_type.empty()) it->smartctl_type = o.smartctl_type;
      if (!o.node.empty()) {
        it->node = o.node[0] == '/' ? o.node : paths_.dev(o.node).string();
      } else if (it->node.empty()) {
        it->node = paths_.dev(o.device).string();
      }
    }
    std::sort(disks.begin(), disks.end(),
              [](const DiskIdentity& a, const DiskIdentity& b) { return a.device < b.device; });
    return disks;
  }

  PowerState checkPower(const DiskIdentity& d) override {
    if (d.backend != Backend::kAta) {
      // NVMe autonomous power states are left transparently on any admin command, and
      // smartctl checks the power mode itself (--nocheck) before any SMART command.
      return PowerState::kUnknown;
    }
    SkDisk* raw = nullptr;
    if (sk_disk_open(d.node.c_str(), &raw) < 0 || raw == nullptr) return PowerState::kUnknown;
    SkDiskPtr disk(raw);
    SkBool awake = TRUE;
    // ATA CHECK POWER MODE: answered from the drive's controller without spinning up.
    if (sk_disk_check_sleep_mode(disk.get(), &awake) < 0) return PowerState::kUnknown;
    return awake ? PowerState::kActive : PowerState::kStandby;
  }

  ReadOutcome readSmart(const DiskIdentity& d, PowerCheckMode mode) override {
    switch (d.backend) {
      case Backend::kAta: {
        ReadOutcome o = readAta(d);
        // libatasmart insists on descriptor-format sense data for its CK_COND pass-through;
        // Linux's libata SATL has answered with fixed-format sense (D_SENSE=0) since the 2024
        // stable updates (Debian 12's 6.1 kernels included), so libatasmart finds no IDENTIFY
        // data on disks smartctl reads without trouble (seen in tests/lab on QEMU's AHCI).
        // smartctl, which checks the SCSI status instead, reads the same disk then.
        if (o.kind == ReadOutcome::Kind::kFailed && o.reason == "not_smart_capable") {
          ReadOutcome via = readSmartctl(d, mode);
          if (via.kind != ReadOutcome::Kind::kFailed) return via;
        }
        return o;
      }
      case Backend::kNvme: return readNvme(d);
      case Backend::kSmartctl: return readSmartctl(d, mode);
    }
    return {};
  }

 private:
  ReadOutcome readAta(const DiskIdentity& d) {
    SkDisk* raw = nullptr;
    // sk_disk_open sends IDENTIFY DEVICE to learn the access method.
    if (sk_disk_open(d.node.c_str(), &raw) < 0 || raw == nullptr) {
      return failed(d, errno, "libatasmart cannot open");
    }
    SkDiskPtr disk(raw);
    auto r = readSkDisk(disk.get(), true);
    if (!r) {
      int err = errno;
      ReadOutcome o = failed(d, err == 0 ? EIO : err, "libatasmart");
      o.message = d.node + ": " + r.error().message;
      if (r.error().message.find("not available") != std::string::npos) {
        o.reason = "not_smart_capable";
        o.missing_capability.clear();
      }
      return o;
    }
    ReadOutcome o;
    o.kind = ReadOutcome::Kind::kReading;
    o.reading = std::move(*r);
    return o;
  }

  ReadOutcome readNvme(const DiskIdentity& d) {
    int fd = ::open(d.node.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
      // Debian's udev leaves the controller node (/dev/nvme0) root-only, while the namespace
      // node beside it (/dev/nvme0n1) belongs to the disk group. The kernel takes the same
      // admin commands (and the same CAP_SYS_ADMIN check) on the namespace node, so a service
      // in the disk group reads the health log there instead of needing DAC overrides.
      const int err = errno;
      const auto ns_node = std::filesystem::path(d.node).parent_path() / d.device;
      if (ns_node.string() != d.node)
        fd = ::open(ns_node.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) errno = err;
    }
    if (fd < 0) return failed(d, errno, "cannot open");
    std::vector<std::uint8_t> ident(kNvmeIdentifySize), log(kNvmeSmartLogSize);
    auto admin = [&](std::uint8_t opcode, std::uint32_t nsid, std::uint32_t cdw10,
                     std::vector<std::uint8_t>& buf) -> int {
      nvme_admin_cmd cmd{};
      cmd.opcode = opcode;
      cmd.nsid = nsid;
      cmd.addr = reinterpret_cast<std::uint64_t>(buf.data());
      cmd.data_len = static_cast<std::uint32_t>(buf.size());
      cmd.cdw10 = cdw10;
      cmd.timeout_ms = static_cast<std::uint32_t>(options_.nvme_timeout.count());
      return ::ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
    };
    // Identify (06h), CNS 01h: the controller data structure.
    int rc = admin(0x06, 0, 0x01, ident);
    if (rc != 0) {
      int err = rc < 0 ? errno : EIO;
      ::close(fd);
      ReadOutcome o = failed(d, err, "NVMe Identify Controller on");
      if (rc > 0) o.message += " (NVMe status " + std::to_string(rc) + ")";
      return o;
    }
    // Get Log Page (02h), log 02h for the whole controller (NSID FFFFFFFFh);
    // NUMDL = dwords - 1 in bits 31:16 of CDW10.
    const std::uint32_t numdl = kNvmeSmartLogSize / 4 - 1;
    rc = admin(0x02, 0xFFFFFFFFu, (numdl << 16) | 0x02, log);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
      ReadOutcome o = failed(d, rc < 0 ? err : EIO, "NVMe Get Log Page 02h on");
      if (rc > 0) o.message += " (NVMe status " + std::to_string(rc) + ")";
      return o;
    }
    auto id = parseNvmeIdentifyController(ident);
    auto h = parseNvmeSmartLog(log);
    ReadOutcome o;
    if (!id || !h) {
      o.kind = ReadOutcome::Kind::kFailed;
      o.reason = "parse_error";
      o.message = d.node + ": " + (!id ? id.error().message : h.error().message);
      return o;
    }
    o.kind = ReadOutcome::Kind::kReading;
    o.reading = nvmeReading(*id, *h);
    return o;
  }

  ReadOutcome readSmartctl(const DiskIdentity& d, PowerCheckMode mode) {
    // --json=o: JSON plus smartctl's text lines (smartctl.output), the only place SCSI's
    // non-medium error count appears.
    std::vector<std::string> argv = {
        options_.smartctl_path, "--json=o",    "--info",        "--health",
        "--attributes",         "--log=error", nocheckArg(mode)};
    if (!d.smartctl_type.empty()) {
      argv.push_back("-d");
      argv.push_back(d.smartctl_type);
    }
    argv.push_back(d.node);
    ReadOutcome o;
    auto run = runProcess(argv, options_.smartctl_timeout);
    if (!run) {
      o.kind = ReadOutcome::Kind::kFailed;
      o.reason = "smartctl_missing";
      o.message = run.error().message;
      return o;
    }
    if (run->timed_out) {
      o.kind = ReadOutcome::Kind::kFailed;
      o.reason = "timeout";
      o.message =
          "smartctl " + d.node + " killed after " + formatDuration(options_.smartctl_timeout);
      return o;
    }
    auto parsed = parseSmartctlJson(run->out);
    if (!parsed) {
      o.kind = ReadOutcome::Kind::kFailed;
      o.reason = "smartctl_output_invalid";
      o.message = "smartctl " + d.node + " (exit " + std::to_string(run->exit_code) +
                  "): " + parsed.error().message;
      return o;
    }
    o.power = parsed->power;
    switch (parsed->kind) {
      case SmartctlOutcome::Kind::kReading:
        o.kind = ReadOutcome::Kind::kReading;
        o.reading = std::move(parsed->reading);
        break;
      case SmartctlOutcome::Kind::kSkipped: o.kind = ReadOutcome::Kind::kSkipped; break;
      case SmartctlOutcome::Kind::kFailed: {
        o.kind = ReadOutcome::Kind::kFailed;
        o.reason = parsed->reason;
        o.message = "smartctl " + d.node + ": " + parsed->message;
        const std::string& m = parsed->message;
        if (m.find("Permission denied") != std::string::npos ||
            m.find("Operation not permitted") != std::string::npos) {
          o.reason = "permission_denied";
          o.missing_capability = "CAP_SYS_RAWIO";
        }
        break;
      }
    }
    return o;
  }

  HostPaths paths_;
  LiveOptions options_;
};

}  // namespace

std::shared_ptr<DeviceSource> makeLiveSource(HostPaths paths, LiveOptions options) {
  return std::make_shared<LiveSource>(std::move(paths), std::move(options));
}

}  // namespace foreshock::smart
