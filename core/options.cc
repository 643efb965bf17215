#include "core/options.h"

#include <cctype>
#include <cmath>
#include <sstream>

namespace foreshock {

namespace opt {
namespace {
OptionSpec base(std::string name, OptionType t, std::string doc) {
  OptionSpec s;
  s.name = std::move(name);
  s.type = t;
  s.doc = std::move(doc);
  return s;
}
}  // namespace

OptionSpec boolean(std::string name, bool def, std::string doc) {
  auto s = base(std::move(name), OptionType::kBool, std::move(doc));
  s.default_value = def;
  return s;
}
OptionSpec integer(std::string name, std::int64_t def, std::int64_t min, std::int64_t max,
                   std::string doc) {
  auto s = base(std::move(name), OptionType::kInt, std::move(doc));
  s.default_value = def;
  s.min = static_cast<double>(min);
  s.max = static_cast<double>(max);
  return s;
}
OptionSpec number(std::string name, double def, double min, double max, std::string doc) {
  auto s = base(std::move(name), OptionType::kDouble, std::move(doc));
  s.default_value = def;
  s.min = min;
  s.max = max;
  return s;
}
OptionSpec duration(std::string name, Duration def, Duration min, Duration max, std::string doc) {
  auto s = base(std::move(name), OptionType::kDuration, std::move(doc));
  s.default_value = def;
  s.min = static_cast<double>(min.count()) / 1000.0;
  s.max = static_cast<double>(max.count()) / 1000.0;
  return s;
}
OptionSpec string(std::string name, std::string def, std::string doc) {
  auto s = base(std::move(name), OptionType::kString, std::move(doc));
  s.default_value = std::move(def);
  return s;
}
OptionSpec enumeration(std::string name, std::string def, std::vector<std::string> choices,
                       std::string doc) {
  auto s = base(std::move(name), OptionType::kEnum, std::move(doc));
  s.default_value = std::move(def);
  s.choices = std::move(choices);
  return s;
}
OptionSpec regex(std::string name, std::string def, std::string doc) {
  auto s = base(std::move(name), OptionType::kRegex, std::move(doc));
  s.default_value = std::move(def);
  return s;
}
OptionSpec stringList(std::string name, StringList def, std::string doc) {
  auto s = base(std::move(name), OptionType::kStringList, std::move(doc));
  s.default_value = std::move(def);
  return s;
}
OptionSpec stringMap(std::string name, std::string doc) {
  auto s = base(std::move(name), OptionType::kStringMap, std::move(doc));
  s.default_value = StringMap{};
  return s;
}
OptionSpec objectList(std::string name, std::vector<OptionSpec> fields, std::string doc) {
  auto s = base(std::move(name), OptionType::kObjectList, std::move(doc));
  s.fields = std::move(fields);
  s.default_value = std::vector<ConfigSection>{};
  return s;
}
OptionSpec required(OptionSpec spec) {
  spec.required = true;
  spec.default_value.reset();
  return spec;
}
OptionSpec optional(OptionSpec spec) {
  spec.default_value.reset();
  return spec;
}
}  // namespace opt

ConfigSection defaultsFor(const std::vector<OptionSpec>& schema, std::string path) {
  ConfigSection s;
  s.path = std::move(path);
  for (const auto& spec : schema) {
    if (spec.default_value) s.values[spec.name] = *spec.default_value;
  }
  return s;
}

std::optional<Duration> parseDuration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s == "0") return Duration(0);
  long long total_ms = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    long long n = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      n = n * 10 + (s[i] - '0');
      if (n > 1'000'000'000LL) return std::nullopt;
      ++i;
    }
    std::size_t j = i;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
    std::string_view unit = s.substr(i, j - i);
    long long mult = 0;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1000;
    else if (unit == "m")
      mult = 60'000;
    else if (unit == "h")
      mult = 3'600'000;
    else if (unit == "d")
      mult = 86'400'000;
    else if (unit == "w")
      mult = 7 * 86'400'000LL;
    else
      return std::nullopt;
    total_ms += n * mult;
    any = true;
    i = j;
  }
  if (!any) return std::nullopt;
  return Duration(total_ms);
}

std::string formatDuration(Duration d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  struct U {
    long long ms;
    const char* name;
  };
  static const U units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& u : units) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + u.name;
      ms %= u.ms;
    }
  }
  return out;
}

std::string typeName(const OptionSpec& spec) {
  switch (spec.type) {
    case OptionType::kBool: return "boolean";
    case OptionType::kInt: return "integer";
    case OptionType::kDouble: return "number";
    case OptionType::kDuration: return "duration";
    case OptionType::kString: return "string";
    case OptionType::kEnum: {
      std::string s = "one of ";
      for (std::size_t i = 0; i < spec.choices.size(); ++i) {
        if (i) s += ", ";
        s += spec.choices[i];
      }
      return s;
    }
    case OptionType::kRegex: return "regular expression";
    case OptionType::kStringList: return "list of strings";
    case OptionType::kStringMap: return "map of strings";
    case OptionType::kObjectList: return "list of objects";
  }
  return "value";
}

std::string formatValue(const ConfigValue& v) {
  struct V {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      std::ostringstream o;
      o << d;
      return o.str();
    }
    std::string operator()(Duration d) const { return formatDuration(d); }
    std::string operator()(const std::string& s) const { return "\"" + s + "\""; }
    std::string operator()(const StringList& l) const {
      std::string s = "[";
      for (std::size_t i = 0; i < l.size(); ++i) s += (i ? ", \"" : "\"") + l[i] + "\"";
      return s + "]";
    }
    std::string operator()(const StringMap& m) const { return m.empty() ? "{}" : "{...}"; }
    std::string operator()(const std::vector<ConfigSection>& l) const {
      return l.empty() ? "[]" : "[...]";
    }
  };
  return std::visit(V{}, v);
}

}  // namespace foreshock
