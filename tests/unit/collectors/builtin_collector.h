// Creates a shipped collector by name through the built-in registry, the way the agent does,
// for the unit tests that drive a whole collector.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "collectors/registry.h"

namespace foreshock::test {

// Looks `name` up in builtinRegistry(), gives it a context with that name and its options'
// defaults (section collectors.<name>), lets `configure` change the context (option values,
// host paths, a whole different section), then runs the registry's factory. An unknown name
// is an error naming it. Not thread-safe: call from the test's thread.
inline Result<std::unique_ptr<Collector>> makeBuiltinCollector(
    const std::string& name,
    const std::function<void(const CollectorInfo&, CollectorContext&)>& configure = {}) {
  Registry registry = builtinRegistry();
  const CollectorInfo* info = registry.find(name);
  if (info == nullptr) return makeError("no built-in collector named " + name);
  CollectorContext ctx;
  ctx.name = name;
  ctx.config = defaultsFor(info->options, "collectors." + name);
  if (configure) configure(*info, ctx);
  return info->factory(ctx);
}

}  // namespace foreshock::test
