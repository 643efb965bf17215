#include "agent/app.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "agent/sd_notify.h"
#include "collectors/lldp/neighbor_table.h"
#include "core/file_util.h"
#include "core/log.h"
#include "exporters/prometheus/exposition.h"
#include "exporters/prometheus/exposition_parse.h"
#include "exporters/prometheus/http_server.h"
#include "exporters/report/report.h"
#include "health/backblaze.h"
#include "health/service.h"

namespace foreshock {

namespace {

class FailedCollector final : public Collector {
 public:
  explicit FailedCollector(std::string error) : error_(std::move(error)) {}
  Status collect(MetricSet&) override { return makeError(error_); }

 private:
  std::string error_;
};

}  // namespace

ConfigLoad loadEffectiveConfig(const CommandLine& cl, const Registry& registry) {
  ConfigLoad load;
  if (cl.config_file) {
    load = loadConfigFile(*cl.config_file, registry);
  } else {
    load.config = defaultConfig(registry);
  }
  if (!load.config) return load;
  AgentConfig& cfg = *load.config;
  for (const auto& name : cl.enable) {
    if (auto* c = cfg.collector(name)) c->enabled = true;
  }
  for (const auto& name : cl.disable) {
    if (auto* c = cfg.collector(name)) c->enabled = false;
  }
  if (!cl.listen_addresses.empty()) cfg.web.values["listen_addresses"] = cl.listen_addresses;
  for (const auto& addr : cfg.web.getStringList("listen_addresses")) {
    if (auto la = parseListenAddress(addr); !la) {
      load.errors.push_back(cfg.source + ": web.listen_addresses: " + la.error().message);
    }
  }
  if (cl.web_config_file) cfg.web.values["config_file"] = *cl.web_config_file;
  if (cl.log_level) {
    if (!log::parseLevel(*cl.log_level)) {
      load.errors.push_back("--log.level: expected debug, info, warn or error, got \"" +
                            *cl.log_level + "\"");
    } else {
      cfg.log.values["level"] = *cl.log_level;
    }
  }
  if (!load.errors.empty()) load.config.reset();
  return load;
}

std::vector<std::string> checkWebConfig(const AgentConfig& cfg) {
  if (!cfg.web.has("config_file")) return {};
  auto wc = loadWebConfigFile(cfg.web.getString("config_file"));
  if (wc) return {};
  // One entry per problem: the loader joins them with newlines.
  std::vector<std::string> errors;
  for (const auto& line : split(wc.error().message, '\n')) {
    if (!line.empty()) errors.push_back("web.config_file: " + line);
  }
  return errors;
}

std::vector<ScheduledCollector> buildCollectors(const AgentConfig& cfg, const Registry& registry,
                                                const HostPaths& paths,
                                                std::shared_ptr<NeighborTable> neighbors) {
  std::vector<ScheduledCollector> out;
  if (!neighbors) neighbors = std::make_shared<NeighborTable>();
  for (const auto& cc : cfg.collectors) {
    if (!cc.enabled) continue;
    const CollectorInfo* info = registry.find(cc.name);
    if (info == nullptr) continue;
    CollectorContext ctx;
    ctx.name = cc.name;
    ctx.paths = paths;
    ctx.config = cc.section;
    ctx.neighbors = neighbors;
    ScheduledCollector sc;
    sc.name = cc.name;
    sc.interval = cc.interval;
    sc.timeout = cc.timeout;
    std::string error;
    try {
      auto made = info->factory(ctx);
      if (made) {
        sc.collector = std::move(*made);
      } else {
        error = made.error().message;
      }
    } catch (const std::exception& e) {
      error = std::string("exception while starting: ") + e.what();
    }
    if (!sc.collector) {
      log::error(cc.name, "collector could not start: " + error);
      sc.collector = std::make_unique<FailedCollector>("collector could not start: " + error);
    }
    out.push_back(std::move(sc));
  }
  return out;
}

namespace {

void printErrors(const ConfigLoad& load) {
  for (const auto& e : load.errors) std::fprintf(stderr, "foreshock: %s\n", e.c_str());
}

void applyLogLevel(const AgentConfig& cfg) {
  if (auto l = log::parseLevel(cfg.log.getString("level"))) log::setLevel(*l);
}

HealthOptions healthOptions(const AgentConfig& cfg) {
  HealthOptions o;
  const auto& h = cfg.health;
  if (h.has("history_retention"))
    o.limits.retention_seconds =
        std::chrono::duration<double>(h.getDuration("history_retention")).count();
  if (h.has("recent_points"))
    o.limits.recent_points = static_cast<std::size_t>(h.getInt("recent_points"));
  if (h.has("max_entities"))
    o.limits.max_entities = static_cast<std::size_t>(h.getInt("max_entities"));
  if (h.has("record_interval"))
    o.record_interval_seconds =
        std::chrono::duration<double>(h.getDuration("record_interval")).count();
  if (h.has("disk_risk_warning") && h.getDouble("disk_risk_warning") >= 0) {
    o.risk_warning = h.getDouble("disk_risk_warning");
    o.risk_critical = std::max(o.risk_critical, o.risk_warning);
  }
  for (auto [key, field] : {std::pair{"disk_temperature_warning", &o.disk_temperature_warning},
                            {"disk_temperature_critical", &o.disk_temperature_critical},
                            {"ssd_temperature_warning", &o.ssd_temperature_warning},
                            {"ssd_temperature_critical", &o.ssd_temperature_critical}}) {
    if (h.has(key)) *field = h.getDouble(key);
  }
  return o;
}

std::filesystem::path historyFile(const AgentConfig& cfg) {
  return std::filesystem::path(cfg.state.getString("directory")) / "history.bin";
}

HttpServerOptions webOptions(const AgentConfig& cfg) {
  HttpServerOptions o;
  o.listen_addresses = cfg.web.getStringList("listen_addresses");
  o.max_connections = static_cast<unsigned>(cfg.web.getInt("max_connections"));
  o.max_connections_per_ip = static_cast<unsigned>(cfg.web.getInt("max_connections_per_ip"));
  o.idle_timeout = cfg.web.getDuration("idle_timeout");
  o.request_timeout = cfg.web.getDuration("request_timeout");
  return o;
}

// The web config named by web.config_file (null when unset). Errors name the file.
Result<std::shared_ptr<const WebConfig>> loadWeb(const AgentConfig& cfg) {
  if (!cfg.web.has("config_file")) return std::shared_ptr<const WebConfig>();
  auto wc = loadWebConfigFile(cfg.web.getString("config_file"));
  if (!wc) return wc.error();
  return std::shared_ptr<const WebConfig>(std::make_shared<WebConfig>(std::move(*wc)));
}

std::string describeWeb(const std::shared_ptr<const WebConfig>& w) {
  if (!w) return "plain HTTP, no authentication";
  std::string d = w->tls ? "TLS" : "plain HTTP";
  d += w->basic_auth_users.empty()
           ? ", no authentication"
           : ", basic auth (" + std::to_string(w->basic_auth_users.size()) + " user(s))";
  if (w->tls && w->tls->client_auth != ClientAuth::kNoClientCert) d += ", client certificates";
  return d + " from " + w->source;
}

// Logs a failed notification once per kind of message, so a broken NOTIFY_SOCKET is visible
// but never floods the log.
void notifyOrLog(const SdNotifier& n, const std::string& msg) {
  if (auto st = n.notify(msg); !st) {
    static std::mutex mu;
    static std::set<std::string> logged;
    std::lock_guard<std::mutex> l(mu);
    std::string kind = msg.substr(0, msg.find('='));
    if (logged.insert(kind).second)
      log::warn("systemd", "sd_notify " + kind + ": " + st.error().message);
  }
}

// Wires a scheduler to systemd: READY=1 after its first complete collection, WATCHDOG=1 from
// its monitor loop while every runner keeps its schedule. A loop that stops (deadlock, a
// runner blocked for good) stops the pings, and systemd restarts the agent after WatchdogSec.
void attachSystemd(Scheduler* sched, const SdNotifier* notifier, WatchdogPinger* pinger,
                   std::string ready_status) {
  if (!notifier->enabled()) return;
  sched->setReadyHook(
      [notifier, ready_status] { notifyOrLog(*notifier, "READY=1\nSTATUS=" + ready_status); });
  if (pinger == nullptr) return;
  auto stalled = std::make_shared<bool>(false);
  sched->setTickHook([sched, pinger, stalled] {
    std::string why;
    if (!sched->progressing(&why)) {
      if (!*stalled)
        log::error("agent",
                   "scheduler stalled (" + why + "); withholding the systemd watchdog ping");
      *stalled = true;
      return;
    }
    if (*stalled) log::info("agent", "scheduler progressing again; watchdog pings resume");
    *stalled = false;
    pinger->tick(std::chrono::steady_clock::now());
  });
}

// Routes each published snapshot through the health engine (when enabled).
void attachHealth(Scheduler& sched, HealthService* health) {
  if (health)
    sched.setPostProcessor([health](const Snapshot& snap) { return health->onSnapshot(snap); });
}

// What `serve` runs with, and the SIGHUP reload that replaces it. The store, the HTTP server
// and the health engine live for the whole run; a reload swaps the web settings and the
// collectors (a new scheduler that adopts the old one's data).
// Thread-safety: reload() runs on the signal thread only; ready() is called by HTTP threads
// and reads the current scheduler under a mutex.
class ServeReloader {
 public:
  struct Parts {
    const CommandLine* cl = nullptr;
    const Registry* registry = nullptr;
    const SdNotifier* notifier = nullptr;
    WatchdogPinger* pinger = nullptr;  // null without a systemd watchdog
    SnapshotStore* store = nullptr;
    HealthService* health = nullptr;           // null when the health engine is disabled
    std::shared_ptr<NeighborTable> neighbors;  // the LLDP table, kept across reloads
  };

  ServeReloader(Parts parts, AgentConfig cfg, std::unique_ptr<Scheduler> sched)
      : p_(parts), cfg_(std::move(cfg)), sched_(std::move(sched)), current_(sched_.get()) {}

  // Called once the server is up: the server to reconfigure and what it listens on.
  void setServer(HttpServer* server, std::string listening) {
    server_ = server;
    listening_ = std::move(listening);
  }

  bool ready() {
    std::lock_guard<std::mutex> l(mu_);
    return current_->ready();
  }

  Scheduler& scheduler() { return *sched_; }

  // SIGHUP: reads the configuration again. A main or web config with errors is rejected as a
  // whole and the running one stays; otherwise the web settings are swapped in and the
  // collectors replaced, their last data carried over.
  void reload() {
    log::info("agent", "SIGHUP: reloading configuration");
    notifyOrLog(*p_.notifier, "RELOADING=1\nSTATUS=reloading configuration");
    auto next = loadEffectiveConfig(*p_.cl, *p_.registry);
    if (!next.config) {
      for (const auto& e : next.errors) log::error("config", e);
      reject();
      return;
    }
    if (next.config->web.getStringList("listen_addresses") !=
        cfg_.web.getStringList("listen_addresses")) {
      log::warn("agent",
                "web.listen_addresses changed; the new addresses take effect after a restart");
    }
    auto next_web = loadWeb(*next.config);
    if (!next_web) {
      log::error("web", next_web.error().message);
      reject();
      return;
    }
    if (auto st = server_->reloadWebConfig(*next_web); !st) {
      log::error("web", st.error().message);
    } else {
      log::info("web", "web configuration reloaded: serving " + describeWeb(*next_web));
    }
    cfg_ = std::move(*next.config);
    applyLogLevel(cfg_);
    auto replacement = std::make_unique<Scheduler>(
        buildCollectors(cfg_, *p_.registry, p_.cl->paths, p_.neighbors), p_.store);
    replacement->adoptFrom(*sched_);
    attachHealth(*replacement, p_.health);
    sched_->stop();
    // The new scheduler gets the watchdog; READY=1 follows right after it starts (its data
    // carried over), not after its first collection.
    attachSystemd(replacement.get(), p_.notifier, p_.pinger, "serving metrics on " + listening_);
    replacement->setReadyHook(nullptr);
    replacement->start();
    {
      std::lock_guard<std::mutex> l(mu_);
      current_ = replacement.get();
    }
    sched_ = std::move(replacement);
    log::info("agent", "configuration reloaded from " + cfg_.source);
    notifyOrLog(*p_.notifier,
                "READY=1\nSTATUS=configuration reloaded; serving metrics on " + listening_);
  }

 private:
  void reject() {
    log::error("agent", "new configuration rejected; the running configuration stays in effect");
    notifyOrLog(*p_.notifier,
                "READY=1\nSTATUS=new configuration rejected; serving on " + listening_);
  }

  Parts p_;
  AgentConfig cfg_;
  std::unique_ptr<Scheduler> sched_;
  HttpServer* server_ = nullptr;
  std::string listening_;
  std::mutex mu_;
  Scheduler* current_;  // guarded by mu_
};

}  // namespace

int runServe(const CommandLine& cl, const Registry& registry) {
  // Signals are taken synchronously by this thread (sigwait); every thread started below
  // inherits the blocked mask, so no collector or HTTP thread is interrupted by them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto load = loadEffectiveConfig(cl, registry);
  if (!load.config) {
    printErrors(load);
    return 1;
  }
  AgentConfig cfg = std::move(*load.config);
  applyLogLevel(cfg);
  log::info("agent", "starting foreshock " + buildInfo().version + " (" + buildInfo().revision +
                         ") with config " + cfg.source);

  const SdNotifier notifier = SdNotifier::fromEnvironment();
  std::optional<WatchdogPinger> pinger;
  if (auto wd = watchdogFromEnvironment(static_cast<int>(::getpid()))) {
    pinger.emplace(&notifier, wd->pingInterval());
    log::info("systemd", "watchdog enabled: pinging every " +
                             std::to_string(wd->pingInterval().count() / 1000) + " ms");
  }
  WatchdogPinger* pinger_ptr = pinger ? &*pinger : nullptr;

  SnapshotStore store;
  // Neighbours heard so far survive a reload (the switch re-announces only every 30 s).
  const auto neighbors = std::make_shared<NeighborTable>();
  auto sched =
      std::make_unique<Scheduler>(buildCollectors(cfg, registry, cl.paths, neighbors), &store);
  // The health engine lives across config reloads (its history must not be lost); its
  // options are read once at start.
  std::unique_ptr<HealthService> health;
  if (cfg.health.getBool("enabled")) {
    health = std::make_unique<HealthService>(
        healthOptions(cfg), historyFile(cfg),
        std::chrono::duration<double>(cfg.state.getDuration("save_interval")).count());
    health->start();
  }
  attachHealth(*sched, health.get());
  auto web = loadWeb(cfg);
  if (!web) {
    log::error("web", web.error().message);
    return 1;
  }
  HttpServerOptions web_options = webOptions(cfg);
  web_options.web = *web;
  ServeReloader serving({&cl, &registry, &notifier, pinger_ptr, &store, health.get(), neighbors},
                        std::move(cfg), std::move(sched));
  auto server = HttpServer::start(web_options, &store, [&serving] { return serving.ready(); });
  if (!server) {
    log::error("web", server.error().message);
    return 1;
  }
  std::string listening;
  for (const auto& a : (*server)->boundAddresses()) {
    log::info("web", "listening on " + a);
    listening += (listening.empty() ? "" : " ") + a;
  }
  serving.setServer(server->get(), listening);
  notifyOrLog(notifier, "STATUS=first collection running; listening on " + listening);
  attachSystemd(&serving.scheduler(), &notifier, pinger_ptr, "serving metrics on " + listening);
  serving.scheduler().start();

  int rc = 0;
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      serving.reload();
      continue;
    }
    log::info("agent", std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                           ", shutting down");
    notifyOrLog(notifier, "STOPPING=1\nSTATUS=shutting down");
    break;
  }
  serving.scheduler().stop();
  server->reset();
  if (health) {
    health->stop();
    health->save();
  }
  log::info("agent", "stopped");
  return rc;
}

namespace {
Result<SnapshotPtr> collectOnce(const CommandLine& cl, const Registry& registry,
                                AgentConfig* out_cfg) {
  auto load = loadEffectiveConfig(cl, registry);
  if (!load.config) {
    std::string msg;
    for (const auto& e : load.errors) msg += (msg.empty() ? "" : "\n") + e;
    return makeError(msg);
  }
  applyLogLevel(*load.config);
  SnapshotStore store;
  Scheduler sched(buildCollectors(*load.config, registry, cl.paths), &store);
  sched.runOnce();
  if (out_cfg != nullptr) *out_cfg = std::move(*load.config);
  return store.load();
}
}  // namespace

int runCollect(const CommandLine& cl, const Registry& registry, const std::string& output) {
  AgentConfig cfg;
  auto snap = collectOnce(cl, registry, &cfg);
  if (!snap) {
    std::fprintf(stderr, "foreshock: %s\n", snap.error().message.c_str());
    return 1;
  }
  auto families = (*snap)->families;
  if (cfg.health.getBool("enabled")) {
    // The same findings the agent would export (history read-only, as in `check`), so a
    // textfile-collector setup sees foreshock_health_status too.
    HealthEngine engine(healthOptions(cfg));
    if (auto bytes = readFileCapped(historyFile(cfg), kMaxHistoryFileBytes)) {
      if (auto parsed = HistoryStore::parse(*bytes, healthOptions(cfg).limits)) {
        engine.replaceHistory(std::move(*parsed));
      }
    }
    MetricSet set;
    set.merge(families);
    HealthEngine::exportMetrics(engine.process(observe(families, (*snap)->timestamp)), set);
    families = set.take();
  }
  std::string text = renderText(families);
  if (output.empty() || output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  if (auto st = writeFileAtomic(output, text); !st) {
    std::fprintf(stderr, "foreshock: %s\n", st.error().message.c_str());
    return 1;
  }
  return 0;
}

namespace {

// Bounds the whole `check` run: a device that hangs past every deadline must not hang the
// operator's terminal or a Nagios plugin slot. Past the bound it prints UNKNOWN and exits 3.
class CheckWatchdog {
 public:
  explicit CheckWatchdog(double seconds) {
    thread_ = std::thread([this, seconds] {
      std::unique_lock<std::mutex> l(mu_);
      if (!cv_.wait_for(l, std::chrono::duration<double>(seconds), [this] { return done_; })) {
        std::fprintf(stdout, "UNKNOWN: foreshock check did not finish within %.0f seconds\n",
                     seconds);
        std::fflush(stdout);
        std::_Exit(3);
      }
    });
  }
  ~CheckWatchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

int runCheck(const CommandLine& cl, const Registry& registry, const CheckOptions& options) {
  CheckWatchdog watchdog(options.timeout_seconds);
  auto load = loadEffectiveConfig(cl, registry);
  if (!load.config) {
    printErrors(load);
    return 3;
  }
  AgentConfig cfg = std::move(*load.config);
  // check is read by a person: its stderr carries only warnings and errors unless
  // --log.level asks for more (a config file's log.level is meant for the agent's journal,
  // so it can make check quieter, never chattier).
  {
    auto configured = log::parseLevel(cfg.log.getString("level")).value_or(log::Level::Info);
    if (cl.log_level) {
      log::setLevel(log::parseLevel(*cl.log_level).value_or(log::Level::Warning));
    } else {
      log::setLevel(std::max(configured, log::Level::Warning));
    }
  }
  HealthEngine engine(healthOptions(cfg));
  ReportContext ctx;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) ctx.host = host;
  auto path = historyFile(cfg);
  // Read-only: check never writes the agent's state file (the running agent owns it); a
  // corrupt file is reported and left for the agent to move aside.
  std::error_code exists_ec;
  bool history_exists = std::filesystem::exists(path, exists_ec);
  auto bytes = history_exists ? readFileCapped(path, kMaxHistoryFileBytes)
                              : Result<std::string>(makeError(path.string() + ": missing"));
  if (history_exists && !bytes) {
    ctx.notes.push_back("history unreadable: " + bytes.error().message +
                        "; evaluated without history");
  } else if (bytes) {
    auto parsed = HistoryStore::parse(*bytes, healthOptions(cfg).limits);
    if (parsed) {
      engine.replaceHistory(std::move(*parsed));
      ctx.notes.push_back("history loaded from " + path.string());
    } else {
      ctx.notes.push_back("history at " + path.string() + " is unreadable (" +
                          parsed.error().message + "); evaluated without history");
    }
  } else {
    ctx.notes.push_back("no history at " + path.string() + "; 7-day trends need the agent running");
  }

  HealthResult result;
  if (!options.from_metrics.empty()) {
    for (const auto& file : options.from_metrics) {
      auto text = readFileCapped(file, kMaxFromMetricsFileBytes);
      if (!text) {
        std::fprintf(stderr, "foreshock: %s\n", text.error().message.c_str());
        return 3;
      }
      auto parsed = parseExposition(*text);
      if (!parsed) {
        std::fprintf(stderr, "foreshock: %s: %s\n", file.c_str(), parsed.error().message.c_str());
        return 3;
      }
      double t =
          parsed->max_timestamp_seconds > 0
              ? parsed->max_timestamp_seconds
              : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                    .count();
      ctx.time = t;
      result = engine.process(observe(parsed->families, t));
    }
  } else {
    SnapshotStore store;
    Scheduler sched(buildCollectors(cfg, registry, cl.paths), &store);
    sched.runOnce();
    auto snap = store.load();
    for (const auto& c : snap->collectors) {
      if (!c.success) ctx.collector_errors.push_back(c.name + ": " + c.last_error);
    }
    ctx.time = snap->timestamp;
    result = engine.process(observe(snap->families, snap->timestamp));
  }
  bool color = options.color == "always" || (options.color == "auto" && isatty(STDOUT_FILENO) != 0);
  std::string out = options.format == "json" ? renderReportJson(result, ctx)
                                             : renderReportText(result, ctx, color);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return reportExitCode(result, ctx);
}

int runReplay(const ReplayArgs& args) {
  auto policy = parseAlarmPolicy(args.alarm);
  if (!policy) {
    std::fprintf(stderr, "foreshock: --alarm: %s\n", policy.error().message.c_str());
    return 1;
  }
  BackblazeData data;
  for (const auto& f : args.backblaze) {
    if (auto st = readBackblazeCsv(f, &data); !st) {
      std::fprintf(stderr, "foreshock: %s\n", st.error().message.c_str());
      return 1;
    }
  }
  if (data.skipped_lines > 0)
    std::fprintf(stderr, "foreshock: skipped %llu malformed line(s)\n",
                 static_cast<unsigned long long>(data.skipped_lines));
  ReplayOptions ro;
  ro.policy = *policy;
  if (args.risk_threshold >= 0) {
    ro.health.risk_warning = args.risk_threshold;
    ro.health.risk_critical = std::max(ro.health.risk_critical, args.risk_threshold);
  }
  auto drives = replay(data, ro);
  if (args.output.empty() || args.output == "-") {
    std::ostringstream os;
    writeReplayCsv(drives, os);
    auto text = os.str();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::ostringstream os;
  writeReplayCsv(drives, os);
  if (auto st = writeFileAtomic(args.output, os.str()); !st) {
    std::fprintf(stderr, "foreshock: %s\n", st.error().message.c_str());
    return 1;
  }
  return 0;
}

int runListCollectors(const Registry& registry, const std::string& format) {
  if (format == "json") {
    std::printf("[");
    bool first = true;
    for (const auto& c : registry.list()) {
      std::string desc;
      for (char ch : c.description) {
        if (ch == '"' || ch == '\\') desc += '\\';
        if (static_cast<unsigned char>(ch) >= 0x20) desc += ch;
      }
      std::printf(
          "%s{\"name\":\"%s\",\"enabled_by_default\":%s,\"interval\":\"%s\",\"timeout\":\"%s\","
          "\"description\":\"%s\"}",
          first ? "" : ",", c.name.c_str(), c.enabled_by_default ? "true" : "false",
          formatDuration(c.default_interval).c_str(), formatDuration(c.default_timeout).c_str(),
          desc.c_str());
      first = false;
    }
    std::printf("]\n");
    return 0;
  }
  std::printf("%-10s %-8s %-9s %s\n", "NAME", "DEFAULT", "INTERVAL", "DESCRIPTION");
  for (const auto& c : registry.list()) {
    std::printf("%-10s %-8s %-9s %s\n", c.name.c_str(),
                c.enabled_by_default ? "enabled" : "disabled",
                formatDuration(c.default_interval).c_str(), c.description.c_str());
  }
  return 0;
}

}  // namespace foreshock
