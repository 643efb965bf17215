#include "collectors/sensors/sensors_collector.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <system_error>

#include "collectors/sensors/bounded_executor.h"
#include "collectors/sensors/libsensors.h"
#include "collectors/sensors/parsers.h"
#include "collectors/sensors/sensor_model.h"
#include "collectors/sensors/thermal.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/name_filter.h"

namespace foreshock {

namespace {

using sensors::BoundedExecutor;
using sensors::ReadFailure;

constexpr int kMaxConfigProblemSeries = 20;

// Paths of attributes whose read is blocked in the kernel by an abandoned worker. The worker
// removes its path when the read finally returns. Thread-safety: all members under mu.
struct BlockedSet {
  std::mutex mu;
  std::set<std::string> paths;
  bool contains(const std::string& p) {
    std::lock_guard<std::mutex> l(mu);
    return paths.count(p) != 0;
  }
  void insert(const std::string& p) {
    std::lock_guard<std::mutex> l(mu);
    paths.insert(p);
  }
  void erase(const std::string& p) {
    std::lock_guard<std::mutex> l(mu);
    paths.erase(p);
  }
};

// Shared between the collector and one feature/zone job; it outlives an abandoned job.
// Thread-safety: all members under mu.
struct JobState {
  std::mutex mu;
  std::string current;  // path being read
  bool abandoned = false;
  std::optional<std::string> label;
  std::vector<sensors::SubfeatureReading> results;
  sensors::ThermalZone zone;
  sensors::CoolingDevice cooling;
};

// Thread-safety: collect() runs on one scheduler thread at a time (the Collector contract);
// the only state shared with worker threads is the BlockedSet and each job's JobState, both
// behind their own mutexes, and the process-wide LibSensors, which locks itself.
class SensorsCollector final : public Collector {
 public:
  SensorsCollector(const CollectorContext& ctx, NameFilter chips, NameFilter sensors)
      : name_(ctx.name),
        paths_(ctx.paths),
        clock_(ctx.clock),
        config_file_(ctx.config.getStringOr("config_file", "")),
        chips_(std::move(chips)),
        sensors_(std::move(sensors)),
        drivetemp_(ctx.config.getBool("drivetemp")),
        thermal_(ctx.config.getBool("thermal_zones")),
        read_timeout_(ctx.config.getDuration("read_timeout")),
        blocked_(std::make_shared<BlockedSet>()) {
    Duration timeout =
        ctx.config.has("timeout") ? ctx.config.getDuration("timeout") : std::chrono::seconds(10);
    // Leave a fifth of the deadline for the rest of the cycle: reads past the budget are
    // skipped (and reported) rather than letting the whole cycle overrun.
    budget_ = timeout * 4 / 5;
  }

  Status collect(MetricSet& out) override {
    const auto start = clock_->monotonic();
    auto over_budget = [&] { return clock_->monotonic() - start > budget_; };

    sensors::ConfBundle bundle = loadConfig();
    auto loaded = sensors::LibSensors::instance().load(bundle, first_cycle_, read_timeout_);
    first_cycle_ = false;
    std::vector<std::string> problems = read_problems_;
    problems.insert(problems.end(), loaded.problems.begin(), loaded.problems.end());
    reportProblems(problems, loaded.init_error);
    out.gauge("foreshock_sensor_config_errors",
              "Errors found in the sensors.conf files at the last libsensors initialization "
              "(details in foreshock_sensor_config_error_info and the log).",
              {}, static_cast<double>(problems.size()));
    for (std::size_t i = 0; i < problems.size() && i < kMaxConfigProblemSeries; ++i) {
      out.info("foreshock_sensor_config_error_info", "One sensors.conf error: FILE:LINE: message.",
               {{"error", problems[i]}});
    }

    sensors::declareSensorFamilies(out);
    auto inv = sensors::LibSensors::instance().inventory();
    std::size_t chips = 0;
    std::set<std::string> present;
    for (std::size_t ci = 0; ci < inv->chips.size(); ++ci) {
      const auto& chip = inv->chips[ci];
      if (!chipWanted(chip)) continue;
      ++chips;
      out.info("foreshock_sensor_chip_info",
               "A hwmon chip: its stable name (libsensors' chip name, from driver, bus and "
               "address), driver and adapter.",
               {{"chip", chip.name}, {"driver", chip.driver}, {"adapter", chip.adapter}});
      for (std::size_t fi = 0; fi < chip.features.size(); ++fi) {
        const auto& feature = chip.features[fi];
        if (sensors_.excluded(feature.name)) continue;  // excluded by name: never read
        sensors::SensorReading reading;
        reading.chip = chip.name;
        reading.sensor = feature.name;
        reading.label = feature.name;
        reading.feature_type = feature.type;
        readFeature(inv, ci, fi, reading, over_budget());
        if (!sensorWanted(feature.name, reading.label)) continue;
        const std::string key = chip.name + "/" + feature.name;
        present.insert(key);
        auto health = sensors::judgeSensor(reading);
        if (health.up) last_seen_[key] = clock_->wallSeconds();
        logTransition(key, health);
        auto seen = last_seen_.find(key);
        sensors::emitSensor(
            reading, health,
            seen == last_seen_.end() ? std::nullopt : std::optional<double>(seen->second), out);
      }
    }
    std::erase_if(last_seen_, [&](const auto& kv) { return present.count(kv.first) == 0; });
    std::erase_if(last_reason_, [&](const auto& kv) { return present.count(kv.first) == 0; });
    out.gauge("foreshock_sensor_chips", "hwmon chips detected by libsensors and not filtered out.",
              {}, static_cast<double>(chips));
    if (thermal_) collectThermal(out, over_budget);
    out.gauge("foreshock_sensor_blocked_reads",
              "Sensor reads abandoned after read_timeout that are still blocked in the kernel "
              "(each holds one thread; at most 8).",
              {}, static_cast<double>(executor_.stuckWorkers()));
    return Status::Ok();
  }

 private:
  bool chipWanted(const sensors::ChipInfo& chip) const {
    // drivetemp reads the disk's temperature with SMART/SCT commands; that I/O can reset the
    // drive's spin-down (standby) timer, so polling it keeps idle disks spinning.
    if (chip.driver == "drivetemp" && !drivetemp_) return false;
    return chips_.accepts(chip.name);
  }

  bool sensorWanted(const std::string& name, const std::string& label) const {
    if (sensors_.excluded(name) || sensors_.excluded(label)) return false;
    return sensors_.included(name) || sensors_.included(label);
  }

  sensors::ConfBundle loadConfig() {
    read_problems_.clear();
    std::vector<sensors::ConfFile> files;
    auto add = [&](const std::filesystem::path& p) {
      // /dev/null is the usual way to say "no configuration" (as with sensors -c /dev/null); any
      // other device, FIFO or socket is refused by readFileCapped, never read.
      if (p == "/dev/null") {
        files.push_back({p.string(), ""});
        return;
      }
      auto text = readFileCapped(p, 1 << 20);
      if (text) {
        files.push_back({p.string(), std::move(*text)});
      } else {
        read_problems_.push_back(p.string() + ": cannot read: " + text.error().message);
      }
    };
    if (!config_file_.empty()) {
      add(config_file_);
      return sensors::bundleConfig(files);
    }
    std::error_code ec;
    // The same files, in the same order, as libsensors' own default: sensors3.conf (or the
    // older sensors.conf), then every regular, non-hidden file of sensors.d in name order.
    auto main = paths_.root("etc/sensors3.conf");
    if (!std::filesystem::exists(main, ec)) main = paths_.root("etc/sensors.conf");
    if (std::filesystem::exists(main, ec)) add(main);
    std::vector<std::filesystem::path> extra;
    for (auto it = std::filesystem::directory_iterator(paths_.root("etc/sensors.d"), ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      const auto name = it->path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      std::error_code fec;
      if (!std::filesystem::is_regular_file(it->path(), fec)) continue;
      extra.push_back(it->path());
    }
    std::sort(extra.begin(), extra.end());
    for (const auto& p : extra) add(p);
    return sensors::bundleConfig(files);
  }

  void reportProblems(const std::vector<std::string>& problems, const std::string& init_error) {
    // Logged when they change, not every cycle.
    if (problems != logged_problems_) {
      for (const auto& p : problems) log::error(name_, "sensors.conf: " + p);
      if (problems.empty() && !logged_problems_.empty())
        log::info(name_, "sensors.conf: no more errors");
      logged_problems_ = problems;
    }
    if (init_error != logged_init_error_) {
      if (!init_error.empty()) {
        log::warn(name_, init_error + "; hwmon chips are not read, thermal zones still are");
      }
      logged_init_error_ = init_error;
    }
  }

  // Reads the label and every readable subfeature of one feature on the bounded worker.
  void readFeature(const std::shared_ptr<const sensors::Inventory>& inv, std::size_t ci,
                   std::size_t fi, sensors::SensorReading& reading, bool skip_all) {
    const auto& feature = inv->chips[ci].features[fi];
    auto mark_rest = [&](std::size_t from, ReadFailure why, const std::string& text) {
      for (std::size_t i = from; i < feature.subfeatures.size(); ++i) {
        const auto& sf = feature.subfeatures[i];
        if (!sf.readable) continue;
        sensors::SubfeatureReading r;
        r.attribute = sf.name;
        r.type = sf.type;
        r.failure = why;
        r.error = text;
        reading.subfeatures.push_back(std::move(r));
      }
    };
    if (skip_all) {
      mark_rest(0, ReadFailure::kSkipped, "not read: the cycle's time budget is used up");
      return;
    }
    auto st = std::make_shared<JobState>();
    auto blocked = blocked_;
    auto job = [st, blocked, inv, ci, fi]() {
      auto& lib = sensors::LibSensors::instance();
      const auto& chip = inv->chips[ci];
      const auto& f = chip.features[fi];
      auto begin = [&](const std::string& path) {
        std::lock_guard<std::mutex> l(st->mu);
        if (st->abandoned) return false;
        st->current = path;
        return true;
      };
      // Returns false when the collector stopped waiting meanwhile: then this worker is the
      // one that blocked, so it clears its mark and stops.
      auto finish = [&]() {
        std::lock_guard<std::mutex> l(st->mu);
        if (!st->abandoned) return true;
        blocked->erase(st->current);
        return false;
      };
      const std::string label_path = chip.path + "/" + f.name + "_label";
      if (!begin(label_path)) return;
      if (!blocked->contains(label_path)) {
        // The label file is read first without a lock, for the same reason as probe().
        (void)readFileBounded(label_path, 4096);
        if (!finish()) return;
        auto label = lib.label(*inv, chip, f);
        if (!finish()) return;
        std::lock_guard<std::mutex> l(st->mu);
        if (label) st->label = *label;
      }
      for (const auto& sf : f.subfeatures) {
        if (!sf.readable) continue;
        const std::string path = chip.path + "/" + sf.name;
        if (!begin(path)) return;
        sensors::SubfeatureReading r;
        if (blocked->contains(path)) {
          r.attribute = sf.name;
          r.type = sf.type;
          r.failure = ReadFailure::kBlocked;
          r.error = path + ": an earlier read is still blocked in the kernel";
        } else {
          r = sensors::LibSensors::probe(path, sf);
          if (!finish()) return;
          if (r.failure == ReadFailure::kNone) r = lib.read(*inv, chip, sf);
        }
        std::lock_guard<std::mutex> l(st->mu);
        st->results.push_back(std::move(r));
      }
    };
    auto outcome = executor_.run(job, read_timeout_);
    std::lock_guard<std::mutex> l(st->mu);
    if (st->label) reading.label = *st->label;
    reading.subfeatures = st->results;
    if (outcome == BoundedExecutor::Outcome::kDone) return;
    if (outcome == BoundedExecutor::Outcome::kRefused) {
      mark_rest(0, ReadFailure::kSkipped,
                "not read: too many earlier reads are still blocked in the kernel");
      return;
    }
    st->abandoned = true;
    blocked_->insert(st->current);
    // The attribute the worker is stuck on, then everything after it.
    std::size_t next = 0;
    for (std::size_t i = 0; i < feature.subfeatures.size(); ++i) {
      const auto& sf = feature.subfeatures[i];
      if (!sf.readable) continue;
      bool done = std::any_of(reading.subfeatures.begin(), reading.subfeatures.end(),
                              [&](const auto& r) { return r.attribute == sf.name; });
      if (done) continue;
      next = i;
      break;
    }
    const std::string timeout_text = st->current + ": read did not return within " +
                                     formatDuration(read_timeout_) + "; abandoned";
    if (st->current == inv->chips[ci].path + "/" + feature.name + "_label") {
      mark_rest(0, ReadFailure::kSkipped,
                "not read: the label read blocked (" + timeout_text + ")");
      return;
    }
    if (next < feature.subfeatures.size()) {
      sensors::SubfeatureReading r;
      r.attribute = feature.subfeatures[next].name;
      r.type = feature.subfeatures[next].type;
      r.failure = ReadFailure::kTimeout;
      r.error = timeout_text;
      reading.subfeatures.push_back(std::move(r));
      mark_rest(next + 1, ReadFailure::kSkipped,
                "not read this cycle: " + feature.subfeatures[next].name + " blocked before it");
    }
  }

  void logTransition(const std::string& key, const sensors::SensorHealth& h) {
    std::string reason(reasonName(h.reason));
    auto it = last_reason_.find(key);
    std::string before = it == last_reason_.end() ? "" : it->second;
    if (reason != before) {
      if (!h.up) {
        log::warn(name_, key + " is down (" + reason + "): " + h.detail);
      } else if (it != last_reason_.end()) {
        log::info(name_, key + " recovered");
      }
    }
    last_reason_[key] = reason;
  }

  template <class Fn>
  void collectThermal(MetricSet& out, const Fn& over_budget) {
    const auto dir = paths_.sys("class/thermal");
    for (const auto& zone : sensors::listThermalEntries(dir, "thermal_zone")) {
      sensors::ThermalZone z;
      z.zone = zone;
      const std::string path = (dir / zone).string();
      if (over_budget()) {
        z.failure = ReadFailure::kSkipped;
      } else if (blocked_->contains(path)) {
        z.failure = ReadFailure::kBlocked;
      } else {
        auto st = std::make_shared<JobState>();
        st->current = path;
        auto blocked = blocked_;
        auto outcome = executor_.run(
            [st, blocked, path]() {
              auto result = sensors::readThermalZone(path);
              std::lock_guard<std::mutex> l(st->mu);
              if (st->abandoned) {
                blocked->erase(path);
                return;
              }
              st->zone = std::move(result);
            },
            read_timeout_);
        std::lock_guard<std::mutex> l(st->mu);
        if (outcome == BoundedExecutor::Outcome::kDone) {
          z = st->zone;
        } else if (outcome == BoundedExecutor::Outcome::kTimedOut) {
          st->abandoned = true;
          blocked_->insert(path);
          z.failure = ReadFailure::kTimeout;
        } else {
          z.failure = ReadFailure::kSkipped;
        }
      }
      if (z.type.empty()) {
        z.type = zone_type_[zone];  // keep the series' labels when the read failed
      } else {
        zone_type_[zone] = z.type;
      }
      if (!z.celsius) {
        auto& before = zone_reason_[zone];
        std::string reason(sensors::reasonName(z.failure));
        if (reason != before)
          log::warn(name_, "thermal zone " + zone + " is down (" + reason + "): " + z.error);
        before = reason;
      } else if (auto it = zone_reason_.find(zone);
                 it != zone_reason_.end() && !it->second.empty()) {
        log::info(name_, "thermal zone " + zone + " recovered");
        it->second.clear();
      }
      sensors::emitThermalZone(z, out);
    }
    for (const auto& dev : sensors::listThermalEntries(dir, "cooling_device")) {
      if (over_budget()) break;
      const std::string path = (dir / dev).string();
      if (blocked_->contains(path)) continue;
      auto st = std::make_shared<JobState>();
      auto blocked = blocked_;
      auto outcome = executor_.run(
          [st, blocked, path]() {
            auto result = sensors::readCoolingDevice(path);
            std::lock_guard<std::mutex> l(st->mu);
            if (st->abandoned) {
              blocked->erase(path);
              return;
            }
            st->cooling = std::move(result);
          },
          read_timeout_);
      std::lock_guard<std::mutex> l(st->mu);
      if (outcome == BoundedExecutor::Outcome::kTimedOut) {
        st->abandoned = true;
        blocked_->insert(path);
      }
      if (outcome == BoundedExecutor::Outcome::kDone) sensors::emitCoolingDevice(st->cooling, out);
    }
  }

  std::string name_;
  HostPaths paths_;
  const Clock* clock_;
  std::string config_file_;
  NameFilter chips_;    // chip_include / chip_exclude
  NameFilter sensors_;  // sensor_include / sensor_exclude, by name or label
  bool drivetemp_;
  bool thermal_;
  Duration read_timeout_;
  Duration budget_{};
  bool first_cycle_ = true;
  std::shared_ptr<BlockedSet> blocked_;
  BoundedExecutor executor_;
  std::vector<std::string> read_problems_;
  std::vector<std::string> logged_problems_;
  std::string logged_init_error_;
  std::map<std::string, double> last_seen_;
  std::map<std::string, std::string> last_reason_;
  std::map<std::string, std::string> zone_reason_;
  std::map<std::string, std::string> zone_type_;
};

}  // namespace

CollectorInfo sensorsCollectorInfo() {
  using namespace std::chrono_literals;
  CollectorInfo info;
  info.name = "sensors";
  info.description =
      "hwmon temperatures, fans, voltages, power (libsensors, sensors.conf), thermal zones.";
  info.enabled_by_default = true;
  info.default_interval = 15s;
  info.default_timeout = 10s;
  info.options = {
      opt::string("config_file", "",
                  "sensors.conf file to use instead of the system configuration (empty: "
                  "<rootfs>/etc/sensors3.conf, or sensors.conf, plus <rootfs>/etc/sensors.d/*, as "
                  "libsensors itself does; /dev/null: none). At most 1 MiB. Its label, compute and "
                  "ignore statements apply; errors are logged with file and line and counted in "
                  "foreshock_sensor_config_errors. A "
                  "changed file is picked up at the next cycle."),
      opt::regex("chip_include", ".*",
                 "Only chips whose name (e.g. coretemp-isa-0000) fully matches this regex."),
      opt::regex("chip_exclude", "",
                 "Skip chips whose name fully matches this regex (empty: none)."),
      opt::regex("sensor_include", ".*",
                 "Only sensors whose name (temp1) or label (Package id 0) fully matches this "
                 "regex (the label is known once the sensor was read)."),
      opt::regex("sensor_exclude", "",
                 "Skip sensors whose name or label fully matches this regex (empty: none). "
                 "Excluding by name also avoids reading the sensor."),
      opt::boolean("drivetemp", false,
                   "Read drivetemp hwmon chips (disk temperatures). Off by default: reading them "
                   "issues ATA commands that can reset the disk's spin-down timer and keep idle "
                   "disks spinning; the smart collector reports disk temperatures anyway."),
      opt::boolean("thermal_zones", true,
                   "Also export <sysfs>/class/thermal zones (temperature, trip points) and "
                   "cooling devices (current and maximum state)."),
      opt::duration("read_timeout", 1s, 10ms, 30s,
                    "Longest wait for one sensor read. A read that takes longer (a driver blocked "
                    "on a hung bus) marks that sensor down with reason timeout; its thread is "
                    "abandoned and the attribute is skipped (reason blocked) until the read "
                    "returns. At most 8 reads may be blocked at once."),
  };
  info.factory = [](const CollectorContext& ctx) -> Result<std::unique_ptr<Collector>> {
    auto chips = NameFilter::fromConfig(ctx.config, "chip_include", "chip_exclude");
    if (!chips) return chips.error();
    auto sensors = NameFilter::fromConfig(ctx.config, "sensor_include", "sensor_exclude");
    if (!sensors) return sensors.error();
    return std::unique_ptr<Collector>(
        std::make_unique<SensorsCollector>(ctx, std::move(*chips), std::move(*sensors)));
  };
  return info;
}

}  // namespace foreshock
