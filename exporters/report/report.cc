#include "exporters/report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/file_util.h"

namespace foreshock {

namespace {

struct Category {
  const char* key;
  const char* title;
};
constexpr Category kCategories[] = {{"disks", "Disks"},
                                    {"temperatures", "Temperatures"},
                                    {"network", "Network"},
                                    {"upstream", "Upstream"},
                                    {"kernel", "Kernel-reported hardware errors"}};

struct Component {
  std::string component, subject;
  Severity worst = Severity::kOk;
  bool only_notices = true;  // every check is an info notice (e.g. a disk without SMART)
  std::vector<const Finding*> checks;
};

// Components of one category in first-seen order, each with its checks.
std::vector<Component> componentsOf(const HealthResult& r, std::string_view category) {
  std::vector<Component> out;
  for (const auto& f : r.findings) {
    if (f.category != category) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const Component& c) { return c.component == f.component; });
    if (it == out.end()) {
      out.push_back({f.component, f.subject, Severity::kOk, true, {}});
      it = out.end() - 1;
    }
    if (f.severity != Severity::kInfo) {
      it->worst = std::max(it->worst, f.severity);
      it->only_notices = false;
    }
    it->checks.push_back(&f);
  }
  return out;
}

Severity worstOf(const HealthResult& r) {
  Severity w = Severity::kOk;
  for (const auto& f : r.findings)
    if (f.severity != Severity::kInfo) w = std::max(w, f.severity);
  return w;
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  return formatNumber(v, 6);
}

std::string jsonString(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      case '\r': o += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          o += buf;
        } else {
          o.push_back(c);
        }
    }
  }
  return o + "\"";
}

const char* statusWord(int code) {
  switch (code) {
    case 0: return "OK";
    case 1: return "WARNING";
    case 2: return "CRITICAL";
    default: return "UNKNOWN";
  }
}

}  // namespace

int reportExitCode(const HealthResult& r, const ReportContext& ctx) {
  Severity w = worstOf(r);
  if (w == Severity::kCritical) return 2;
  if (w == Severity::kWarning) return 1;
  if (r.findings.empty() || !ctx.collector_errors.empty()) return 3;
  return 0;
}

std::string renderReportText(const HealthResult& r, const ReportContext& ctx, bool color) {
  auto paint = [&](Severity s, const std::string& text) {
    if (!color) return text;
    const char* code = s == Severity::kCritical  ? "\033[1;31m"
                       : s == Severity::kWarning ? "\033[1;33m"
                       : s == Severity::kInfo    ? "\033[36m"
                                                 : "\033[32m";
    return std::string(code) + text + "\033[0m";
  };
  auto word = [](Severity s) {
    switch (s) {
      case Severity::kCritical: return "CRITICAL";
      case Severity::kWarning: return "WARNING ";
      case Severity::kInfo: return "INFO    ";
      default: return "OK      ";
    }
  };
  std::string out;
  int code = reportExitCode(r, ctx);
  out += std::string("foreshock check") + (ctx.host.empty() ? "" : " on " + ctx.host) + ": " +
         statusWord(code) + "\n";
  for (const auto& cat : kCategories) {
    auto comps = componentsOf(r, cat.key);
    out += std::string("\n") + cat.title + "\n";
    if (comps.empty()) {
      out += "  (no data)\n";
      continue;
    }
    for (const auto& c : comps) {
      // A component known only by notices has no verdict: INFO, not OK.
      Severity shown = c.only_notices ? Severity::kInfo : c.worst;
      std::string line = "  " + paint(shown, word(shown)) + "  " + c.subject;
      std::vector<const Finding*> bad;
      for (const auto* f : c.checks)
        if (f->severity != Severity::kOk) bad.push_back(f);
      std::sort(bad.begin(), bad.end(),
                [](const Finding* a, const Finding* b) { return a->severity > b->severity; });
      if (bad.empty()) {
        line += ": " + std::to_string(c.checks.size()) + " check" +
                (c.checks.size() == 1 ? "" : "s") + " ok";
      } else {
        line += ": " + bad.front()->summary;
      }
      out += line + "\n";
      for (const auto* f : bad) {
        out += "      " + paint(f->severity, std::string(severityName(f->severity))) + " " +
               f->check + ": " + f->summary + "\n";
        if (!f->evidence.empty()) {
          std::string ev;
          for (const auto& e : f->evidence)
            ev += (ev.empty() ? "" : ", ") + e.name + "=" + number(e.value);
          out += "        evidence: " + ev + "\n";
        }
        if (!f->action.empty()) out += "        action: " + f->action + "\n";
      }
    }
  }
  if (!ctx.collector_errors.empty()) {
    out += "\nCollectors that failed (their part of the report is missing)\n";
    for (const auto& e : ctx.collector_errors) out += "  " + e + "\n";
  }
  for (const auto& n : ctx.notes) out += "\nnote: " + n;
  if (!ctx.notes.empty()) out += "\n";
  return out;
}

std::string renderReportJson(const HealthResult& r, const ReportContext& ctx) {
  int code = reportExitCode(r, ctx);
  static const char* kStatus[] = {"ok", "warning", "critical", "unknown"};
  std::string o = "{\"schema_version\":1,\"host\":" + jsonString(ctx.host) +
                  ",\"time\":" + number(ctx.time) + ",\"status\":\"" + kStatus[code] +
                  "\",\"exit_code\":" + std::to_string(code) + ",\"categories\":[";
  bool first_cat = true;
  for (const auto& cat : kCategories) {
    o += std::string(first_cat ? "" : ",") + "{\"name\":\"" + cat.key + "\",\"title\":\"" +
         cat.title + "\",\"components\":[";
    first_cat = false;
    bool first_comp = true;
    for (const auto& c : componentsOf(r, cat.key)) {
      o += std::string(first_comp ? "" : ",") + "{\"component\":" + jsonString(c.component) +
           ",\"subject\":" + jsonString(c.subject) + ",\"status\":\"" +
           std::string(severityName(c.only_notices ? Severity::kInfo : c.worst)) +
           "\",\"checks\":[";
      first_comp = false;
      bool first_check = true;
      for (const auto* f : c.checks) {
        o += std::string(first_check ? "" : ",") + "{\"check\":" + jsonString(f->check) +
             ",\"severity\":\"" + std::string(severityName(f->severity)) +
             "\",\"summary\":" + jsonString(f->summary) + ",\"evidence\":{";
        first_check = false;
        bool first_ev = true;
        for (const auto& e : f->evidence) {
          o += std::string(first_ev ? "" : ",") + jsonString(e.name) + ":" + number(e.value);
          first_ev = false;
        }
        o += "},\"action\":" + jsonString(f->action) + "}";
      }
      o += "]}";
    }
    o += "]}";
  }
  o += "],\"collector_errors\":[";
  for (std::size_t i = 0; i < ctx.collector_errors.size(); ++i)
    o += (i ? "," : "") + jsonString(ctx.collector_errors[i]);
  o += "],\"notes\":[";
  for (std::size_t i = 0; i < ctx.notes.size(); ++i) o += (i ? "," : "") + jsonString(ctx.notes[i]);
  o += "]}\n";
  return o;
}

}  // namespace foreshock
