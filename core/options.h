// Option schemas and validated option values. Every collector declares its options in code
// (name, type, default, range, documentation); the agent validates the YAML config against
// these schemas (unknown keys rejected) and the same schemas generate foreshock.yml(5).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"

namespace foreshock {

struct ConfigSection;
using StringList = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;
using ConfigValue = std::variant<bool, std::int64_t, double, Duration, std::string, StringList,
                                 StringMap, std::vector<ConfigSection>>;

enum class OptionType {
  kBool,
  kInt,
  kDouble,
  kDuration,
  kString,
  kEnum,
  kRegex,
  kStringList,
  kStringMap,
  kObjectList
};

struct OptionSpec {
  std::string name;
  OptionType type = OptionType::kString;
  std::string doc;
  std::optional<ConfigValue>
      default_value;          // absent: the key is optional with no value, or required
  bool required = false;      // only meaningful for ObjectList fields
  std::optional<double> min;  // Int/Double; Duration in seconds
  std::optional<double> max;
  std::vector<std::string> choices;  // Enum
  std::vector<OptionSpec> fields;    // ObjectList: the schema of one element
};

// Builders that read like the schema table in the man page.
namespace opt {
OptionSpec boolean(std::string name, bool def, std::string doc);
OptionSpec integer(std::string name, std::int64_t def, std::int64_t min, std::int64_t max,
                   std::string doc);
OptionSpec number(std::string name, double def, double min, double max, std::string doc);
OptionSpec duration(std::string name, Duration def, Duration min, Duration max, std::string doc);
OptionSpec string(std::string name, std::string def, std::string doc);
OptionSpec enumeration(std::string name, std::string def, std::vector<std::string> choices,
                       std::string doc);
OptionSpec regex(std::string name, std::string def, std::string doc);
OptionSpec stringList(std::string name, StringList def, std::string doc);
OptionSpec stringMap(std::string name, std::string doc);
OptionSpec objectList(std::string name, std::vector<OptionSpec> fields, std::string doc);
// A field of an ObjectList element that must be given.
OptionSpec required(OptionSpec spec);
// A field with no default that may be left out.
OptionSpec optional(OptionSpec spec);
}  // namespace opt

// A validated config section: every key of its schema that has a default is present.
// Thread-safety: immutable after construction; safe to read from any thread.
struct ConfigSection {
  std::string path;  // e.g. "collectors.smart" or "collectors.probe.targets[2]"
  std::map<std::string, ConfigValue> values;

  bool has(const std::string& key) const { return values.count(key) != 0; }
  bool getBool(const std::string& key) const { return get<bool>(key); }
  std::int64_t getInt(const std::string& key) const { return get<std::int64_t>(key); }
  double getDouble(const std::string& key) const { return get<double>(key); }
  Duration getDuration(const std::string& key) const { return get<Duration>(key); }
  const std::string& getString(const std::string& key) const { return get<std::string>(key); }
  const StringList& getStringList(const std::string& key) const { return get<StringList>(key); }
  const StringMap& getStringMap(const std::string& key) const { return get<StringMap>(key); }
  const std::vector<ConfigSection>& getObjects(const std::string& key) const {
    return get<std::vector<ConfigSection>>(key);
  }
  std::string getStringOr(const std::string& key, const std::string& def) const {
    return has(key) ? getString(key) : def;
  }

  template <class T>
  const T& get(const std::string& key) const {
    auto it = values.find(key);
    if (it == values.end()) throw std::out_of_range(path + "." + key + " is not set");
    const T* v = std::get_if<T>(&it->second);
    if (v == nullptr) throw std::logic_error(path + "." + key + " has another type");
    return *v;
  }
};

// A section holding every default of the schema (what "no config file" means).
ConfigSection defaultsFor(const std::vector<OptionSpec>& schema, std::string path);

// "500ms", "30s", "5m", "2h", "1d", "1h30m" (Prometheus style). nullopt if malformed.
std::optional<Duration> parseDuration(std::string_view s);
std::string formatDuration(Duration d);

// Documentation helpers (man page, --help, docs/config.md).
std::string typeName(const OptionSpec& spec);
std::string formatValue(const ConfigValue& v);

}  // namespace foreshock
