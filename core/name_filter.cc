#include "core/name_filter.h"

namespace foreshock {

NamePattern::NamePattern(const std::string& pattern) : pattern_(pattern) {
  if (!pattern_.empty()) re_.emplace(pattern_, std::regex::ECMAScript | std::regex::optimize);
}

bool NamePattern::matches(std::string_view name) const {
  return re_ && std::regex_match(name.begin(), name.end(), *re_);
}

NameFilter::NameFilter(const std::string& include, const std::string& exclude)
    : include_(include), exclude_(exclude) {}

Result<NameFilter> NameFilter::fromConfig(const ConfigSection& section,
                                          const std::string& include_key,
                                          const std::string& exclude_key) {
  NameFilter f;
  for (const auto* key : {&include_key, &exclude_key}) {
    const std::string pattern = section.getStringOr(*key, "");
    try {
      (key == &include_key ? f.include_ : f.exclude_) = NamePattern(pattern);
    } catch (const std::regex_error& e) {
      return makeError(section.path + "." + *key + ": invalid regular expression \"" + pattern +
                       "\": " + e.what());
    }
  }
  return f;
}

}  // namespace foreshock
