#include "collectors/smart/smartctl_json.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "collectors/smart/json_reader.h"

namespace foreshock::smart {

SmartctlExit decodeSmartctlExit(int status) {
  SmartctlExit e;
  e.status = status;
  e.command_line_error = (status & 0x01) != 0;
  e.open_failed_or_low_power = (status & 0x02) != 0;
  e.smart_command_failed = (status & 0x04) != 0;
  e.disk_failing = (status & 0x08) != 0;
  e.prefail_below_threshold = (status & 0x10) != 0;
  e.attribute_failed_in_past = (status & 0x20) != 0;
  e.error_log_has_entries = (status & 0x40) != 0;
  e.self_test_log_has_errors = (status & 0x80) != 0;
  return e;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<std::uint64_t> uintAt(const JsonValue& root,
                                    std::initializer_list<std::string_view> p) {
  const JsonValue* v = root.path(p);
  if (v == nullptr) return std::nullopt;
  if (auto u = v->asUint()) return u;
  // smartctl prints 128-bit NVMe counters past 2^64 as doubles; saturate rather than drop.
  if (auto d = v->asDouble(); d && *d >= 0) {
    return *d >= 1.8446744073709552e19 ? UINT64_MAX : static_cast<std::uint64_t>(*d);
  }
  return std::nullopt;
}

std::optional<double> numAt(const JsonValue& root, std::initializer_list<std::string_view> p) {
  const JsonValue* v = root.path(p);
  return v == nullptr ? std::nullopt : v->asDouble();
}

std::string strAt(const JsonValue& root, std::initializer_list<std::string_view> p) {
  const JsonValue* v = root.path(p);
  if (v == nullptr) return {};
  return v->asString().value_or("");
}

PowerState powerFromName(const std::string& name) {
  std::string n = lower(name);
  if (n.find("standby") != std::string::npos) return PowerState::kStandby;
  if (n.find("sleep") != std::string::npos) return PowerState::kSleep;
  if (n.find("idle") != std::string::npos) return PowerState::kIdle;
  if (n.find("active") != std::string::npos) return PowerState::kActive;
  return PowerState::kUnknown;
}

std::optional<ScsiErrorCounters> scsiCounters(const JsonValue* page) {
  if (page == nullptr || !page->isObject()) return std::nullopt;
  ScsiErrorCounters c;
  if (auto v = page->get("total_errors_corrected")) c.corrected = v->asUint().value_or(0);
  if (auto v = page->get("total_uncorrected_errors")) c.uncorrected = v->asUint().value_or(0);
  // smartctl prints gigabytes_processed as a string with three decimals ("9235.838").
  if (auto v = page->get("gigabytes_processed")) {
    std::optional<double> gb = v->asDouble();
    if (!gb) {
      if (auto s = v->asString()) {
        char* end = nullptr;
        double d = std::strtod(s->c_str(), &end);
        if (end != s->c_str() && *end == '\0') gb = d;
      }
    }
    if (gb) c.processed_bytes = *gb * 1e9;
  }
  return c;
}

void readAtaAttributes(const JsonValue& root, SmartReading& r) {
  const JsonValue* table = root.path({"ata_smart_attributes", "table"});
  if (table == nullptr) return;
  for (const auto& a : table->items()) {
    auto id = a.get("id") ? a.get("id")->asUint() : std::nullopt;
    if (!id || *id > 255) continue;
    AtaAttribute attr;
    attr.id = static_cast<std::uint8_t>(*id);
    attr.name = strAt(a, {"name"});
    auto byte = [&](std::string_view key) -> std::optional<std::uint8_t> {
      auto v = uintAt(a, {key});
      if (!v || *v > 255) return std::nullopt;
      return static_cast<std::uint8_t>(*v);
    };
    attr.value = byte("value");
    attr.worst = byte("worst");
    attr.threshold = byte("thresh");
    attr.raw = uintAt(a, {"raw", "value"}).value_or(0);
    if (const JsonValue* f = a.get("flags")) {
      attr.prefailure =
          f->get("prefailure") ? f->get("prefailure")->asBool().value_or(false) : false;
      attr.online =
          f->get("updated_online") ? f->get("updated_online")->asBool().value_or(false) : false;
    }
    std::string wf = strAt(a, {"when_failed"});
    // smartctl writes "now", "past" or "In_the_past" (format differs across versions).
    std::string wfl = lower(wf);
    if (wfl == "now") {
      attr.when_failed = "now";
    } else if (wfl.find("past") != std::string::npos) {
      attr.when_failed = "past";
    }
    if (attr.threshold && *attr.threshold > 0) {
      attr.good_now = attr.when_failed != "now";
      attr.good_in_past = attr.when_failed.empty();
    }
    r.attributes.push_back(std::move(attr));
  }
  deriveAtaCounters(r);
}

void readNvme(const JsonValue& root, SmartReading& r) {
  const JsonValue* log = root.get("nvme_smart_health_information_log");
  if (log == nullptr || !log->isObject()) return;
  NvmeHealth h;
  auto u = [&](std::string_view k) { return uintAt(*log, {k}).value_or(0); };
  h.critical_warning = static_cast<std::uint8_t>(u("critical_warning") & 0xFF);
  if (auto t = numAt(*log, {"temperature"})) h.composite_temperature_celsius = *t;
  h.available_spare_percent =
      static_cast<std::uint8_t>(std::min<std::uint64_t>(u("available_spare"), 255));
  h.available_spare_threshold_percent =
      static_cast<std::uint8_t>(std::min<std::uint64_t>(u("available_spare_threshold"), 255));
  h.percentage_used = static_cast<std::uint8_t>(std::min<std::uint64_t>(u("percentage_used"), 255));
  h.data_units_read = u("data_units_read");
  h.data_units_written = u("data_units_written");
  h.host_read_commands = u("host_reads");
  h.host_write_commands = u("host_writes");
  h.controller_busy_minutes = u("controller_busy_time");
  h.power_cycles = u("power_cycles");
  h.power_on_hours = u("power_on_hours");
  h.unsafe_shutdowns = u("unsafe_shutdowns");
  h.media_errors = u("media_errors");
  h.error_log_entries = u("num_err_log_entries");
  h.warning_temperature_minutes =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(u("warning_temp_time"), UINT32_MAX));
  h.critical_temperature_minutes =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(u("critical_comp_time"), UINT32_MAX));
  if (const JsonValue* sensors = log->get("temperature_sensors")) {
    std::size_t i = 0;
    for (const auto& s : sensors->items()) {
      if (i >= h.sensor_celsius.size()) break;
      if (auto t = s.asDouble()) h.sensor_celsius[i] = *t;
      ++i;
    }
  }
  r.nvme = h;
}

// "Non-medium error count:      389" (smartctl's scsiprint.cpp format): the count, or nullopt
// for any other line or a value that is not a plain number.
std::optional<std::uint64_t> nonMediumErrorLine(std::string_view line) {
  constexpr std::string_view kPrefix = "Non-medium error count:";
  if (line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
  if (ec != std::errc() || end != line.data() + line.size() || line.empty()) return std::nullopt;
  return v;
}

void readScsi(const JsonValue& root, SmartReading& r) {
  bool any = false;
  ScsiHealth s;
  if (auto v = uintAt(root, {"scsi_grown_defect_list"})) {
    s.grown_defects = v;
    any = true;
  }
  if (auto v = uintAt(root, {"scsi_pending_defects", "count"})) {
    s.pending_defects = v;
    any = true;
  }
  if (const JsonValue* log = root.get("scsi_error_counter_log")) {
    s.read = scsiCounters(log->get("read"));
    s.write = scsiCounters(log->get("write"));
    s.verify = scsiCounters(log->get("verify"));
    any = true;
  }
  // No JSON key carries the non-medium error count (smartmontools up to 7.5 prints it with
  // pout only); with --json=o the text lines are in smartctl.output.
  if (const JsonValue* lines = root.path({"smartctl", "output"})) {
    for (const auto& line : lines->items()) {
      auto text = line.asString();
      if (!text) continue;
      if (auto n = nonMediumErrorLine(*text)) {
        s.non_medium_errors = n;
        any = true;
        break;
      }
    }
  }
  if (any) r.scsi = s;
}

}  // namespace

Result<SmartctlOutcome> parseSmartctlJson(std::string_view text) {
  auto doc = parseJson(text);
  if (!doc) return doc.error();
  const JsonValue& root = *doc;
  if (!root.isObject()) return makeError("smartctl JSON: the document is not an object");
  const JsonValue* sc = root.get("smartctl");
  const JsonValue* device = root.get("device");
  // Reports trimmed by other tools may lack the "smartctl" header but keep "device".
  if ((sc == nullptr || !sc->isObject()) && (device == nullptr || !device->isObject())) {
    return makeError(
        "smartctl JSON: neither a \"smartctl\" nor a \"device\" object (not smartctl --json "
        "output)");
  }
  SmartctlOutcome out;
  // Without smartctl.exit_status (trimmed reports) the run is taken as successful.
  auto exit_status = uintAt(root, {"smartctl", "exit_status"});
  out.exit = decodeSmartctlExit(static_cast<int>(exit_status.value_or(0) & 0xFF));
  if (const JsonValue* msgs = sc != nullptr ? sc->get("messages") : nullptr) {
    for (const auto& m : msgs->items()) {
      std::string s = strAt(m, {"string"});
      if (s.empty()) continue;
      if (strAt(m, {"severity"}) == "error" || out.message.empty()) out.message = s;
    }
  }
  if (const JsonValue* pm = root.get("power_mode")) out.power = powerFromName(strAt(*pm, {"name"}));

  SmartReading& r = out.reading;
  if (exit_status) r.smartctl_exit_status = out.exit.status;
  r.protocol = lower(strAt(root, {"device", "protocol"}));
  r.model = strAt(root, {"model_name"});
  if (r.model.empty()) r.model = strAt(root, {"scsi_model_name"});
  if (r.model.empty()) {
    std::string vendor = strAt(root, {"vendor"}), product = strAt(root, {"product"});
    r.model = vendor.empty() ? product : (product.empty() ? vendor : vendor + " " + product);
  }
  r.serial = strAt(root, {"serial_number"});
  r.firmware = strAt(root, {"firmware_version"});
  if (r.firmware.empty()) r.firmware = strAt(root, {"revision"});
  if (r.firmware.empty()) r.firmware = strAt(root, {"scsi_revision"});

  const bool has_device_data =
      root.get("smart_status") != nullptr || root.get("ata_smart_attributes") != nullptr ||
      root.get("nvme_smart_health_information_log") != nullptr ||
      root.get("scsi_error_counter_log") != nullptr || root.get("temperature") != nullptr ||
      root.get("power_on_time") != nullptr;
  if (out.exit.open_failed_or_low_power && root.get("power_mode") != nullptr && !has_device_data) {
    // --nocheck=standby (smartd's -n) made smartctl stop before any SMART command.
    out.kind = SmartctlOutcome::Kind::kSkipped;
    return out;
  }
  const JsonValue* support = root.path({"smart_support", "available"});
  const bool no_smart = support != nullptr && support->asBool() == std::optional<bool>(false);
  const bool has_identity = !r.model.empty() || !r.serial.empty();
  const bool clean_exit = !out.exit.command_line_error && !out.exit.open_failed_or_low_power &&
                          !out.exit.smart_command_failed;
  if (!has_device_data && !no_smart && !out.exit.command_line_error &&
      !out.exit.open_failed_or_low_power && (has_identity || clean_exit)) {
    // An --info (or --log=farm) report: identity only, no health values. Still a disk that
    // answered; the exit bits (e.g. 4 for an unsupported log page) are exported as they are.
    out.kind = SmartctlOutcome::Kind::kReading;
    return out;
  }
  if (!has_device_data) {
    out.kind = SmartctlOutcome::Kind::kFailed;
    if (no_smart) {
      out.reason = "not_smart_capable";
    } else if (out.exit.command_line_error) {
      // smartctl also exits 1 when it cannot tell what the device is (a missing node, a
      // virtio disk): that is about the device, not about our command line.
      out.reason = out.message.find("Unable to detect device type") != std::string::npos
                       ? "unknown_device_type"
                       : "smartctl_usage_error";
    } else if (out.exit.open_failed_or_low_power) {
      out.reason = "open_failed";
    } else if (out.exit.smart_command_failed) {
      out.reason = "smart_command_failed";
    } else {
      out.reason = "no_smart_data";
    }
    if (out.message.empty()) out.message = "smartctl returned no device data";
    return out;
  }

  out.kind = SmartctlOutcome::Kind::kReading;
  if (const JsonValue* ss = root.get("smart_status")) {
    if (auto p = ss->get("passed")) r.healthy = p->asBool();
  }
  if (!r.healthy && out.exit.disk_failing) r.healthy = false;
  r.temperature_celsius = numAt(root, {"temperature", "current"});
  r.temperature_trip_celsius = numAt(root, {"temperature", "drive_trip"});
  if (auto h = numAt(root, {"power_on_time", "hours"})) {
    r.power_on_seconds = *h * 3600.0 + numAt(root, {"power_on_time", "minutes"}).value_or(0) * 60.0;
  }
  r.power_cycles = uintAt(root, {"power_cycle_count"});
  if (!r.power_cycles) {
    r.power_cycles =
        uintAt(root, {"scsi_start_stop_cycle_counter", "accumulated_start_stop_cycles"});
  }
  if (auto st = uintAt(root, {"ata_smart_data", "self_test", "status", "value"})) {
    r.self_test_status = static_cast<int>((*st >> 4) & 0x0F);
  }
  readAtaAttributes(root, r);
  readNvme(root, r);
  readScsi(root, r);
  if (r.protocol.empty()) {
    if (r.nvme)
      r.protocol = "nvme";
    else if (r.scsi)
      r.protocol = "scsi";
    else if (!r.attributes.empty())
      r.protocol = "ata";
  }
  return out;
}

}  // namespace foreshock::smart
