#include "exporters/prometheus/exposition_parse.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "core/file_util.h"

namespace foreshock {

namespace {

bool nameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

std::optional<double> parseValue(std::string_view s) {
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  return parseDouble(s);
}

}  // namespace

Result<ParsedExposition> parseExposition(std::string_view text) {
  std::map<std::string, prometheus::MetricFamily> fams;
  std::map<std::string, prometheus::MetricType> types;
  std::map<std::string, std::string> helps;
  ParsedExposition out;
  // The text format never contains NUL; reject it up front (it is a binary file, not a scrape).
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n');
    return makeError("line " + std::to_string(line) + ": NUL byte (not a text exposition)");
  }
  std::size_t lineno = 0;
  for (const auto& raw_line : split(text, '\n')) {
    ++lineno;
    auto err = [&](const std::string& what) {
      return makeError("line " + std::to_string(lineno) + ": " + what);
    };
    std::string_view line = trim(raw_line);
    if (line.empty()) continue;
    if (line[0] == '#') {
      auto f = splitWhitespace(line);
      if (f.size() >= 3 && f[1] == "TYPE") {
        std::string t(f.size() >= 4 ? f[3] : "");
        prometheus::MetricType mt = prometheus::MetricType::Untyped;
        if (t == "counter")
          mt = prometheus::MetricType::Counter;
        else if (t == "gauge")
          mt = prometheus::MetricType::Gauge;
        types[std::string(f[2])] = mt;
      } else if (f.size() >= 3 && f[1] == "HELP") {
        auto pos = line.find(f[2]);
        helps[std::string(f[2])] = std::string(trim(line.substr(pos + f[2].size())));
      }
      continue;
    }
    std::size_t i = 0;
    while (i < line.size() && nameChar(line[i], i == 0)) ++i;
    if (i == 0) return err("expected a metric name");
    std::string name(line.substr(0, i));
    prometheus::ClientMetric m;
    if (i < line.size() && line[i] == '{') {
      ++i;
      for (;;) {
        while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        std::size_t s = i;
        while (i < line.size() && nameChar(line[i], i == s)) ++i;
        if (i == s) return err("expected a label name in " + name);
        std::string lname(line.substr(s, i - s));
        if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
          return err("expected =\" after label " + lname);
        i += 2;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '\\' && i < line.size()) {
            char n = line[i++];
            value.push_back(n == 'n' ? '\n' : n);
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value.push_back(c);
          }
        }
        if (!closed) return err("unterminated value of label " + lname);
        prometheus::ClientMetric::Label l;
        l.name = lname;
        l.value = value;
        m.label.push_back(l);
      }
    }
    auto rest = splitWhitespace(line.substr(i));
    if (rest.empty() || rest.size() > 2)
      return err("expected a value (and optional timestamp) after " + name);
    auto v = parseValue(rest[0]);
    if (!v) return err("malformed value \"" + std::string(rest[0]) + "\" of " + name);
    if (rest.size() == 2) {
      auto ts = parseInt(rest[1]);
      if (!ts) return err("malformed timestamp \"" + std::string(rest[1]) + "\" of " + name);
      m.timestamp_ms = *ts;
      out.max_timestamp_seconds =
          std::max(out.max_timestamp_seconds, static_cast<double>(*ts) / 1000.0);
    }
    auto& fam = fams[name];
    if (fam.name.empty()) {
      fam.name = name;
      auto t = types.find(name);
      fam.type = t == types.end() ? prometheus::MetricType::Untyped : t->second;
      auto h = helps.find(name);
      if (h != helps.end()) fam.help = h->second;
    }
    switch (fam.type) {
      case prometheus::MetricType::Counter: m.counter.value = *v; break;
      case prometheus::MetricType::Gauge: m.gauge.value = *v; break;
      default: m.untyped.value = *v; break;
    }
    fam.metric.push_back(std::move(m));
  }
  for (auto& [_, f] : fams) out.families.push_back(std::move(f));
  return out;
}

}  // namespace foreshock
