#include "agent/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>
#include <sstream>

#include "core/file_util.h"
#include "core/yaml_keys.h"

namespace foreshock {

using namespace std::chrono_literals;

const CollectorConfig* AgentConfig::collector(const std::string& name) const {
  for (const auto& c : collectors)
    if (c.name == name) return &c;
  return nullptr;
}
CollectorConfig* AgentConfig::collector(const std::string& name) {
  for (auto& c : collectors)
    if (c.name == name) return &c;
  return nullptr;
}

const std::vector<SectionSchema>& topLevelSchemas() {
  static const std::vector<SectionSchema> schemas = {
      {"web",
       "The HTTP endpoint Prometheus scrapes.",
       {
           opt::stringList("listen_addresses", {":19100"},
                           "Addresses to serve on: host:port, [v6-address]:port or :port (every "
                           "address, IPv4 and IPv6). Port 0 picks a free port and logs it. The "
                           "--web.listen-address flag replaces this list."),
           opt::integer("max_connections", 64, 1, 100000,
                        "Maximum simultaneous HTTP connections per listen address. When a new "
                        "client would exceed it, the connection that has waited longest for a "
                        "complete request is closed to make room, so a new scrape is always "
                        "served."),
           opt::integer("max_connections_per_ip", 16, 1, 100000,
                        "Maximum simultaneous HTTP connections from one client address."),
           opt::duration("idle_timeout", 30s, 1s, 1h,
                         "Close a connection that sends nothing for this long."),
           opt::duration("request_timeout", 10s, 1s, 1h,
                         "Close a connection whose complete request (line, headers and any body) "
                         "has not arrived this long after it opened, however slowly it trickles "
                         "in; a kept-alive connection has the larger of idle_timeout and this "
                         "after each response."),
           opt::optional(opt::string(
               "config_file", "",
               "Web configuration file in the Prometheus exporter-toolkit format "
               "(tls_server_config, basic_auth_users, http_server_config.headers), re-read on "
               "SIGHUP; see foreshock(8). Unset: plain HTTP without authentication. The "
               "--web.config.file flag overrides it.")),
       }},
      {"state",
       "Where the agent keeps its local history.",
       {
           opt::string("directory", "/var/lib/foreshock",
                       "State directory (history of the counters that predict failure)."),
           opt::duration("save_interval", 5min, 1s, 24h,
                         "How often the history is written to disk (also written on shutdown)."),
       }},
      {"log",
       "Logging to standard error.",
       {
           opt::enumeration("level", "info", {"debug", "info", "warn", "error"},
                            "Minimum level of log lines. --log.level overrides it."),
       }},
      {"health",
       "The health engine that turns collected signals into findings.",
       {
           opt::boolean("enabled", true,
                        "Evaluate health rules and export foreshock_health_* series."),
           opt::duration("history_retention", 90 * 24h, 1h, 90 * 24h,
                         "Keep history this long (older points are dropped; at most 90 days)."),
           opt::integer(
               "recent_points", 1024, 16, 100000,
               "Points per series kept at full rate; older ones are folded to one per day."),
           opt::integer("max_entities", 1024, 1, 100000,
                        "Most entities (disks, interfaces, sensors, probe targets) kept in the "
                        "history; the least recently seen are dropped beyond it."),
           opt::duration("record_interval", 10s, 1s, 1h,
                         "Least time between two points recorded in the history."),
           opt::number("disk_risk_warning", -1, -1, 1,
                       "Disk failure risk at or above which a warning is raised; -1 uses the "
                       "operating point chosen on the training data (docs/prediction.md)."),
           opt::number("disk_temperature_warning", 55, 0, 150,
                       "Temperature (Celsius) at which a spinning disk is a warning, unless the "
                       "drive reports its own trip temperature (docs/health.md)."),
           opt::number("disk_temperature_critical", 60, 0, 150,
                       "Temperature (Celsius) at which a spinning disk is critical; above "
                       "disk_temperature_warning."),
           opt::number("ssd_temperature_warning", 70, 0, 150,
                       "Temperature (Celsius) at which an SSD (NVMe or non-rotational) is a "
                       "warning, unless the drive reports its own trip temperature."),
           opt::number("ssd_temperature_critical", 80, 0, 150,
                       "Temperature (Celsius) at which an SSD is critical; above "
                       "ssd_temperature_warning."),
       }},
  };
  return schemas;
}

std::vector<OptionSpec> commonCollectorOptions(const CollectorInfo& info) {
  return {
      opt::boolean("enabled", info.enabled_by_default,
                   "Run this collector. --collector.NAME and --no-collector.NAME override it."),
      opt::duration("interval", info.default_interval, 1s, 7 * 24h,
                    "How often the collector runs."),
      opt::duration("timeout", info.default_timeout, 100ms, 24h,
                    "Deadline of one run; a run past it is reported failed and its data kept "
                    "from the last good run, marked stale. Must not exceed interval."),
  };
}

namespace {

struct Ctx {
  std::string source;
  std::vector<std::string>* errors;
  void error(const YAML::Node& n, const std::string& key, const std::string& msg) const {
    std::string where = source;
    if (n.IsDefined() && n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
    errors->push_back(where + ": " + key + ": " + msg);
  }
};

std::string scalarText(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsNull()) return "null";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "?";
}

std::string got(const YAML::Node& n) {
  if (n.IsScalar()) return "got \"" + n.Scalar() + "\"";
  return "got " + scalarText(n);
}

std::string knownKeys(const std::vector<OptionSpec>& specs) {
  std::string s;
  for (const auto& o : specs) s += (s.empty() ? "" : ", ") + o.name;
  return s;
}

std::string fmtNum(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

std::optional<ConfigValue> convert(const Ctx& ctx, const OptionSpec& spec, const YAML::Node& n,
                                   const std::string& key);

std::optional<ConfigSection> convertMap(const Ctx& ctx, const std::vector<OptionSpec>& specs,
                                        const YAML::Node& n, const std::string& path,
                                        bool apply_defaults) {
  ConfigSection sec = apply_defaults ? defaultsFor(specs, path) : ConfigSection{path, {}};
  if (n.IsNull()) return sec;
  if (!n.IsMap()) {
    ctx.error(n, path, "expected a map of keys, " + got(n));
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& kv : n) {
    std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    std::string key = path.empty() ? k : path + "." + k;
    auto it =
        std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == k; });
    if (it == specs.end()) {
      ctx.error(kv.first, key, "unknown key (known keys: " + knownKeys(specs) + ")");
      ok = false;
      continue;
    }
    auto v = convert(ctx, *it, kv.second, key);
    if (!v) {
      ok = false;
      continue;
    }
    sec.values[k] = std::move(*v);
  }
  for (const auto& s : specs) {
    if (s.required && !sec.has(s.name)) {
      ctx.error(n, path + "." + s.name, "required key is missing");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return sec;
}

std::optional<ConfigValue> convert(const Ctx& ctx, const OptionSpec& spec, const YAML::Node& n,
                                   const std::string& key) {
  auto needScalar = [&](const char* what) -> bool {
    if (n.IsScalar()) return true;
    ctx.error(n, key, std::string("expected ") + what + ", " + got(n));
    return false;
  };
  auto range = [&](double v, const std::string& shown) -> bool {
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
      std::string lo =
          spec.min ? (spec.type == OptionType::kDuration
                          ? formatDuration(Duration(static_cast<long long>(*spec.min * 1000)))
                          : fmtNum(*spec.min))
                   : "-inf";
      std::string hi =
          spec.max ? (spec.type == OptionType::kDuration
                          ? formatDuration(Duration(static_cast<long long>(*spec.max * 1000)))
                          : fmtNum(*spec.max))
                   : "inf";
      ctx.error(n, key, shown + " is out of range (minimum " + lo + ", maximum " + hi + ")");
      return false;
    }
    return true;
  };
  switch (spec.type) {
    case OptionType::kBool: {
      if (!needScalar("true or false")) return std::nullopt;
      const auto& s = n.Scalar();
      if (s == "true") return ConfigValue(true);
      if (s == "false") return ConfigValue(false);
      ctx.error(n, key, "expected true or false, " + got(n));
      return std::nullopt;
    }
    case OptionType::kInt: {
      if (!needScalar("an integer")) return std::nullopt;
      auto v = parseInt(n.Scalar());
      if (!v) {
        ctx.error(n, key, "expected an integer, " + got(n));
        return std::nullopt;
      }
      if (!range(static_cast<double>(*v), std::to_string(*v))) return std::nullopt;
      return ConfigValue(*v);
    }
    case OptionType::kDouble: {
      if (!needScalar("a number")) return std::nullopt;
      auto v = parseDouble(n.Scalar());
      if (!v) {
        ctx.error(n, key, "expected a number, " + got(n));
        return std::nullopt;
      }
      if (!std::isfinite(*v)) {
        ctx.error(n, key, "expected a finite number, " + got(n));
        return std::nullopt;
      }
      if (!range(*v, n.Scalar())) return std::nullopt;
      return ConfigValue(*v);
    }
    case OptionType::kDuration: {
      if (!needScalar("a duration such as 30s or 5m")) return std::nullopt;
      auto v = parseDuration(n.Scalar());
      if (!v) {
        ctx.error(n, key, "expected a duration such as 500ms, 30s, 5m or 1h, " + got(n));
        return std::nullopt;
      }
      if (!range(static_cast<double>(v->count()) / 1000.0, n.Scalar())) return std::nullopt;
      return ConfigValue(*v);
    }
    case OptionType::kString: {
      if (!needScalar("a string")) return std::nullopt;
      return ConfigValue(n.Scalar());
    }
    case OptionType::kEnum: {
      if (!needScalar("a string")) return std::nullopt;
      if (std::find(spec.choices.begin(), spec.choices.end(), n.Scalar()) == spec.choices.end()) {
        ctx.error(n, key, "expected " + typeName(spec) + ", " + got(n));
        return std::nullopt;
      }
      return ConfigValue(n.Scalar());
    }
    case OptionType::kRegex: {
      if (!needScalar("a regular expression")) return std::nullopt;
      try {
        std::regex re(n.Scalar(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        ctx.error(n, key, "invalid regular expression \"" + n.Scalar() + "\": " + e.what());
        return std::nullopt;
      }
      return ConfigValue(n.Scalar());
    }
    case OptionType::kStringList: {
      if (!n.IsSequence()) {
        ctx.error(n, key, "expected a list of strings, " + got(n));
        return std::nullopt;
      }
      StringList out;
      bool ok = true;
      for (std::size_t i = 0; i < n.size(); ++i) {
        if (!n[i].IsScalar()) {
          ctx.error(n[i], key + "[" + std::to_string(i) + "]", "expected a string, " + got(n[i]));
          ok = false;
          continue;
        }
        out.push_back(n[i].Scalar());
      }
      if (!ok) return std::nullopt;
      return ConfigValue(std::move(out));
    }
    case OptionType::kStringMap: {
      if (n.IsNull()) return ConfigValue(StringMap{});
      if (!n.IsMap()) {
        ctx.error(n, key, "expected a map of strings, " + got(n));
        return std::nullopt;
      }
      StringMap out;
      bool ok = true;
      for (const auto& kv : n) {
        if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
          ctx.error(kv.second, key, "expected string keys and values, " + got(kv.second));
          ok = false;
          continue;
        }
        out[kv.first.Scalar()] = kv.second.Scalar();
      }
      if (!ok) return std::nullopt;
      return ConfigValue(std::move(out));
    }
    case OptionType::kObjectList: {
      if (!n.IsSequence()) {
        ctx.error(n, key, "expected a list, " + got(n));
        return std::nullopt;
      }
      std::vector<ConfigSection> out;
      bool ok = true;
      for (std::size_t i = 0; i < n.size(); ++i) {
        auto sec = convertMap(ctx, spec.fields, n[i], key + "[" + std::to_string(i) + "]", true);
        if (!sec) {
          ok = false;
          continue;
        }
        out.push_back(std::move(*sec));
      }
      if (!ok) return std::nullopt;
      return ConfigValue(std::move(out));
    }
  }
  return std::nullopt;
}

CollectorConfig collectorFromSection(const CollectorInfo& info, ConfigSection sec) {
  CollectorConfig c;
  c.name = info.name;
  c.enabled = sec.getBool("enabled");
  c.interval = sec.getDuration("interval");
  c.timeout = sec.getDuration("timeout");
  c.section = std::move(sec);
  return c;
}

std::vector<OptionSpec> fullCollectorSchema(const CollectorInfo& info) {
  auto specs = commonCollectorOptions(info);
  specs.insert(specs.end(), info.options.begin(), info.options.end());
  return specs;
}

}  // namespace

AgentConfig defaultConfig(const Registry& registry) {
  AgentConfig cfg;
  for (const auto& info : registry.list()) {
    cfg.collectors.push_back(collectorFromSection(
        info, defaultsFor(fullCollectorSchema(info), "collectors." + info.name)));
  }
  for (const auto& s : topLevelSchemas()) {
    auto sec = defaultsFor(s.options, s.name);
    if (s.name == "web") cfg.web = sec;
    if (s.name == "state") cfg.state = sec;
    if (s.name == "log") cfg.log = sec;
    if (s.name == "health") cfg.health = sec;
  }
  return cfg;
}

ConfigLoad parseConfig(const std::string& text, const std::string& source,
                       const Registry& registry) {
  ConfigLoad load;
  Ctx ctx{source, &load.errors};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    load.errors.push_back(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
    return load;
  }
  AgentConfig cfg = defaultConfig(registry);
  cfg.source = source;
  if (root.IsNull()) {
    load.config = std::move(cfg);
    return load;
  }
  if (!root.IsMap()) {
    ctx.error(root, "(top level)",
              "expected a map with keys collectors, web, state, log, health, " + got(root));
    return load;
  }
  reportDuplicateYamlKeys(root, [&](const YAML::Node& key, const std::string& path,
                                    const std::string& message) { ctx.error(key, path, message); });
  std::string known = "collectors";
  for (const auto& s : topLevelSchemas()) known += ", " + s.name;
  for (const auto& kv : root) {
    std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (k == "collectors") {
      const YAML::Node& cn = kv.second;
      if (cn.IsNull()) continue;
      if (!cn.IsMap()) {
        ctx.error(cn, "collectors", "expected a map of collector names, " + got(cn));
        continue;
      }
      for (const auto& ckv : cn) {
        std::string name = ckv.first.IsScalar() ? ckv.first.Scalar() : "?";
        const CollectorInfo* info = registry.find(name);
        if (info == nullptr) {
          std::string names;
          for (const auto& e : registry.list()) names += (names.empty() ? "" : ", ") + e.name;
          ctx.error(ckv.first, "collectors." + name, "unknown collector (known: " + names + ")");
          continue;
        }
        auto sec =
            convertMap(ctx, fullCollectorSchema(*info), ckv.second, "collectors." + name, true);
        if (!sec) continue;
        auto cc = collectorFromSection(*info, std::move(*sec));
        if (cc.timeout > cc.interval) {
          ctx.error(ckv.second, "collectors." + name + ".timeout",
                    formatDuration(cc.timeout) + " exceeds the interval " +
                        formatDuration(cc.interval) + "; a run must end before the next starts");
          continue;
        }
        *cfg.collector(name) = std::move(cc);
      }
      continue;
    }
    auto it = std::find_if(topLevelSchemas().begin(), topLevelSchemas().end(),
                           [&](const SectionSchema& s) { return s.name == k; });
    if (it == topLevelSchemas().end()) {
      ctx.error(kv.first, k, "unknown key (known keys: " + known + ")");
      continue;
    }
    auto sec = convertMap(ctx, it->options, kv.second, k, true);
    if (!sec) continue;
    if (k == "web") cfg.web = std::move(*sec);
    if (k == "state") cfg.state = std::move(*sec);
    if (k == "log") cfg.log = std::move(*sec);
    if (k == "health") {
      bool ordered = true;
      for (const char* kind : {"disk", "ssd"}) {
        std::string w = std::string(kind) + "_temperature_warning";
        std::string c = std::string(kind) + "_temperature_critical";
        if (sec->getDouble(w) >= sec->getDouble(c)) {
          char buf[96];
          std::snprintf(buf, sizeof buf, " (%g >= %g)", sec->getDouble(w), sec->getDouble(c));
          ctx.error(kv.second, "health." + w, "must be below health." + c + buf);
          ordered = false;
        }
      }
      if (ordered) cfg.health = std::move(*sec);
    }
  }
  if (load.errors.empty()) load.config = std::move(cfg);
  return load;
}

ConfigLoad loadConfigFile(const std::string& path, const Registry& registry) {
  auto text = readFileCapped(path, kMaxConfigFileBytes);
  if (!text) {
    ConfigLoad load;
    load.errors.push_back(text.error().message);
    return load;
  }
  return parseConfig(*text, path, registry);
}

namespace {
void renderOption(std::ostringstream& o, const OptionSpec& s, const std::string& prefix,
                  const std::string& format) {
  std::string key = prefix + s.name;
  std::string def =
      s.default_value ? formatValue(*s.default_value) : (s.required ? "(required)" : "(none)");
  if (format == "man") {
    o << ".TP\n.B " << key << "\n(" << typeName(s) << ", default " << def;
    if (s.min && s.max && s.type != OptionType::kDuration)
      o << ", " << fmtNum(*s.min) << " to " << fmtNum(*s.max);
    o << ")\n" << s.doc << "\n";
  } else {
    o << "| `" << key << "` | " << typeName(s) << " | `" << def << "` | " << s.doc << " |\n";
  }
  for (const auto& f : s.fields) renderOption(o, f, key + "[].", format);
}
}  // namespace

std::string renderConfigReference(const Registry& registry, const std::string& format) {
  std::ostringstream o;
  auto header = [&](const std::string& title, const std::string& doc) {
    if (format == "man") {
      o << ".SS " << title << "\n" << doc << "\n";
    } else {
      o << "\n### " << title << "\n\n"
        << doc << "\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
    }
  };
  for (const auto& s : topLevelSchemas()) {
    header(s.name, s.doc);
    for (const auto& opt : s.options) renderOption(o, opt, s.name + ".", format);
  }
  for (const auto& info : registry.list()) {
    header("collectors." + info.name, info.description);
    for (const auto& opt : fullCollectorSchema(info)) {
      renderOption(o, opt, "collectors." + info.name + ".", format);
    }
  }
  return o.str();
}

}  // namespace foreshock
