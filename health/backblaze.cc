#include "health/backblaze.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/file_util.h"
#include "health/signals.h"

namespace foreshock {

namespace {

constexpr int kRawIds[8] = {5, 9, 187, 188, 194, 197, 198, 199};

// Days from civil date (proleptic Gregorian), Howard Hinnant's well-known algorithm.
std::int32_t daysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

}  // namespace

Result<AlarmPolicy> parseAlarmPolicy(const std::string& s) {
  if (s == "model") return AlarmPolicy::kModel;
  if (s == "smart") return AlarmPolicy::kSmart;
  if (s == "raw-nonzero") return AlarmPolicy::kRawNonzero;
  if (s == "increase-7d") return AlarmPolicy::kIncrease7d;
  return makeError("unknown alarm policy \"" + s + "\" (model, smart, raw-nonzero, increase-7d)");
}

std::optional<std::int32_t> parseIsoDay(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = parseInt(s.substr(0, 4)), m = parseInt(s.substr(5, 2)), d = parseInt(s.substr(8, 2));
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > 31) return std::nullopt;
  return daysFromCivil(static_cast<int>(*y), static_cast<unsigned>(*m), static_cast<unsigned>(*d));
}

std::string formatIsoDay(std::int32_t z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

BackblazeParser::BackblazeParser(std::string source, BackblazeData* data)
    : source_(std::move(source)), data_(data) {
  std::fill(std::begin(c_raw_), std::end(c_raw_), -1);
  for (std::uint32_t i = 0; i < data_->serials.size(); ++i) serial_idx_[data_->serials[i]] = i;
  for (std::uint32_t i = 0; i < data_->models.size(); ++i) model_idx_[data_->models[i]] = i;
}

void BackblazeParser::malformed(const std::string& why) {
  if (data_->skipped_lines++ < 5)
    std::fprintf(stderr, "foreshock: %s:%llu: skipped: %s\n", source_.c_str(),
                 static_cast<unsigned long long>(lineno_), why.c_str());
}

Status BackblazeParser::skipLine(const std::string& why) {
  ++lineno_;
  if (lineno_ == 1) return makeError(source_ + ":1: header line " + why);
  malformed(why);
  return Status::Ok();
}

Status BackblazeParser::line(std::string_view text) {
  ++lineno_;
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);
  if (lineno_ == 1) {
    auto header = split(text, ',');
    for (std::size_t i = 0; i < header.size(); ++i) {
      auto h = std::string(trim(header[i]));
      int idx = static_cast<int>(i);
      if (h == "serial_number") {
        c_serial_ = idx;
      } else if (h == "date") {
        c_date_ = idx;
      } else if (h == "failure") {
        c_failure_ = idx;
      } else if (h == "model") {
        c_model_ = idx;
      }
      for (int k = 0; k < 8; ++k)
        if (h == "smart_" + std::to_string(kRawIds[k]) + "_raw") c_raw_[k] = idx;
    }
    if (c_serial_ < 0 || c_date_ < 0 || c_failure_ < 0)
      return makeError(source_ + ":1: header lacks serial_number, date or failure");
    return Status::Ok();
  }
  if (c_serial_ < 0) return makeError(source_ + ": no valid header line");
  if (text.empty()) return Status::Ok();
  cols_.clear();
  std::string_view rest(text);
  for (;;) {
    auto comma = rest.find(',');
    cols_.push_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  auto col = [&](int c) {
    return c >= 0 && c < static_cast<int>(cols_.size()) ? cols_[static_cast<std::size_t>(c)]
                                                        : std::string_view{};
  };
  auto day = parseIsoDay(col(c_date_));
  auto serial = col(c_serial_);
  if (!day || serial.empty()) {
    malformed("malformed date or empty serial");
    return Status::Ok();
  }
  auto failure = trim(col(c_failure_));
  if (failure != "0" && failure != "1") {
    std::string shown(failure.substr(0, 40));
    malformed("failure is \"" + shown + (failure.size() > 40 ? "...\"" : "\"") +
              ", expected 0 or 1");
    return Status::Ok();
  }
  BackblazeRow r;
  auto [sit, snew] = serial_idx_.try_emplace(std::string(serial),
                                             static_cast<std::uint32_t>(data_->serials.size()));
  if (snew) data_->serials.emplace_back(serial);
  r.serial = sit->second;
  auto model = col(c_model_);
  auto [mit, mnew] =
      model_idx_.try_emplace(std::string(model), static_cast<std::uint32_t>(data_->models.size()));
  if (mnew) data_->models.emplace_back(model);
  r.model = mit->second;
  r.day = *day;
  r.failure = failure == "1";
  for (int k = 0; k < 8; ++k) {
    auto v = parseDouble(trim(col(c_raw_[k])));
    r.raw[k] = v && std::isfinite(*v) ? *v : std::numeric_limits<double>::quiet_NaN();
  }
  data_->rows.push_back(r);
  return Status::Ok();
}

Status readBackblazeCsv(const std::string& path, BackblazeData* data) {
  // Regular files only (a FIFO would block gzopen forever); gzip or plain, read transparently.
  int fd = openRegularFile(path);
  if (fd < 0) return makeError(describeOpenError(path, errno));
  gzFile f = gzdopen(fd, "rb");
  if (f == nullptr) {
    ::close(fd);
    return makeError(path + ": cannot open");
  }
  gzbuffer(f, 1 << 17);
  BackblazeParser parser(path, data);
  // The line is kept only up to the cap; the rest of an over-long line is read and dropped in
  // chunks, so memory stays bounded whatever the input.
  const std::string too_long = "line longer than " + formatBytes(kMaxBackblazeLineBytes);
  std::string line;
  std::vector<char> buf(16 << 10);
  std::uint64_t lines = 0;
  for (;;) {
    line.clear();
    bool got = false;
    bool overlong = false;
    while (gzgets(f, buf.data(), static_cast<int>(buf.size())) != nullptr) {
      got = true;
      std::size_t n = std::strlen(buf.data());
      bool eol = n > 0 && buf[n - 1] == '\n';
      std::size_t content = n - (eol ? 1 : 0);
      if (!overlong && line.size() + content > kMaxBackblazeLineBytes + 1) {  // + a '\r'
        overlong = true;
        std::string().swap(line);
      }
      if (!overlong) line.append(buf.data(), n);
      if (eol) break;
    }
    if (!got) break;
    ++lines;
    auto st = overlong ? parser.skipLine(too_long) : parser.line(line);
    if (!st) {
      gzclose(f);
      return st;
    }
  }
  int err = 0;
  const char* msg = gzerror(f, &err);
  std::string error = (err != Z_OK && err != Z_STREAM_END) ? std::string(msg) : "";
  gzclose(f);
  if (!error.empty())
    return makeError(path + ": read error after line " + std::to_string(lines) + ": " + error);
  if (lines == 0) return makeError(path + ": empty file (no header line)");
  return Status::Ok();
}

namespace {

bool alarmed(AlarmPolicy policy, const Finding& f, const DiskObservation& d) {
  switch (policy) {
    case AlarmPolicy::kModel:
      return isDiskFailureCheck(f.check) && f.severity >= Severity::kWarning;
    case AlarmPolicy::kSmart:
      return (f.check == "smart_status" || f.check == "prefail_threshold") &&
             f.severity >= Severity::kWarning;
    case AlarmPolicy::kRawNonzero:
      if (auto r188 = d.raw(signals::kAtaCommandTimeout); r188 && *r188 > 0) return true;
      return (f.check == "reallocated_sectors" || f.check == "reported_uncorrectable" ||
              f.check == "pending_sectors" || f.check == "offline_uncorrectable") &&
             f.severity >= Severity::kWarning;
    case AlarmPolicy::kIncrease7d:
      return (f.check == "reallocated_sectors" || f.check == "reported_uncorrectable" ||
              f.check == "pending_sectors" || f.check == "offline_uncorrectable") &&
             f.severity == Severity::kCritical;
  }
  return false;
}

}  // namespace

std::vector<ReplayDrive> replay(BackblazeData& data, const ReplayOptions& options) {
  auto& rows = data.rows;
  std::stable_sort(rows.begin(), rows.end(), [&](const BackblazeRow& a, const BackblazeRow& b) {
    if (a.serial != b.serial) return data.serials[a.serial] < data.serials[b.serial];
    return a.day < b.day;
  });
  std::vector<ReplayDrive> out;
  std::vector<Finding> findings;
  std::size_t i = 0;
  while (i < rows.size()) {
    std::size_t end = i;
    while (end < rows.size() && rows[end].serial == rows[i].serial) ++end;
    ReplayDrive drive;
    drive.serial = data.serials[rows[i].serial];
    HistoryStore history(options.health.limits);
    DiskObservation d;
    d.serial = drive.serial;
    d.device = drive.serial;  // no device nodes in fleet data; the serial names the disk
    for (std::size_t k = i; k < end; ++k) {
      const auto& r = rows[k];
      if (k + 1 < end && rows[k + 1].day == r.day) continue;  // duplicate day: keep the last
      d.model = data.models[r.model];
      d.attributes.clear();
      d.temperature.reset();
      for (int a = 0; a < 8; ++a) {
        if (std::isnan(r.raw[a])) continue;
        AtaAttribute attr;
        attr.id = kRawIds[a];
        attr.raw = r.raw[a];
        d.attributes.push_back(attr);
        if (kRawIds[a] == signals::kAtaTemperature) d.temperature = r.raw[a];
      }
      double t = r.day * 86400.0 + 43200;  // noon UTC of the day
      recordDisk(history, d, t);
      findings.clear();
      double risk = 0;
      evaluateDisk(d, history, t, options.health, &findings, &risk);
      drive.max_risk = std::max(drive.max_risk, risk);
      drive.failed = drive.failed || r.failure;
      drive.last_day = r.day;
      if (drive.first_alarm_day < 0) {
        Severity worst = Severity::kOk;
        for (const auto& f : findings)
          if (alarmed(options.policy, f, d))
            worst = std::max(worst, std::max(f.severity, Severity::kWarning));
        if (worst >= Severity::kWarning) {
          drive.first_alarm_day = r.day;
          drive.first_alarm_severity = worst;
        }
      }
    }
    out.push_back(std::move(drive));
    i = end;
  }
  return out;
}

void writeReplayCsv(const std::vector<ReplayDrive>& drives, std::ostream& out) {
  out << "serial,failed,last_date,first_alarm_date,first_alarm_severity,max_risk\n";
  char risk[32];
  for (const auto& d : drives) {
    std::snprintf(risk, sizeof risk, "%.6f", d.max_risk);
    out << d.serial << ',' << (d.failed ? 1 : 0) << ',' << formatIsoDay(d.last_day) << ','
        << (d.first_alarm_day >= 0 ? formatIsoDay(d.first_alarm_day) : "") << ','
        << (d.first_alarm_day >= 0 ? severityName(d.first_alarm_severity) : "") << ',' << risk
        << '\n';
  }
}

}  // namespace foreshock
