// The agent's configuration: one YAML file validated against schemas declared in code.
// Unknown keys, wrong types and out-of-range values are errors naming file, line and key;
// no file at all means the built-in defaults.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "collectors/registry.h"
#include "core/options.h"

namespace foreshock {

// Largest main configuration file accepted; a larger one is an error, never read in part.
inline constexpr std::size_t kMaxConfigFileBytes = std::size_t{4} << 20;

struct CollectorConfig {
  std::string name;
  bool enabled = true;
  Duration interval{};
  Duration timeout{};
  ConfigSection section;  // collector-specific options (and enabled/interval/timeout)
};

struct AgentConfig {
  std::string source = "<built-in defaults>";
  std::vector<CollectorConfig> collectors;  // every registered collector, sorted by name
  ConfigSection web;
  ConfigSection state;
  ConfigSection log;
  ConfigSection health;

  const CollectorConfig* collector(const std::string& name) const;
  CollectorConfig* collector(const std::string& name);
};

// A top-level section other than `collectors`: its name, its doc and its keys.
struct SectionSchema {
  std::string name;
  std::string doc;
  std::vector<OptionSpec> options;
};

// The top-level sections (web, state, log, health), in documentation order.
const std::vector<SectionSchema>& topLevelSchemas();
// The keys every collector section has before its own: enabled, interval, timeout.
std::vector<OptionSpec> commonCollectorOptions(const CollectorInfo& info);

struct ConfigLoad {
  std::optional<AgentConfig> config;
  std::vector<std::string> errors;  // "FILE:LINE: KEY: problem", in file order
};

// Parses YAML text; `source` names the file in error messages.
ConfigLoad parseConfig(const std::string& text, const std::string& source,
                       const Registry& registry);
// Reads and parses a file; a missing or unreadable file is an error naming it.
ConfigLoad loadConfigFile(const std::string& path, const Registry& registry);
// Built-in defaults (no file).
AgentConfig defaultConfig(const Registry& registry);

// Renders the reference of every key (for docs/configuration.md and foreshock.yml(5)).
// format: "markdown" or "man".
std::string renderConfigReference(const Registry& registry, const std::string& format);

}  // namespace foreshock
