#include "collectors/smart/smart_engine.h"

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "collectors/smart/nvme_log.h"
#include "core/log.h"
#include "core/options.h"

namespace foreshock::smart {

bool mustSkip(PowerCheckMode mode, PowerState state) {
  switch (mode) {
    case PowerCheckMode::kNever: return false;
    case PowerCheckMode::kSleep: return state == PowerState::kSleep;
    case PowerCheckMode::kStandby:
      return state == PowerState::kSleep || state == PowerState::kStandby;
  }
  return false;
}

// One cycle's reads, shared by the collector thread and the workers. A worker that hangs in a
// device call keeps the batch (and the source) alive after the collector has moved on.
struct SmartEngine::Batch {
  struct Job {
    DiskIdentity id;
    PowerCheckMode mode = PowerCheckMode::kStandby;
    bool forced = false;  // max_skips reached: read even if asleep
    bool started = false;
    bool done = false;
    ReadOutcome outcome;
  };
  std::shared_ptr<DeviceSource> source;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Job> jobs;
  std::size_t next = 0;
  std::size_t finished = 0;
  bool cancelled = false;
};

namespace {

ReadOutcome runJob(DeviceSource& src, const DiskIdentity& id, PowerCheckMode mode, bool forced) {
  PowerState checked = PowerState::kUnknown;
  if (mode != PowerCheckMode::kNever && !forced) {
    // A runtime-suspended device is resumed by ANY command, even CHECK POWER MODE, so the
    // sysfs state alone decides: treat it as the deepest sleep.
    if (id.runtime_suspended.value_or(false)) {
      ReadOutcome o;
      o.kind = ReadOutcome::Kind::kSkipped;
      o.power = PowerState::kSleep;
      return o;
    }
    checked = src.checkPower(id);
    if (mustSkip(mode, checked)) {
      ReadOutcome o;
      o.kind = ReadOutcome::Kind::kSkipped;
      o.power = checked;
      return o;
    }
  }
  ReadOutcome o = src.readSmart(id, forced ? PowerCheckMode::kNever : mode);
  if (o.power == PowerState::kUnknown) o.power = checked;
  return o;
}

void worker(std::shared_ptr<SmartEngine::Batch> b);

}  // namespace

SmartEngine::SmartEngine(std::shared_ptr<DeviceSource> source, EngineOptions options,
                         const Clock& clock)
    : source_(std::move(source)),
      options_(std::move(options)),
      clock_(clock),
      devices_(options_.include, options_.exclude) {
  if (options_.parallel == 0) options_.parallel = 1;
}

SmartEngine::~SmartEngine() = default;

void SmartEngine::logTransition(DiskState& st, const std::string& message,
                                const std::string& capability) {
  if (st.reason == st.logged_reason) return;
  if (st.reason.empty()) {
    log::info(options_.component, st.id.device + ": SMART readable again");
  } else {
    std::string line = st.id.device + ": " + message;
    if (!capability.empty()) line += " (missing capability " + capability + ")";
    log::warn(options_.component, line);
  }
  st.logged_reason = st.reason;
}

namespace {
void worker(std::shared_ptr<SmartEngine::Batch> b) {
  for (;;) {
    std::size_t i;
    DiskIdentity id;
    PowerCheckMode mode;
    bool forced;
    {
      std::lock_guard<std::mutex> l(b->mu);
      if (b->cancelled || b->next >= b->jobs.size()) return;
      i = b->next++;
      b->jobs[i].started = true;
      id = b->jobs[i].id;
      mode = b->jobs[i].mode;
      forced = b->jobs[i].forced;
    }
    ReadOutcome o;
    try {
      o = runJob(*b->source, id, mode, forced);
    } catch (const std::exception& e) {
      o.kind = ReadOutcome::Kind::kFailed;
      o.reason = "internal_error";
      o.message = std::string("read failed: ") + e.what();
    }
    {
      std::lock_guard<std::mutex> l(b->mu);
      b->jobs[i].outcome = std::move(o);
      b->jobs[i].done = true;
      ++b->finished;
    }
    b->cv.notify_all();
  }
}
}  // namespace

void SmartEngine::collect(MetricSet& out) {
  const double now = clock_.wallSeconds();
  std::vector<DiskIdentity> found = source_->discover();
  std::set<std::string> present;
  for (auto& id : found) {
    if (!devices_.accepts(id.device)) continue;
    present.insert(id.device);
    auto [it, inserted] = disks_.try_emplace(id.device);
    DiskState& st = it->second;
    if (inserted || !st.present) st.first_seen = now;
    // A different serial under the same name is a different disk: forget the old readings.
    if (st.last && !id.serial.empty() && !st.last->serial.empty() && id.serial != st.last->serial) {
      st.last.reset();
      st.last_read = 0;
      st.consecutive_skips = 0;
    }
    st.id = std::move(id);
    st.present = true;
    st.last_seen = now;
  }
  for (auto it = disks_.begin(); it != disks_.end();) {
    DiskState& st = it->second;
    if (present.count(it->first) == 0) {
      if (st.present) {
        log::warn(options_.component, it->first + ": disk is gone");
        st.present = false;
        st.up = false;
        st.reason = "gone";
        st.logged_reason = "gone";
      }
      if (now - st.last_seen > std::chrono::duration<double>(options_.gone_retention).count()) {
        it = disks_.erase(it);
        continue;
      }
    }
    ++it;
  }

  // Late results of reads that overran an earlier cycle; disks still hung are not read again.
  auto batch = std::make_shared<Batch>();
  batch->source = source_;
  std::vector<std::string> job_disk;
  for (auto& [name, st] : disks_) {
    if (!st.present) continue;
    if (st.inflight) {
      std::unique_lock<std::mutex> l(st.inflight->mu);
      auto& job = st.inflight->jobs[st.inflight_index];
      if (!job.done) {
        st.up = false;
        st.reason = "read_hung";
        l.unlock();
        logTransition(st, "the SMART read started in an earlier cycle has not returned", "");
        continue;
      }
      l.unlock();
      st.inflight.reset();
    }
    Batch::Job job;
    job.id = st.id;
    job.mode = options_.power_check;
    job.forced = options_.max_skips > 0 && st.consecutive_skips >= options_.max_skips;
    batch->jobs.push_back(std::move(job));
    job_disk.push_back(name);
  }

  std::vector<std::thread> threads;
  const std::size_t n = std::min(options_.parallel, batch->jobs.size());
  for (std::size_t i = 0; i < n; ++i) threads.emplace_back(worker, batch);
  bool all_done;
  {
    std::unique_lock<std::mutex> l(batch->mu);
    all_done = batch->cv.wait_for(l, options_.read_timeout,
                                  [&] { return batch->finished == batch->jobs.size(); });
    if (!all_done) batch->cancelled = true;
  }
  for (auto& t : threads) {
    if (all_done) {
      t.join();
    } else {
      t.detach();  // a worker may be stuck in a device call; it owns a reference to the batch
    }
  }

  for (std::size_t i = 0; i < batch->jobs.size(); ++i) {
    DiskState& st = disks_[job_disk[i]];
    std::unique_lock<std::mutex> l(batch->mu);
    Batch::Job& job = batch->jobs[i];
    if (!job.done) {
      if (job.started) {
        st.inflight = batch;
        st.inflight_index = i;
        st.up = false;
        st.reason = "timeout";
        ++st.failures_total;
        l.unlock();
        logTransition(
            st, "SMART read did not finish within " + formatDuration(options_.read_timeout), "");
      }
      // Not started before the deadline: no new data this cycle, state unchanged.
      continue;
    }
    ReadOutcome o = std::move(job.outcome);
    l.unlock();
    if (o.power != PowerState::kUnknown) st.power = o.power;
    switch (o.kind) {
      case ReadOutcome::Kind::kReading:
        st.last = std::move(o.reading);
        st.last_read = clock_.wallSeconds();
        st.consecutive_skips = 0;
        st.up = true;
        st.reason.clear();
        break;
      case ReadOutcome::Kind::kSkipped:
        ++st.consecutive_skips;
        ++st.skips_total;
        st.up = true;
        st.reason.clear();
        break;
      case ReadOutcome::Kind::kFailed:
        ++st.failures_total;
        st.up = false;
        st.reason = o.reason.empty() ? "read_failed" : o.reason;
        break;
    }
    logTransition(st, o.message, o.missing_capability);
  }
  emit(out);
}

namespace {

constexpr const char* kOverallStates[] = {
    "good",      "bad_attribute_in_the_past", "bad_sector", "bad_attribute_now", "bad_sector_many",
    "bad_status"};

Labels with(const Labels& base, std::initializer_list<std::pair<std::string, std::string>> extra) {
  Labels l = base;
  for (const auto& e : extra) l.push_back(e);
  return l;
}

void emitReading(MetricSet& out, const Labels& L, const SmartReading& r) {
  auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  if (r.healthy) {
    out.gauge("foreshock_disk_smart_healthy",
              "1 when the disk's own SMART overall self-assessment passed, 0 when it failed.", L,
              *r.healthy ? 1 : 0);
  }
  if (!r.overall.empty()) {
    for (const char* s : kOverallStates) {
      out.gauge("foreshock_disk_smart_status",
                "libatasmart's overall verdict for ATA disks: 1 for the current status.",
                with(L, {{"status", s}}), r.overall == s ? 1 : 0);
    }
  }
  if (r.temperature_celsius) {
    out.gauge("foreshock_disk_temperature_celsius", "Current drive temperature.", L,
              *r.temperature_celsius);
  }
  if (r.temperature_trip_celsius) {
    out.gauge("foreshock_disk_temperature_trip_celsius",
              "Drive trip temperature (SCSI) above which the drive reports a failure.", L,
              *r.temperature_trip_celsius);
  }
  if (r.power_on_seconds) {
    out.counter("foreshock_disk_power_on_seconds_total", "Power-on time reported by the disk.", L,
                *r.power_on_seconds);
  }
  if (r.power_cycles) {
    out.counter("foreshock_disk_power_cycles_total", "Power cycles reported by the disk.", L,
                d(*r.power_cycles));
  }
  if (r.bad_sectors) {
    out.gauge("foreshock_disk_bad_sectors",
              "libatasmart's bad-sector count (reallocated plus pending) for ATA disks.", L,
              d(*r.bad_sectors));
  }
  if (r.reallocated_sectors) {
    out.gauge("foreshock_disk_reallocated_sectors", "ATA attribute 5 raw: reallocated sectors.", L,
              d(*r.reallocated_sectors));
  }
  if (r.pending_sectors) {
    out.gauge("foreshock_disk_pending_sectors",
              "ATA attribute 197 raw: sectors pending reallocation.", L, d(*r.pending_sectors));
  }
  if (r.offline_uncorrectable) {
    out.gauge("foreshock_disk_offline_uncorrectable_sectors",
              "ATA attribute 198 raw: sectors uncorrectable in offline scans.", L,
              d(*r.offline_uncorrectable));
  }
  if (r.reported_uncorrectable) {
    out.gauge("foreshock_disk_reported_uncorrectable_errors",
              "ATA attribute 187 raw: errors that could not be recovered by ECC.", L,
              d(*r.reported_uncorrectable));
  }
  if (r.crc_errors) {
    out.gauge("foreshock_disk_udma_crc_errors",
              "ATA attribute 199 raw: interface CRC errors (cable/backplane).", L,
              d(*r.crc_errors));
  }
  if (r.self_test_status) {
    out.gauge("foreshock_disk_ata_self_test_status",
              "ATA self-test execution status code (0 passed or never run, 1-8 failed/aborted, "
              "15 in progress).",
              L, *r.self_test_status);
  }
  std::set<int> seen;
  for (const auto& a : r.attributes) {
    if (!seen.insert(a.id).second) continue;  // a duplicate id would duplicate series
    Labels al = with(L, {{"id", std::to_string(a.id)}, {"name", a.name}});
    if (a.value) {
      out.gauge("foreshock_disk_ata_attribute_value", "ATA SMART attribute normalized value.", al,
                *a.value);
    }
    if (a.worst) {
      out.gauge("foreshock_disk_ata_attribute_worst", "ATA SMART attribute worst value seen.", al,
                *a.worst);
    }
    if (a.threshold) {
      out.gauge("foreshock_disk_ata_attribute_threshold", "ATA SMART attribute failure threshold.",
                al, *a.threshold);
    }
    out.gauge("foreshock_disk_ata_attribute_raw",
              "ATA SMART attribute 48-bit raw value (vendor-specific; see _raw_packed).", al,
              d(a.raw));
    out.gauge("foreshock_disk_ata_attribute_prefailure",
              "1 for a pre-failure attribute, 0 for an old-age attribute.", al,
              a.prefailure ? 1 : 0);
    if (a.good_now) {
      out.gauge("foreshock_disk_ata_attribute_failing",
                "1 when the attribute's value is at or below its threshold now.", al,
                a.when_failed == "now" ? 1 : 0);
      out.gauge("foreshock_disk_ata_attribute_failed",
                "1 when the attribute is or ever was at or below its threshold (now or past).", al,
                a.when_failed.empty() ? 0 : 1);
    }
    if (isPackedRaw(r.model, a.id)) {
      out.gauge("foreshock_disk_ata_attribute_raw_packed",
                "1 when the raw value packs several vendor fields and is not a plain count.", al,
                1);
      if (a.id != 188) {
        // Seagate 1/7/195: bits 32..47 count errors, bits 0..31 count operations.
        out.gauge("foreshock_disk_ata_attribute_raw_errors",
                  "Error count decoded from a packed Seagate raw value (bits 32-47).", al,
                  d((a.raw >> 32) & 0xFFFF));
      }
    }
  }
  if (r.nvme) {
    const NvmeHealth& h = *r.nvme;
    for (std::size_t b = 0; b < kNvmeCriticalWarningBits.size(); ++b) {
      out.gauge("foreshock_disk_nvme_critical_warning",
                "NVMe critical warning bits of the SMART/Health log, one series per bit.",
                with(L, {{"bit", kNvmeCriticalWarningBits[b]}}),
                (h.critical_warning >> b) & 1 ? 1 : 0);
    }
    out.gauge("foreshock_disk_nvme_available_spare_ratio", "NVMe available spare (0..1).", L,
              h.available_spare_percent / 100.0);
    out.gauge("foreshock_disk_nvme_available_spare_threshold_ratio",
              "NVMe available spare threshold (0..1).", L,
              h.available_spare_threshold_percent / 100.0);
    out.gauge("foreshock_disk_nvme_percentage_used_ratio",
              "NVMe estimate of life used (1 = rated endurance reached; may exceed 1).", L,
              h.percentage_used / 100.0);
    out.counter("foreshock_disk_media_errors_total",
                "NVMe media and data integrity errors (unrecovered).", L, d(h.media_errors));
    out.counter("foreshock_disk_nvme_error_log_entries_total",
                "NVMe error information log entries over the controller's life.", L,
                d(h.error_log_entries));
    out.counter("foreshock_disk_unsafe_shutdowns_total", "NVMe unsafe shutdowns.", L,
                d(h.unsafe_shutdowns));
    // A data unit is 1000 units of 512 bytes (NVMe base spec, log page 02h bytes 32..63).
    out.counter("foreshock_disk_read_bytes_total", "NVMe data read by the host.", L,
                d(h.data_units_read) * 512000.0);
    out.counter("foreshock_disk_written_bytes_total", "NVMe data written by the host.", L,
                d(h.data_units_written) * 512000.0);
    out.counter("foreshock_disk_nvme_host_read_commands_total", "NVMe read commands completed.", L,
                d(h.host_read_commands));
    out.counter("foreshock_disk_nvme_host_write_commands_total", "NVMe write commands completed.",
                L, d(h.host_write_commands));
    out.counter("foreshock_disk_nvme_controller_busy_seconds_total", "NVMe controller busy time.",
                L, d(h.controller_busy_minutes) * 60.0);
    out.counter("foreshock_disk_nvme_warning_temperature_seconds_total",
                "Time above the warning composite temperature threshold.", L,
                h.warning_temperature_minutes * 60.0);
    out.counter("foreshock_disk_nvme_critical_temperature_seconds_total",
                "Time above the critical composite temperature threshold.", L,
                h.critical_temperature_minutes * 60.0);
    for (std::size_t s = 0; s < h.sensor_celsius.size(); ++s) {
      if (!h.sensor_celsius[s]) continue;
      out.gauge("foreshock_disk_temperature_sensor_celsius", "NVMe temperature sensor N.",
                with(L, {{"sensor", std::to_string(s + 1)}}), *h.sensor_celsius[s]);
    }
  }
  if (r.scsi) {
    const ScsiHealth& s = *r.scsi;
    if (s.grown_defects) {
      out.gauge("foreshock_disk_scsi_grown_defects", "SCSI grown defect list length.", L,
                d(*s.grown_defects));
    }
    if (s.pending_defects) {
      out.gauge("foreshock_disk_scsi_pending_defects", "SCSI pending defects.", L,
                d(*s.pending_defects));
    }
    auto page = [&](const char* op, const std::optional<ScsiErrorCounters>& c) {
      if (!c) return;
      Labels ol = with(L, {{"operation", op}});
      out.counter("foreshock_disk_scsi_corrected_errors_total",
                  "SCSI errors corrected (error counter log).", ol, d(c->corrected));
      out.counter("foreshock_disk_scsi_uncorrected_errors_total",
                  "SCSI uncorrected errors (error counter log).", ol, d(c->uncorrected));
      if (c->processed_bytes) {
        out.counter("foreshock_disk_scsi_processed_bytes_total",
                    "Bytes processed (SCSI error counter log).", ol, *c->processed_bytes);
      }
    };
    page("read", s.read);
    page("write", s.write);
    page("verify", s.verify);
    if (s.non_medium_errors) {
      out.counter("foreshock_disk_scsi_non_medium_errors_total",
                  "SCSI non-medium errors (log page 0x06): transport, controller or firmware "
                  "faults not tied to the media.",
                  L, d(*s.non_medium_errors));
    }
  }
  if (r.smartctl_exit_status) {
    out.gauge("foreshock_disk_smartctl_exit_status",
              "smartctl's exit status bit mask of the last read (smartctl(8) EXIT STATUS).", L,
              *r.smartctl_exit_status);
  }
}

}  // namespace

void SmartEngine::emit(MetricSet& out) const {
  out.declare("foreshock_disk_up", "1 when the disk answered this cycle, 0 with a reason label.",
              prometheus::MetricType::Gauge);
  for (const auto& [name, st] : disks_) {
    const SmartReading* r = st.last ? &*st.last : nullptr;
    std::string serial = !st.id.serial.empty() ? st.id.serial : (r ? r->serial : "");
    std::string model = !st.id.model.empty() ? st.id.model : (r ? r->model : "");
    std::string firmware = !st.id.firmware.empty() ? st.id.firmware : (r ? r->firmware : "");
    Labels L = {{"device", name}, {"serial", serial}, {"model", model}};
    Labels up = L;
    if (!st.up) up.emplace_back("reason", st.reason.empty() ? "not_read_yet" : st.reason);
    out.gauge("foreshock_disk_up", "1 when the disk answered this cycle, 0 with a reason label.",
              up, st.up ? 1 : 0);
    std::string rot = st.id.rotational ? (*st.id.rotational ? "1" : "0") : "";
    out.info("foreshock_disk_info", "Disk identity; value 1.",
             with(L, {{"firmware", firmware},
                      {"wwn", st.id.wwn},
                      {"transport", st.id.transport},
                      {"backend", backendName(st.id.backend)},
                      {"protocol", r ? r->protocol : ""},
                      {"rotational", rot}}));
    out.gauge("foreshock_disk_last_seen_timestamp_seconds",
              "When the disk was last discovered (Unix seconds).", L, st.last_seen);
    if (st.id.capacity_bytes) {
      out.gauge("foreshock_disk_capacity_bytes", "Disk capacity.", L,
                static_cast<double>(*st.id.capacity_bytes));
    }
    if (!st.present) continue;
    for (PowerState p : kAllPowerStates) {
      out.gauge("foreshock_disk_power_state",
                "Power state found before the last read: 1 for the current state.",
                with(L, {{"state", powerStateName(p)}}), st.power == p ? 1 : 0);
    }
    out.counter("foreshock_disk_standby_skips_total",
                "SMART reads skipped because the disk was asleep.", L,
                static_cast<double>(st.skips_total));
    out.counter("foreshock_disk_read_failures_total", "SMART reads that failed or timed out.", L,
                static_cast<double>(st.failures_total));
    if (r == nullptr) continue;
    out.gauge("foreshock_disk_last_read_timestamp_seconds",
              "When the values below were read (Unix seconds); older than the cycle while the "
              "disk sleeps.",
              L, st.last_read);
    emitReading(out, L, *r);
  }
}

}  // namespace foreshock::smart
