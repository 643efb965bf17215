#include "collectors/smart/smart_collector.h"

#include "collectors/smart/live_source.h"
#include "collectors/smart/replay_source.h"
#include "collectors/smart/smart_engine.h"
#include "core/name_filter.h"

namespace foreshock {

using namespace std::chrono_literals;

namespace {

class SmartCollector final : public Collector {
 public:
  SmartCollector(std::shared_ptr<smart::DeviceSource> source, smart::EngineOptions options,
                 const Clock& clock)
      : engine_(std::move(source), std::move(options), clock) {}

  Status collect(MetricSet& out) override {
    engine_.collect(out);
    return Status::Ok();
  }

 private:
  smart::SmartEngine engine_;
};

smart::PowerCheckMode modeFrom(const std::string& s) {
  if (s == "never") return smart::PowerCheckMode::kNever;
  if (s == "sleep") return smart::PowerCheckMode::kSleep;
  return smart::PowerCheckMode::kStandby;
}

}  // namespace

CollectorInfo smartCollectorInfo() {
  CollectorInfo info;
  info.name = "smart";
  info.description =
      "Disk health: SMART for ATA (libatasmart), NVMe (admin ioctl) and SCSI/RAID (smartctl "
      "--json); never wakes a sleeping disk.";
  info.enabled_by_default = true;
  info.default_interval = 5min;
  info.default_timeout = 2min;
  info.options = {
      opt::string("replay_dir", "",
                  "Read saved SMART data from this folder instead of devices: skdump --save "
                  "blobs, smartctl --json files, raw NVMe log pages (*.nvme). Empty: live disks."),
      opt::regex("include", ".*",
                 "Only disks whose device name (sda, nvme0n1, a configured device label) fully "
                 "matches this regex (e.g. \"sd.*\"; empty: none)."),
      opt::regex("exclude", "",
                 "Skip disks whose device name fully matches this regex (empty: none)."),
      opt::enumeration("power_check", "standby", {"never", "sleep", "standby"},
                       "Skip the SMART read of a disk in this power mode or deeper, like smartd "
                       "-n: never (always read), sleep, standby."),
      opt::integer("max_standby_skips", 0, 0, 100000,
                   "Force a read after this many skips in a row (0: never force)."),
      opt::integer("parallel_reads", 4, 1, 64, "Disks read at the same time."),
      opt::duration("read_timeout", 60s, 1s, 1h,
                    "Deadline of all reads of one cycle; a disk not done by then is reported "
                    "up 0 with reason timeout and not read again until its read returns. Must "
                    "be shorter than timeout."),
      opt::duration("gone_retention", 24h, 1min, 24h * 365,
                    "How long a disk that disappeared is still reported (up 0, reason gone)."),
      opt::string("smartctl_path", "smartctl", "The smartctl program (PATH lookup without '/')."),
      opt::duration("smartctl_timeout", 30s, 1s, 10min,
                    "Hard timeout of one smartctl run; the process is killed when it passes."),
      opt::duration("nvme_timeout", 10s, 1s, 10min, "Timeout of one NVMe admin command."),
      opt::objectList(
          "devices",
          {
              opt::required(opt::string("device", "",
                                        "Device label: a kernel name (sda) to "
                                        "override, or a new name to add a disk.")),
              opt::enumeration("backend", "auto", {"auto", "ata", "nvme", "smartctl"},
                               "Reader for this disk."),
              opt::string("smartctl_type", "", "smartctl -d value, e.g. sat, megaraid,0."),
              opt::string("node", "",
                          "Device node, relative to --path.devfs or absolute (default: device)."),
          },
          "Disks to override or add (RAID passthrough, USB bridges needing a -d type)."),
  };
  info.factory = [](const CollectorContext& ctx) -> Result<std::unique_ptr<Collector>> {
    const ConfigSection& c = ctx.config;
    smart::EngineOptions eo;
    eo.component = ctx.name;
    eo.power_check = modeFrom(c.getString("power_check"));
    eo.max_skips = static_cast<int>(c.getInt("max_standby_skips"));
    eo.parallel = static_cast<std::size_t>(c.getInt("parallel_reads"));
    eo.read_timeout = c.getDuration("read_timeout");
    eo.gone_retention = c.getDuration("gone_retention");
    eo.include = c.getString("include");
    eo.exclude = c.getString("exclude");
    if (auto f = NameFilter::fromConfig(c); !f) return f.error();
    if (c.has("timeout") && eo.read_timeout >= c.getDuration("timeout")) {
      return makeError(c.path + ".read_timeout (" + formatDuration(eo.read_timeout) +
                       ") must be shorter than " + c.path + ".timeout (" +
                       formatDuration(c.getDuration("timeout")) + ")");
    }
    std::shared_ptr<smart::DeviceSource> source;
    const std::string& replay = c.getString("replay_dir");
    if (!replay.empty()) {
      source = smart::makeReplaySource(replay, ctx.name);
    } else {
      smart::LiveOptions lo;
      lo.smartctl_path = c.getString("smartctl_path");
      lo.smartctl_timeout = c.getDuration("smartctl_timeout");
      lo.nvme_timeout = c.getDuration("nvme_timeout");
      for (const auto& d : c.getObjects("devices")) {
        smart::DeviceOverride o;
        o.device = d.getString("device");
        o.backend = d.getString("backend");
        o.smartctl_type = d.getString("smartctl_type");
        o.node = d.getString("node");
        lo.devices.push_back(std::move(o));
      }
      source = smart::makeLiveSource(ctx.paths, std::move(lo));
    }
    return std::unique_ptr<Collector>(
        std::make_unique<SmartCollector>(std::move(source), std::move(eo), *ctx.clock));
  };
  return info;
}

}  // namespace foreshock
