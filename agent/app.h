// The composition root: builds collectors from the registry and config, and runs the
// subcommands. Only the agent knows collectors, health and exporters together.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/scheduler.h"
#include "collectors/registry.h"
#include "core/host_paths.h"

namespace foreshock {

// Largest `check --from-metrics` file accepted; a larger one is an error naming the cap.
inline constexpr std::size_t kMaxFromMetricsFileBytes = std::size_t{64} << 20;

// Options that come from the command line and override the config file.
struct CommandLine {
  std::optional<std::string> config_file;
  bool check_config = false;
  HostPaths paths;
  std::optional<std::string> log_level;
  std::vector<std::string> enable;   // --collector.NAME
  std::vector<std::string> disable;  // --no-collector.NAME
  std::vector<std::string> listen_addresses;
  std::optional<std::string> web_config_file;  // --web.config.file
};

// Loads the config named on the command line (or the defaults) and applies flag overrides.
// Errors are printed by the caller, one per line.
ConfigLoad loadEffectiveConfig(const CommandLine& cl, const Registry& registry);

// Reads and checks the web config file named by web.config_file (TLS material included);
// the errors, if any. Only `serve` and --check-config need it: `collect` and `check` never
// read TLS keys, so they work for a user who cannot read them.
std::vector<std::string> checkWebConfig(const AgentConfig& cfg);

// Creates every enabled collector. A collector whose construction fails is replaced by one
// that reports that error on every run, so the failure is visible as
// foreshock_collector_success 0 and the rest keep running. Every collector gets the same
// neighbour table (`neighbors`, or a new one when null), which the caller may keep across
// builds.
std::vector<ScheduledCollector> buildCollectors(const AgentConfig& cfg, const Registry& registry,
                                                const HostPaths& paths,
                                                std::shared_ptr<NeighborTable> neighbors = nullptr);

int runServe(const CommandLine& cl, const Registry& registry);
int runCollect(const CommandLine& cl, const Registry& registry, const std::string& output);
struct CheckOptions {
  std::string format = "text";            // text or json
  std::vector<std::string> from_metrics;  // evaluate saved expositions instead of collecting
  double timeout_seconds = 60;            // hard bound on the whole run (exit 3 past it)
  std::string color = "auto";             // auto (TTY only), always, never
};
// `foreshock check`: collects once (or reads --from-metrics files, in order, each one
// observation at its newest sample timestamp), loads the history read-only, evaluates the
// rules and prints the report. Returns the Nagios exit code.
int runCheck(const CommandLine& cl, const Registry& registry, const CheckOptions& options);

struct ReplayArgs {
  std::vector<std::string> backblaze;  // CSV files (gzip or plain)
  std::string output;                  // "" or "-" for stdout
  std::string alarm = "model";         // model, smart, raw-nonzero, increase-7d
  double risk_threshold = -1;          // -1: the compiled operating point
};
int runReplay(const ReplayArgs& args);
int runListCollectors(const Registry& registry, const std::string& format);

}  // namespace foreshock
