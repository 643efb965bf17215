// Name selection shared by every collector's include/exclude options: one anchored regex
// dialect for interface, chip, sensor and disk names, the same one the config validates.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include "core/options.h"
#include "core/result.h"

namespace foreshock {

// One name pattern: an ECMAScript regular expression that must match the WHOLE name ("eth"
// matches only "eth"; "eth.*" matches "eth0"). An empty pattern matches no name.
// Thread-safety: immutable after construction; matches() is safe from any thread.
class NamePattern {
 public:
  NamePattern() = default;
  // Throws std::regex_error on a malformed pattern (config validation rejects those first).
  explicit NamePattern(const std::string& pattern);

  bool matches(std::string_view name) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::optional<std::regex> re_;
};

// An include/exclude pair: a name is accepted when it matches `include` and not `exclude`
// (exclude wins). Both are NamePatterns, so an empty include accepts nothing and an empty
// exclude rejects nothing; ".*" includes everything.
// Thread-safety: immutable after construction; safe to share between threads.
class NameFilter {
 public:
  NameFilter() = default;
  // Throws std::regex_error on a malformed pattern.
  NameFilter(const std::string& include, const std::string& exclude);
  // The filter of `section`'s regex options `include_key` / `exclude_key`; an error naming the
  // key (section.path + "." + key) when a pattern does not compile.
  static Result<NameFilter> fromConfig(const ConfigSection& section,
                                       const std::string& include_key = "include",
                                       const std::string& exclude_key = "exclude");

  bool accepts(std::string_view name) const { return included(name) && !excluded(name); }
  bool included(std::string_view name) const { return include_.matches(name); }
  bool excluded(std::string_view name) const { return exclude_.matches(name); }

 private:
  NamePattern include_;
  NamePattern exclude_;
};

}  // namespace foreshock
