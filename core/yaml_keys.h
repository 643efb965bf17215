// Checks on YAML documents shared by every configuration file the agent reads (the main
// config and the web config): YAML says the keys of one map are unique, and yaml-cpp keeps
// both copies, so a second `interval:` or `cert_file:` would silently replace the first.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>

namespace foreshock {

// Called once for each repeated key: `key` is the repeated key's node (its Mark() gives the
// line), `path` its dotted place in the document ("collectors.smart.interval", list items as
// "[i]"), `message` the explanation ("duplicate key (first on line N); each key may appear
// once").
using DuplicateKeyReport =
    std::function<void(const YAML::Node& key, const std::string& path, const std::string& message)>;

// Walks `root` (maps and sequences, depth first, in document order) and reports every key that
// appears a second time in the same map; the subtree under a repeated key is not walked.
// `path` prefixes every reported path (empty at the top level).
// Thread-safety: a free function on caller-owned nodes; safe from any thread.
void reportDuplicateYamlKeys(const YAML::Node& root, const DuplicateKeyReport& report,
                             const std::string& path = "");

}  // namespace foreshock
