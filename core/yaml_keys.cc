#include "core/yaml_keys.h"

#include <map>

namespace foreshock {

void reportDuplicateYamlKeys(const YAML::Node& n, const DuplicateKeyReport& report,
                             const std::string& path) {
  if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i)
      reportDuplicateYamlKeys(n[i], report, path + "[" + std::to_string(i) + "]");
    return;
  }
  if (!n.IsMap()) return;
  std::map<std::string, int> first_line;
  for (const auto& kv : n) {
    std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    std::string key = path.empty() ? k : path + "." + k;
    auto [it, fresh] = first_line.try_emplace(k, kv.first.Mark().line + 1);
    if (!fresh) {
      report(kv.first, key,
             "duplicate key (first on line " + std::to_string(it->second) +
                 "); each key may appear once");
      continue;
    }
    reportDuplicateYamlKeys(kv.second, report, key);
  }
}

}  // namespace foreshock
