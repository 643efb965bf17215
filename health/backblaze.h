// `foreshock replay --backblaze`: runs the agent's history store, disk rules and risk model
// over Backblaze Drive Stats daily CSVs and reports, per drive, when the "disk will fail"
// alarm would first have fired.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "health/engine.h"

namespace foreshock {

// Which findings count as the alarm. kModel is what the agent alerts on (the
// ForeshockDiskWillFail alert: isDiskFailureCheck()); the others are the baselines the
// evaluation compares against, each one of the agent's own rules.
enum class AlarmPolicy {
  kModel,       // smart_status, prefail_threshold, NVMe, self_test, failure_risk >= warning
  kSmart,       // the drive's own verdict only: smart_status, prefail_threshold
  kRawNonzero,  // raw 5/187/188/197/198 > 0
  kIncrease7d,  // any 7-day increase of 5/187/197/198 (the critical counter rules)
};
Result<AlarmPolicy> parseAlarmPolicy(const std::string& s);

// One CSV row, reduced to what the rules use. Days are days since 1970-01-01.
struct BackblazeRow {
  std::uint32_t serial = 0;  // index into the serial table
  std::int32_t day = 0;
  bool failure = false;
  std::uint32_t model = 0;  // index into the model table
  // raw values of 5, 9, 187, 188, 194, 197, 198, 199 (NaN when empty); double, so the packed
  // 48-bit counters (188 on Seagate) stay exact, as the agent and the training script see them.
  double raw[8];
};

struct BackblazeData {
  std::vector<std::string> serials, models;
  std::vector<BackblazeRow> rows;
  std::uint64_t skipped_lines = 0;  // malformed rows (reported, not fatal)
};

// Longest CSV line read (a full-schema Backblaze line is under 3 KiB). A longer line is never
// held in memory whole: it is skipped as malformed, named by file:line.
inline constexpr std::size_t kMaxBackblazeLineBytes = 64 * 1024;

// Pure, incremental parser of Backblaze CSV text (the I/O is readBackblazeCsv): the first
// line is the header (either schema; columns found by name), every further line one
// drive-day appended to *data. A malformed row (bad date, empty serial, a failure value other
// than 0 or 1, a line over kMaxBackblazeLineBytes) is counted in skipped_lines (the first five
// are named on stderr as FILE:LINE: skipped: why) and skipped; a header without serial_number,
// date or failure is an error.
// Thread-safety: not thread-safe; one parser per file.
class BackblazeParser {
 public:
  BackblazeParser(std::string source, BackblazeData* data);
  Status line(std::string_view text);  // trailing \r\n are ignored
  // Counts the next line as malformed without its text (e.g. over the length cap); an error
  // when it is the header line.
  Status skipLine(const std::string& why);

 private:
  std::string source_;
  BackblazeData* data_;
  std::uint64_t lineno_ = 0;
  int c_serial_ = -1, c_date_ = -1, c_failure_ = -1, c_model_ = -1;
  int c_raw_[8];
  std::unordered_map<std::string, std::uint32_t> serial_idx_, model_idx_;
  std::vector<std::string_view> cols_;
  void malformed(const std::string& why);
};

// Reads one CSV (gzip or plain) with either the reduced or the full original header, appending
// to *data. The error names the file and line (missing header column, unreadable file).
Status readBackblazeCsv(const std::string& path, BackblazeData* data);

// Parses "YYYY-MM-DD" to days since the epoch; nullopt if malformed.
std::optional<std::int32_t> parseIsoDay(std::string_view s);
std::string formatIsoDay(std::int32_t day);

struct ReplayOptions {
  AlarmPolicy policy = AlarmPolicy::kModel;
  HealthOptions health;
};

struct ReplayDrive {
  std::string serial;
  bool failed = false;
  std::int32_t last_day = 0;
  std::int32_t first_alarm_day = -1;  // -1 never
  Severity first_alarm_severity = Severity::kOk;
  double max_risk = 0;
};

// Replays every drive (rows sorted by serial then date; duplicate days keep the last row).
std::vector<ReplayDrive> replay(BackblazeData& data, const ReplayOptions& options);
// Writes the CSV: serial,failed,last_date,first_alarm_date,first_alarm_severity,max_risk
void writeReplayCsv(const std::vector<ReplayDrive>& drives, std::ostream& out);

}  // namespace foreshock
