#include "collectors/kernel/kernel_collector.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "collectors/kernel/kmsg_parse.h"
#include "collectors/kernel/kmsg_stream.h"
#include "collectors/kernel/sysfs_counters.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/stop_signal.h"

namespace foreshock {

namespace fs = std::filesystem;

KmsgOpenFailure describeKmsgOpenFailure(const fs::path& path, int err) {
  KmsgOpenFailure f;
  const std::string head =
      "cannot read the kernel log " + path.string() + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM) {
    f.reason = "permission_denied";
    f.message = head +
                " (reading it needs CAP_SYSLOG while kernel.dmesg_restrict=1, and read access to "
                "the device node; under systemd also ProtectKernelLogs=no and DeviceAllow=" +
                path.string() + " r)";
  } else if (err == ENOENT || err == ENODEV || err == ENXIO) {
    f.reason = "missing";
    f.message = head + " (no kernel log device here, e.g. in a container without /dev/kmsg)";
  } else {
    f.reason = "open_error";
    f.message = head;
  }
  return f;
}

namespace {

constexpr const char* kComponent = "kernel";
constexpr auto kReopenEvery = std::chrono::seconds(30);
constexpr auto kWarnEvery = std::chrono::minutes(5);
// Larger than any record /dev/kmsg hands out (the kernel needs the whole record in one
// read(): a smaller buffer gets EINVAL and the record stays unread).
constexpr std::size_t kReadBuffer = 16 * 1024;
// Bound on what a start with read_existing drains synchronously (the ring is at most a few MiB).
constexpr std::size_t kDrainLimitBytes = 32u << 20;

struct ClassSpec {
  KernelEventClass cls;
  const char* name;
  const char* help;
  const char* device_label;  // nullptr: no device label
  const char* detail_label;  // nullptr: no detail label
};

// One family per class. Label values are bounded: devices by max_devices per class, details
// by a closed set per class (see kmsg_parse.cc).
constexpr ClassSpec kClasses[] = {
    {KernelEventClass::kBlockIoError, "foreshock_kernel_block_io_errors_total",
     "Block-layer request failures the kernel logged for a disk (\"I/O error, dev sda, sector "
     "...\", critical medium, timeout, transport or target errors).",
     "device", nullptr},
    {KernelEventClass::kFsError, "foreshock_kernel_fs_errors_total",
     "Filesystem errors the kernel logged (EXT4-fs error, XFS error or corruption, BTRFS error).",
     "device", "fs"},
    {KernelEventClass::kFsReadOnly, "foreshock_kernel_fs_readonly_total",
     "Times the kernel took a filesystem out of write service after an error (ext4 remount "
     "read-only, XFS shutdown, btrfs forced readonly).",
     "device", "fs"},
    {KernelEventClass::kMce, "foreshock_kernel_mce_events_total",
     "Machine-check messages the kernel logged: logged (corrected events reported), "
     "corrected / uncorrected (a machine-check record, by its status' UC bit), memory_failure "
     "(a page taken offline).",
     nullptr, "kind"},
    {KernelEventClass::kPcieAer, "foreshock_kernel_pcie_aer_errors_total",
     "PCIe AER error messages received by a root port, by source device and severity "
     "(corrected, nonfatal, fatal).",
     "device", "class"},
    {KernelEventClass::kEdac, "foreshock_kernel_edac_errors_total",
     "Memory errors EDAC logged, by memory controller and class (corrected, uncorrected).",
     "controller", "class"},
    {KernelEventClass::kAtaLinkReset, "foreshock_kernel_ata_link_resets_total",
     "ATA link resets (hard or soft) by the libata error handler, by port.", "port", nullptr},
    {KernelEventClass::kAtaException, "foreshock_kernel_ata_exceptions_total",
     "ATA error-handler exceptions (\"exception Emask ...\"), by port.", "port", nullptr},
    {KernelEventClass::kAtaLinkDown, "foreshock_kernel_ata_link_down_total",
     "\"SATA link down\" messages, by port (also printed for empty ports at boot).", "port",
     nullptr},
    {KernelEventClass::kNvmeTimeout, "foreshock_kernel_nvme_timeouts_total",
     "NVMe commands that timed out, by controller.", "device", nullptr},
    {KernelEventClass::kNvmeReset, "foreshock_kernel_nvme_resets_total",
     "NVMe controller resets the driver started (after a timeout or a dead controller), by "
     "controller.",
     "device", nullptr},
    {KernelEventClass::kMdDiskFailure, "foreshock_kernel_md_disk_failures_total",
     "md RAID members the kernel failed out of an array (\"Disk failure on ..., disabling "
     "device\"), by array.",
     "array", nullptr},
    {KernelEventClass::kFirmwareError, "foreshock_kernel_firmware_errors_total",
     "Hardware errors the firmware reported through APEI/GHES (\"[Hardware Error]: event "
     "severity: ...\"), by class (corrected, recoverable, fatal, info).",
     nullptr, "class"},
};

const ClassSpec& spec(KernelEventClass cls) {
  for (const auto& s : kClasses)
    if (s.cls == cls) return s;
  return kClasses[0];
}

constexpr const char* kSourceUpHelp =
    "1 when the collector reads this kernel source (kmsg, edac, pcie_aer); 0 with a reason.";

// Thread-safety: the reader thread owns the kmsg descriptor and the stream splitter; the tally
// and the reader's status are guarded by mu_ and copied by collect(). The sysfs counters are
// read by collect() alone.
class KernelCollector final : public Collector {
 public:
  explicit KernelCollector(const CollectorContext& ctx)
      : paths_(ctx.paths),
        kmsg_path_(ctx.paths.dev("kmsg")),
        read_kmsg_(ctx.config.getBool("kmsg")),
        read_existing_(ctx.config.getBool("read_existing")),
        edac_(ctx.config.getBool("edac")),
        aer_(ctx.config.getBool("pcie_aer")),
        md_(ctx.config.getBool("md")),
        tally_(static_cast<std::size_t>(ctx.config.getInt("max_devices"))) {
    if (!read_kmsg_) return;
    openKmsg();
    // With read_existing the ring is drained before the first collect(), so a one-shot run
    // (foreshock check) sees what the kernel logged since boot.
    if (fd_ >= 0 && read_existing_) drain(kDrainLimitBytes);
    thread_ = std::thread([this] { run(); });
  }

  ~KernelCollector() override {
    stop_.stop();
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }

  Status collect(MetricSet& out) override {
    if (read_kmsg_) seedKnownDevices();
    collectKmsg(out);
    if (edac_) collectEdac(out);
    if (aer_) collectAer(out);
    if (md_) collectMd(out);
    return Status::Ok();
  }

 private:
  // ---- kmsg stream (reader thread) ----

  void openKmsg() {
    // O_NONBLOCK: /dev/kmsg read() blocks for the next record otherwise; the thread polls.
    const int fd = ::open(kmsg_path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    std::lock_guard<std::mutex> lock(mu_);
    if (fd < 0) {
      const auto f = describeKmsgOpenFailure(kmsg_path_, errno);
      if (f.message != kmsg_error_) log::error(kComponent, f.message);
      kmsg_error_ = f.message;
      kmsg_reason_ = f.reason;
      return;
    }
    // Start at the end: records already in the ring (boot messages, errors before the agent
    // started) are not counted unless read_existing asks for them. A FIFO cannot seek (ESPIPE)
    // and starts wherever its writer is.
    if (!read_existing_) (void)::lseek(fd, 0, SEEK_END);
    fd_ = fd;
    if (!kmsg_error_.empty())
      log::info(kComponent, "reading the kernel log " + kmsg_path_.string());
    kmsg_error_.clear();
    kmsg_reason_.clear();
  }

  void closeKmsg(const std::string& reason, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    ::close(fd_);
    fd_ = -1;
    kmsg_reason_ = reason;
    kmsg_error_ = message;
    log::error(kComponent, message);
  }

  void onRecord(std::string_view bytes) {
    auto rec = parseKmsgRecord(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    if (!rec) {
      tally_.addMalformed();
      warnLimited("malformed kernel log record: " + rec.error().message);
      return;
    }
    tally_.addRecord(*rec);
  }

  // At most one warning per kWarnEvery (a flood of odd records must not flood the log).
  void warnLimited(const std::string& msg) {
    std::lock_guard<std::mutex> lock(warn_mu_);  // innermost lock; may be taken under mu_
    const auto now = std::chrono::steady_clock::now();
    if (now - last_warn_ < kWarnEvery) return;
    last_warn_ = now;
    log::warn(kComponent, msg);
  }

  // Reads what is available now. Returns false at end of stream (a FIFO without writer or a
  // regular file at its end), true when the kernel says "nothing more yet" (EAGAIN).
  bool drain(std::size_t limit) {
    std::vector<char> buf(kReadBuffer);
    std::size_t total = 0;
    auto emit = [this](std::string_view r) { onRecord(r); };
    while (!stop_.stopped() && total < limit) {
      const ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n > 0) {
        total += static_cast<std::size_t>(n);
        stream_.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)), emit);
        continue;
      }
      if (n == 0) {
        stream_.flush(emit);
        return false;
      }
      const int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN) return true;
      if (e == EPIPE) {
        // The ring overwrote the record we were at; the next read continues at the oldest
        // record still there. The sequence gap on that record measures what was lost.
        std::lock_guard<std::mutex> lock(mu_);
        warnLimited("kernel log overrun: records were overwritten before they were read");
        continue;
      }
      if (e == EINVAL) {
        // A record larger than the buffer (the kernel refuses partial reads): skip to the end.
        {
          std::lock_guard<std::mutex> lock(mu_);
          tally_.addMalformed();
        }
        warnLimited("kernel log record larger than " + std::to_string(kReadBuffer) +
                    " bytes; skipped to the newest record");
        (void)::lseek(fd_, 0, SEEK_END);
        continue;
      }
      closeKmsg("read_error", "reading the kernel log " + kmsg_path_.string() + ": " +
                                  std::strerror(e) + "; reopening in 30 s");
      return true;
    }
    return true;
  }

  void run() {
    ::pthread_setname_np(::pthread_self(), "fs-kmsg");
    auto next_open = std::chrono::steady_clock::now() + kReopenEvery;
    while (!stop_.stopped()) {
      if (fd_ < 0 && std::chrono::steady_clock::now() >= next_open) {
        openKmsg();
        next_open = std::chrono::steady_clock::now() + kReopenEvery;
      }
      pollfd fds[2] = {{stop_.fd(), POLLIN, 0}, {fd_, POLLIN, 0}};
      const nfds_t n = fd_ >= 0 ? 2 : 1;
      const int rc = ::poll(fds, n, 1000);
      if (stop_.stopped()) break;
      if (rc < 0 && errno != EINTR) {
        warnLimited(std::string("poll: ") + std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      if (n == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
        if (!drain(kDrainLimitBytes)) {
          // End of a FIFO or file (tests, replays): wait for more without spinning.
          ::poll(fds, 1, 200);
        }
      }
    }
  }

  // ---- collect() ----

  // Known block devices, NVMe controllers, ATA ports and md arrays start at zero, so that the
  // first error is an increase for rate() and for the health engine's history.
  void seedKnownDevices() {
    std::vector<std::pair<KernelEventClass, std::string>> seeds;
    std::error_code ec;
    for (auto it = fs::directory_iterator(paths_.sys("block"), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (startsWith(n, "loop") || startsWith(n, "ram") || startsWith(n, "zram") ||
          startsWith(n, "nbd") || startsWith(n, "fd"))
        continue;
      seeds.emplace_back(KernelEventClass::kBlockIoError, n);
      if (startsWith(n, "md")) seeds.emplace_back(KernelEventClass::kMdDiskFailure, n);
    }
    for (auto it = fs::directory_iterator(paths_.sys("class/nvme"), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string n = it->path().filename().string();
      seeds.emplace_back(KernelEventClass::kNvmeTimeout, n);
      seeds.emplace_back(KernelEventClass::kNvmeReset, n);
    }
    for (auto it = fs::directory_iterator(paths_.sys("class/ata_port"), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string n = it->path().filename().string();
      seeds.emplace_back(KernelEventClass::kAtaLinkReset, n);
      seeds.emplace_back(KernelEventClass::kAtaException, n);
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [cls, dev] : seeds) tally_.seed(cls, dev);
    for (const char* kind : {"logged", "corrected", "uncorrected", "memory_failure"})
      tally_.seed(KernelEventClass::kMce, "", kind);
    for (const char* cls : {"corrected", "recoverable", "fatal"})
      tally_.seed(KernelEventClass::kFirmwareError, "", cls);
  }

  void collectKmsg(MetricSet& out) {
    if (!read_kmsg_) return;
    std::lock_guard<std::mutex> lock(mu_);
    out.gauge("foreshock_kernel_source_up", kSourceUpHelp,
              {{"source", "kmsg"}, {"reason", kmsg_reason_}}, fd_ >= 0 ? 1 : 0);
    out.counter("foreshock_kernel_log_records_total",
                "Kernel log records read from kmsg since the agent started (all facilities).", {},
                static_cast<double>(tally_.records()));
    out.counter("foreshock_kernel_log_lost_records_total",
                "Kernel log records overwritten in the ring before the agent read them "
                "(sequence gaps after an overrun).",
                {}, static_cast<double>(tally_.lost()));
    out.counter("foreshock_kernel_log_malformed_records_total",
                "Kernel log records that could not be parsed (see the agent's log).", {},
                static_cast<double>(tally_.malformed()));
    for (const auto& s : kClasses) {
      out.declare(s.name, s.help, prometheus::MetricType::Counter);
    }
    for (const auto& [key, value] : tally_.counts()) {
      const auto& [cls, device, detail] = key;
      const auto& s = spec(cls);
      Labels labels;
      if (s.device_label != nullptr) labels.emplace_back(s.device_label, device);
      if (s.detail_label != nullptr) labels.emplace_back(s.detail_label, detail);
      out.counter(s.name, s.help, std::move(labels), static_cast<double>(value));
    }
  }

  void collectEdac(MetricSet& out) {
    const fs::path dir = paths_.sys("devices/system/edac/mc");
    std::error_code ec;
    const bool present = fs::is_directory(dir, ec);
    out.gauge("foreshock_kernel_source_up", kSourceUpHelp,
              {{"source", "edac"}, {"reason", present ? "" : "no_edac_driver"}}, present ? 1 : 0);
    if (!present) return;
    const auto mcs = readEdacControllers(dir);
    for (const auto& mc : mcs) {
      const Labels l{{"controller", mc.name}};
      out.info("foreshock_edac_controller_info",
               "An EDAC memory controller and its driver's name for it; value 1.",
               {{"controller", mc.name}, {"mc_name", mc.mc_name}});
      auto put = [&](const char* name, const char* help, const std::optional<std::uint64_t>& v) {
        if (v) out.counter(name, help, l, static_cast<double>(*v));
      };
      put("foreshock_edac_correctable_errors_total",
          "Correctable memory errors the EDAC memory controller counted (ce_count).", mc.ce);
      put("foreshock_edac_uncorrectable_errors_total",
          "Uncorrectable memory errors the EDAC memory controller counted (ue_count).", mc.ue);
      put("foreshock_edac_correctable_noinfo_errors_total",
          "Correctable errors the controller could not attribute to a DIMM (ce_noinfo_count).",
          mc.ce_noinfo);
      put("foreshock_edac_uncorrectable_noinfo_errors_total",
          "Uncorrectable errors the controller could not attribute to a DIMM (ue_noinfo_count).",
          mc.ue_noinfo);
      for (const auto& d : mc.dimms) {
        const Labels dl{{"controller", mc.name}, {"dimm", d.name}, {"label", d.label}};
        if (d.ce)
          out.counter("foreshock_edac_dimm_correctable_errors_total",
                      "Correctable memory errors on one DIMM (dimm_ce_count; label names the "
                      "slot as the firmware does).",
                      dl, static_cast<double>(*d.ce));
        if (d.ue)
          out.counter("foreshock_edac_dimm_uncorrectable_errors_total",
                      "Uncorrectable memory errors on one DIMM (dimm_ue_count).", dl,
                      static_cast<double>(*d.ue));
      }
    }
  }

  void collectAer(MetricSet& out) {
    const auto devices = readAerDevices(paths_.sys("bus/pci/devices"));
    std::string reason = devices.empty() ? "no_aer_stats" : "";
    for (const auto& d : devices) {
      for (const auto& e : d.errors) {
        reason = "read_error";
        warnLimited("PCIe AER counters: " + e);
      }
      for (const auto& [severity, stats] : d.severities) {
        if (stats.total) {
          out.counter("foreshock_pcie_aer_errors_total",
                      "PCIe AER errors the device reported since boot, by class (the "
                      "kernel's aer_dev_* TOTAL_ERR_* counters).",
                      {{"device", d.address}, {"class", severity}},
                      static_cast<double>(*stats.total));
        }
        for (const auto& [type, n] : stats.types) {
          if (n == 0) continue;  // tens of types per device: only those that happened
          out.counter("foreshock_pcie_aer_error_types_total",
                      "PCIe AER errors by type (RxErr, BadTLP, CmpltTO, ...); only types that "
                      "occurred.",
                      {{"device", d.address}, {"class", severity}, {"type", type}},
                      static_cast<double>(n));
        }
      }
    }
    out.gauge("foreshock_kernel_source_up", kSourceUpHelp,
              {{"source", "pcie_aer"}, {"reason", reason}}, reason.empty() ? 1 : 0);
  }

  void collectMd(MetricSet& out) {
    const auto arrays = readMdArrays(paths_.sys("block"));
    out.gauge("foreshock_md_arrays", "md RAID arrays present.", {},
              static_cast<double>(arrays.size()));
    for (const auto& a : arrays) {
      const Labels l{{"array", a.name}};
      out.info("foreshock_md_info",
               "An md array: RAID level, array_state and sync_action as sysfs says; value 1.",
               {{"array", a.name},
                {"level", a.level},
                {"array_state", a.array_state},
                {"sync_action", a.sync_action}});
      if (a.raid_disks)
        out.gauge("foreshock_md_raid_disks", "Members the array is built for (raid_disks).", l,
                  static_cast<double>(*a.raid_disks));
      if (a.degraded)
        out.gauge("foreshock_md_degraded",
                  "Members the array is missing (md/degraded); above 0 the array runs without "
                  "full redundancy.",
                  l, static_cast<double>(*a.degraded));
      const std::pair<const char*, std::uint64_t> states[] = {{"in_sync", a.members_in_sync},
                                                              {"faulty", a.members_faulty},
                                                              {"spare", a.members_spare},
                                                              {"other", a.members_other}};
      for (const auto& [state, n] : states) {
        out.gauge("foreshock_md_members",
                  "Array members by state (in_sync, faulty, spare, other) from md/dev-*/state.",
                  {{"array", a.name}, {"state", state}}, static_cast<double>(n));
      }
    }
  }

  HostPaths paths_;
  fs::path kmsg_path_;
  bool read_kmsg_, read_existing_, edac_, aer_, md_;
  int fd_ = -1;        // opened and closed by the reader thread (under mu_), read by collect()
  KmsgStream stream_;  // reader thread only
  StopSignal stop_;    // set by the destructor; wakes run()'s poll
  std::mutex mu_;
  KernelEventTally tally_;   // guarded by mu_
  std::string kmsg_reason_;  // guarded by mu_
  std::string kmsg_error_;   // guarded by mu_
  std::mutex warn_mu_;
  std::chrono::steady_clock::time_point last_warn_{};  // guarded by warn_mu_
  std::thread thread_;
};

}  // namespace

CollectorInfo kernelCollectorInfo() {
  CollectorInfo info;
  info.name = "kernel";
  info.description =
      "Hardware errors the kernel reports: its log (/dev/kmsg) and its EDAC, PCIe AER and md "
      "counters.";
  info.enabled_by_default = true;
  info.default_interval = std::chrono::seconds(15);
  info.default_timeout = std::chrono::seconds(5);
  info.options = {
      opt::boolean("kmsg", true,
                   "Read the kernel log (<devfs>/kmsg) as a stream and count the hardware errors "
                   "it reports. Needs CAP_SYSLOG when kernel.dmesg_restrict=1. A FIFO or regular "
                   "file at that path is read the same way (tests, replays)."),
      opt::boolean("read_existing", false,
                   "Also count the records already in the kernel's ring buffer at start (since "
                   "boot, as far as the ring reaches). Off by default: a restarted agent would "
                   "count them again. Useful for a one-shot foreshock check."),
      opt::integer("max_devices", 64, 1, 4096,
                   "Distinct devices per error class kept as labels; further devices count "
                   "under device=\"_other\"."),
      opt::boolean("edac", true,
                   "Export EDAC memory-controller error counters "
                   "(<sysfs>/devices/system/edac/mc)."),
      opt::boolean("pcie_aer", true,
                   "Export PCIe AER error counters (<sysfs>/bus/pci/devices/*/aer_dev_*)."),
      opt::boolean("md", true, "Export md RAID array state (<sysfs>/block/md*/md)."),
  };
  info.factory = [](const CollectorContext& ctx) -> Result<std::unique_ptr<Collector>> {
    return std::unique_ptr<Collector>(std::make_unique<KernelCollector>(ctx));
  };
  return info;
}

}  // namespace foreshock
