#include "agent/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace foreshock {
namespace {

using namespace std::chrono_literals;

class NullCollector : public Collector {
 public:
  Status collect(MetricSet&) override { return Status::Ok(); }
};

Registry testRegistry() {
  Registry r;
  CollectorInfo a;
  a.name = "alpha";
  a.description = "test collector";
  a.default_interval = 15s;
  a.default_timeout = 5s;
  a.options = {
      opt::regex("include", ".*", "devices to include"),
      opt::integer("workers", 4, 1, 64, "parallel reads"),
      opt::enumeration("mode", "standby", {"never", "standby", "sleep"}, "power mode"),
      opt::stringList("devices", {}, "devices"),
      opt::objectList("targets",
                      {opt::required(opt::string("address", "", "address")),
                       opt::string("name", "", "name"), opt::stringMap("labels", "labels")},
                      "targets"),
  };
  a.factory = [](const CollectorContext&) -> Result<std::unique_ptr<Collector>> {
    return std::unique_ptr<Collector>(std::make_unique<NullCollector>());
  };
  EXPECT_TRUE(r.add(a).ok());
  CollectorInfo b = a;
  b.name = "beta";
  b.enabled_by_default = false;
  b.options.clear();
  EXPECT_TRUE(r.add(b).ok());
  return r;
}

std::vector<std::string> errorsOf(const std::string& yaml) {
  auto load = parseConfig(yaml, "f.yml", testRegistry());
  EXPECT_FALSE(load.config.has_value());
  return load.errors;
}

TEST(Registry, RejectsADuplicateName) {
  Registry r = testRegistry();
  CollectorInfo dup = *r.find("alpha");
  auto st = r.add(dup);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "collector registered twice: alpha");
}

TEST(Registry, ListsEntriesSortedByName) {
  Registry r = testRegistry();
  ASSERT_EQ(r.list().size(), 2u);
  EXPECT_EQ(r.list()[0].name, "alpha");
  EXPECT_EQ(r.list()[1].name, "beta");
  EXPECT_EQ(r.find("gamma"), nullptr);
}

TEST(BuiltinRegistry, HasTheSelfCollector) {
  Registry r = builtinRegistry();
  ASSERT_NE(r.find("self"), nullptr);
  for (const auto& c : r.list()) {
    EXPECT_FALSE(c.description.empty()) << c.name;
    EXPECT_LE(c.default_timeout, c.default_interval) << c.name;
  }
}

TEST(Config, NoFileMeansDefaults) {
  auto cfg = defaultConfig(testRegistry());
  EXPECT_EQ(cfg.source, "<built-in defaults>");
  EXPECT_TRUE(cfg.collector("alpha")->enabled);
  EXPECT_FALSE(cfg.collector("beta")->enabled);
  EXPECT_EQ(cfg.collector("alpha")->interval, 15s);
  EXPECT_EQ(cfg.web.getStringList("listen_addresses"), StringList{":19100"});
  EXPECT_EQ(cfg.state.getString("directory"), "/var/lib/foreshock");
}

TEST(Config, EmptyFileMeansDefaults) {
  auto load = parseConfig("", "f.yml", testRegistry());
  ASSERT_TRUE(load.config.has_value());
  EXPECT_EQ(load.config->source, "f.yml");
}

TEST(Config, AppliesEveryKindOfValue) {
  auto load = parseConfig(R"(collectors:
  alpha:
    interval: 1m
    timeout: 30s
    workers: 8
    mode: never
    include: "^sd[a-z]$"
    devices: [sda, sdb]
    targets:
      - address: 10.0.0.1
        labels: {site: lab}
  beta:
    enabled: true
web:
  listen_addresses: ["127.0.0.1:0", "[::1]:0"]
log:
  level: debug
)",
                          "f.yml", testRegistry());
  ASSERT_TRUE(load.config.has_value()) << load.errors[0];
  const auto& a = *load.config->collector("alpha");
  EXPECT_EQ(a.interval, 60s);
  EXPECT_EQ(a.timeout, 30s);
  EXPECT_EQ(a.section.getInt("workers"), 8);
  EXPECT_EQ(a.section.getString("mode"), "never");
  EXPECT_EQ(a.section.getStringList("devices").size(), 2u);
  ASSERT_EQ(a.section.getObjects("targets").size(), 1u);
  EXPECT_EQ(a.section.getObjects("targets")[0].getString("address"), "10.0.0.1");
  EXPECT_EQ(a.section.getObjects("targets")[0].getStringMap("labels").at("site"), "lab");
  EXPECT_TRUE(load.config->collector("beta")->enabled);
  EXPECT_EQ(load.config->log.getString("level"), "debug");
}

TEST(Config, UnknownTopLevelKeyNamesFileLineAndKnownKeys) {
  EXPECT_EQ(errorsOf("web: {}\nwbe: {}\n"),
            std::vector<std::string>{
                "f.yml:2: wbe: unknown key (known keys: collectors, web, state, log, health)"});
}

TEST(Config, UnknownCollectorKeyIsAnError) {
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    intervl: 5s\n"),
            std::vector<std::string>{
                "f.yml:3: collectors.alpha.intervl: unknown key (known keys: enabled, interval, "
                "timeout, include, workers, mode, devices, targets)"});
}

TEST(Config, UnknownCollectorIsAnError) {
  EXPECT_EQ(errorsOf("collectors:\n  gamma: {}\n"),
            std::vector<std::string>{
                "f.yml:2: collectors.gamma: unknown collector (known: alpha, beta)"});
}

TEST(Config, WrongTypesAreErrors) {
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    enabled: yes please\n"),
            std::vector<std::string>{
                "f.yml:3: collectors.alpha.enabled: expected true or false, got \"yes please\""});
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    interval: fast\n"),
            std::vector<std::string>{"f.yml:3: collectors.alpha.interval: expected a duration such "
                                     "as 500ms, 30s, 5m or 1h, got \"fast\""});
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    workers: many\n"),
            std::vector<std::string>{
                "f.yml:3: collectors.alpha.workers: expected an integer, got \"many\""});
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    devices: sda\n"),
            std::vector<std::string>{
                "f.yml:3: collectors.alpha.devices: expected a list of strings, got \"sda\""});
  EXPECT_EQ(errorsOf("web: [1, 2]\n"),
            std::vector<std::string>{"f.yml:1: web: expected a map of keys, got a list"});
}

TEST(Config, OutOfRangeValuesAreErrors) {
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    workers: 0\n"),
            std::vector<std::string>{
                "f.yml:3: collectors.alpha.workers: 0 is out of range (minimum 1, maximum 64)"});
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    interval: 500ms\n"),
            std::vector<std::string>{"f.yml:3: collectors.alpha.interval: 500ms is out of range "
                                     "(minimum 1s, maximum 7d)"});
}

TEST(Config, EnumAndRegexAreValidated) {
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    mode: deep\n"),
            std::vector<std::string>{"f.yml:3: collectors.alpha.mode: expected one of never, "
                                     "standby, sleep, got \"deep\""});
  auto errs = errorsOf("collectors:\n  alpha:\n    include: \"sd[a-\"\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(
      errs[0].rfind("f.yml:3: collectors.alpha.include: invalid regular expression \"sd[a-\": ", 0),
      0u)
      << errs[0];
}

TEST(Config, MissingRequiredFieldOfAListElementIsAnError) {
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    targets:\n      - name: gw\n"),
            std::vector<std::string>{
                "f.yml:4: collectors.alpha.targets[0].address: required key is missing"});
}

TEST(Config, TimeoutLongerThanIntervalIsAnError) {
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    interval: 10s\n    timeout: 20s\n"),
            std::vector<std::string>{"f.yml:3: collectors.alpha.timeout: 20s exceeds the interval "
                                     "10s; a run must end before the next starts"});
}

TEST(Config, YamlSyntaxErrorNamesLineAndColumn) {
  auto errs = errorsOf("collectors:\n  alpha: {interval: 5s\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind("f.yml:3:1: YAML syntax error: ", 0), 0u) << errs[0];
}

TEST(Config, ReportsEveryErrorNotJustTheFirst) {
  auto errs =
      errorsOf("collectors:\n  alpha:\n    workers: 0\n    mode: deep\nlog:\n  level: loud\n");
  EXPECT_EQ(errs.size(), 3u);
}

TEST(Config, NanAndInfinityAreNotNumbersInRange) {
  // Every comparison with NaN is false, so a range check alone lets it through.
  for (const char* v : {"nan", "NaN", "inf", "-inf", "infinity"}) {
    EXPECT_EQ(errorsOf(std::string("health:\n  disk_risk_warning: ") + v + "\n"),
              std::vector<std::string>{std::string("f.yml:2: health.disk_risk_warning: expected a "
                                                   "finite number, got \"") +
                                       v + "\""})
        << v;
  }
  auto ok = parseConfig("health:\n  disk_risk_warning: 0.25\n", "f.yml", testRegistry());
  ASSERT_TRUE(ok.config.has_value());
  EXPECT_EQ(ok.config->health.getDouble("disk_risk_warning"), 0.25);
}

TEST(Config, DuplicateKeysAreErrorsNamingBothLines) {
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    interval: 10s\n    interval: 20s\n"),
            std::vector<std::string>{"f.yml:4: collectors.alpha.interval: duplicate key (first on "
                                     "line 3); each key may appear once"});
  EXPECT_EQ(errorsOf("log:\n  level: info\nlog:\n  level: debug\n"),
            std::vector<std::string>{
                "f.yml:3: log: duplicate key (first on line 1); each key may appear once"});
  EXPECT_EQ(errorsOf("collectors:\n  alpha:\n    targets:\n      - address: 10.0.0.1\n"
                     "        address: 10.0.0.2\n"),
            std::vector<std::string>{"f.yml:5: collectors.alpha.targets[0].address: duplicate key "
                                     "(first on line 4); each key may appear once"});
}

TEST(Config, AFileOverTheFourMebibyteCapIsAnErrorNotATruncatedRead) {
  // The bad key sits past the cap: a truncated read would call this file valid.
  auto path = std::filesystem::temp_directory_path() /
              ("foreshock-config-cap-" + std::to_string(::getpid()) + ".yml");
  {
    std::ofstream f(path);
    f << "log:\n  level: info\n";
    std::string comment = "# " + std::string(1000, 'x') + "\n";
    while (static_cast<std::size_t>(f.tellp()) <= kMaxConfigFileBytes) f << comment;
    f << "bogus_key: 1\n";
  }
  auto load = loadConfigFile(path.string(), testRegistry());
  ASSERT_FALSE(load.config);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_NE(load.errors[0].find(path.string() + ": file is 4.0 MiB"), std::string::npos)
      << load.errors[0];
  EXPECT_NE(load.errors[0].find("over the 4 MiB limit"), std::string::npos) << load.errors[0];
  std::filesystem::remove(path);
}

TEST(Config, DiskTemperatureWarningAtOrAboveItsCriticalLimitIsAnErrorNamingBothKeys) {
  EXPECT_EQ(errorsOf("health:\n  disk_temperature_warning: 70\n  disk_temperature_critical: 60\n"),
            std::vector<std::string>{"f.yml:2: health.disk_temperature_warning: must be below "
                                     "health.disk_temperature_critical (70 >= 60)"});
  EXPECT_EQ(errorsOf("health:\n  ssd_temperature_warning: 80\n"),
            std::vector<std::string>{"f.yml:2: health.ssd_temperature_warning: must be below "
                                     "health.ssd_temperature_critical (80 >= 80)"});
  auto ok = parseConfig("health:\n  ssd_temperature_warning: 60\n", "f.yml", testRegistry());
  ASSERT_TRUE(ok.config.has_value());
  EXPECT_EQ(ok.config->health.getDouble("ssd_temperature_warning"), 60);
  EXPECT_EQ(ok.config->health.getDouble("disk_temperature_critical"), 60);
}

TEST(Config, MissingFileIsAnErrorNamingIt) {
  auto load = loadConfigFile("/nonexistent/foreshock.yml", testRegistry());
  ASSERT_FALSE(load.config);
  EXPECT_EQ(load.errors,
            std::vector<std::string>{"/nonexistent/foreshock.yml: No such file or directory"});
}

TEST(ConfigReference, DocumentsEveryKey) {
  auto md = renderConfigReference(testRegistry(), "markdown");
  for (const char* key :
       {"web.listen_addresses", "collectors.alpha.interval", "collectors.alpha.workers",
        "collectors.alpha.targets[].address", "collectors.beta.enabled", "log.level"}) {
    EXPECT_NE(md.find(std::string("`") + key + "`"), std::string::npos) << key;
  }
  auto man = renderConfigReference(testRegistry(), "man");
  EXPECT_NE(man.find(".B collectors.alpha.mode"), std::string::npos);
}

}  // namespace
}  // namespace foreshock
