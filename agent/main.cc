// foreshock: hardware and network health agent. Command-line entry point.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "agent/app.h"
#include "agent/config.h"
#include "collectors/registry.h"
#include "core/log.h"

using namespace foreshock;

namespace {
// CLI11's Range lets NaN through (every comparison with it is false): numbers must be finite.
const CLI::Validator kFinite(
    [](std::string& s) -> std::string {
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (end == s.c_str() || !std::isfinite(v)) return "expected a finite number, got " + s;
      return {};
    },
    "FINITE");
}  // namespace

int main(int argc, char** argv) {
  Registry registry = builtinRegistry();
  CommandLine cl;

  CLI::App app{
      "foreshock: hardware and network health agent.\n"
      "Polls SMART, sensors, NIC counters and upstream reachability, exposes them as\n"
      "Prometheus metrics and warns before hardware or the network fails."};
  app.set_version_flag("--version", buildInfo().version);
  app.require_subcommand(0, 1);
  app.fallthrough();

  std::string config_file;
  app.add_option("--config", config_file,
                 "YAML config file (see foreshock.yml(5)); without it the built-in defaults apply")
      ->type_name("FILE");
  app.add_flag("--check-config", cl.check_config,
               "Validate the configuration, print every error with file, line and key, and exit "
               "(0 valid, 1 invalid)");
  std::string sysfs = "/sys", procfs = "/proc", devfs = "/dev", rootfs = "/";
  app.add_option("--path.sysfs", sysfs, "sysfs mount point")->capture_default_str();
  app.add_option("--path.procfs", procfs, "procfs mount point")->capture_default_str();
  app.add_option("--path.devfs", devfs, "devfs mount point")->capture_default_str();
  app.add_option("--path.rootfs", rootfs, "root filesystem (for /etc files)")
      ->capture_default_str();
  std::string log_level;
  app.add_option("--log.level", log_level,
                 "Log level: debug, info, warn, error (overrides log.level)");
  app.add_option("--web.listen-address", cl.listen_addresses,
                 "Address to serve on: host:port, [v6]:port or :port; repeatable; port 0 picks a "
                 "free port (overrides web.listen_addresses)")
      ->type_name("ADDR");
  std::string web_config_file;
  app.add_option("--web.config.file", web_config_file,
                 "Web config file in the Prometheus exporter-toolkit format: TLS "
                 "(tls_server_config), basic auth (basic_auth_users, bcrypt hashes); re-read on "
                 "SIGHUP (overrides web.config_file)")
      ->type_name("FILE");

  // --collector.NAME / --no-collector.NAME for every registered collector.
  std::vector<std::pair<std::string, std::pair<bool, bool>>> toggles;
  toggles.reserve(registry.list().size());
  for (const auto& c : registry.list()) toggles.push_back({c.name, {false, false}});
  for (auto& [name, flags] : toggles) {
    app.add_flag("--collector." + name, flags.first,
                 "Enable the " + name + " collector (default: " +
                     (registry.find(name)->enabled_by_default ? "enabled" : "disabled") + ")")
        ->group("Collectors");
    app.add_flag("--no-collector." + name, flags.second, "Disable the " + name + " collector")
        ->group("Collectors");
  }

  auto* serve =
      app.add_subcommand("serve", "Run the agent: collect on schedule and serve /metrics");
  auto* collect = app.add_subcommand(
      "collect", "Run every enabled collector once and print the Prometheus exposition");
  std::string output;
  collect
      ->add_option("--output,-o", output,
                   "Write to FILE atomically instead of stdout (for node_exporter's textfile "
                   "collector)")
      ->type_name("FILE");
  auto* check = app.add_subcommand("check", "Run every enabled collector once and report health");
  CheckOptions check_opts;
  check->add_option("--format", check_opts.format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  check
      ->add_option("--from-metrics", check_opts.from_metrics,
                   "Evaluate saved Prometheus expositions (e.g. from `foreshock collect`) instead "
                   "of collecting; repeatable, applied in order, each at its newest sample "
                   "timestamp (or now), so a sequence of scrapes gives the rules a trend")
      ->type_name("FILE");
  check
      ->add_option("--timeout", check_opts.timeout_seconds,
                   "Upper bound on the whole run in seconds; past it the check prints UNKNOWN "
                   "and exits 3")
      ->check(kFinite)
      ->capture_default_str();
  check
      ->add_option("--color", check_opts.color,
                   "Colour the text report: auto (TTY only), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  check->footer(
      "Exit codes (Nagios plugin convention): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no data, a "
      "collector failed with nothing worse found, bad input, or the time bound was hit).");
  auto* replay = app.add_subcommand(
      "replay", "Replay fleet data through the history store, disk rules and risk model");
  ReplayArgs replay_args;
  replay
      ->add_option("--backblaze", replay_args.backblaze,
                   "Backblaze Drive Stats daily CSV (reduced or full schema, gzip or plain, any "
                   "row order); repeatable")
      ->required()
      ->type_name("FILE");
  replay->add_option("--output,-o", replay_args.output, "Write the CSV to FILE instead of stdout")
      ->type_name("FILE");
  replay
      ->add_option("--alarm", replay_args.alarm,
                   "What counts as the alarm: model (the agent's \"disk will fail\" alert), "
                   "smart (the drive's own verdict), raw-nonzero (5/187/188/197/198 raw > 0), "
                   "increase-7d (any 7-day increase of 5/187/197/198)")
      ->check(CLI::IsMember({"model", "smart", "raw-nonzero", "increase-7d"}))
      ->capture_default_str();
  replay
      ->add_option("--risk-threshold", replay_args.risk_threshold,
                   "Risk operating point (0..1) instead of the compiled one")
      ->check(kFinite)
      ->check(CLI::Range(0.0, 1.0));
  replay->footer(
      "Output: CSV with header serial,failed,last_date,first_alarm_date,first_alarm_severity,"
      "max_risk; one line per drive. See docs/prediction.md.");
  auto* list = app.add_subcommand("list-collectors", "List the collectors and their defaults");
  std::string list_format = "text";
  list->add_option("--format", list_format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  auto* version = app.add_subcommand("version", "Print version and build information");
  auto* reference = app.add_subcommand(
      "config-reference", "Print the reference of every configuration key (markdown or man)");
  std::string ref_format = "markdown";
  reference->add_option("--format", ref_format, "markdown or man")
      ->check(CLI::IsMember({"markdown", "man"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (!config_file.empty()) cl.config_file = config_file;
  if (!log_level.empty()) cl.log_level = log_level;
  if (!web_config_file.empty()) cl.web_config_file = web_config_file;
  cl.paths = HostPaths{sysfs, procfs, devfs, rootfs};
  for (const auto& [name, flags] : toggles) {
    if (flags.first) cl.enable.push_back(name);
    if (flags.second) cl.disable.push_back(name);
  }
  if (auto l = log::parseLevel(log_level)) log::setLevel(*l);

  if (cl.check_config) {
    auto load = loadEffectiveConfig(cl, registry);
    if (load.config) {
      load.errors = checkWebConfig(*load.config);
      if (!load.errors.empty()) load.config.reset();
    }
    if (!load.config) {
      for (const auto& e : load.errors) std::fprintf(stderr, "%s\n", e.c_str());
      std::fprintf(stderr, "configuration invalid: %zu error(s)\n", load.errors.size());
      return 1;
    }
    std::printf("configuration valid: %s\n", load.config->source.c_str());
    return 0;
  }

  if (*version) {
    const auto& b = buildInfo();
    std::printf("foreshock %s (revision %s, %s)\n", b.version.c_str(), b.revision.c_str(),
                b.compiler.c_str());
    return 0;
  }
  if (*list) return runListCollectors(registry, list_format);
  if (*reference) {
    std::fputs(renderConfigReference(registry, ref_format).c_str(), stdout);
    return 0;
  }
  if (*collect) return runCollect(cl, registry, output);
  if (*check) return runCheck(cl, registry, check_opts);
  if (*replay) return runReplay(replay_args);
  if (*serve) return runServe(cl, registry);
  std::fputs(app.help().c_str(), stdout);
  return 0;
}
