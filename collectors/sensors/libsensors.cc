#include "collectors/sensors/libsensors.h"

#include <fcntl.h>
#include <sensors/error.h>
#include <sensors/sensors.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "core/file_util.h"
#include "core/log.h"

namespace foreshock::sensors {

namespace {

// libsensors reports parse errors through global function pointers without a user argument.
// They are only called from sensors_init(), which runs with LibSensors' lock held
// exclusively, so this plain global is never touched concurrently.
std::vector<std::pair<std::string, int>>* g_parse_errors = nullptr;

void onParseError(const char* err, const char* /*filename*/, int lineno) {
  if (g_parse_errors != nullptr) g_parse_errors->emplace_back(err ? err : "parse error", lineno);
}

void onParseErrorOld(const char* err, int lineno) {
  onParseError(err, nullptr, lineno);
}

[[noreturn]] void onFatalError(const char* proc, const char* err) {
  // libsensors only calls this when malloc fails; its default handler exits the process.
  log::error("sensors", std::string("libsensors fatal error in ") + (proc ? proc : "?") + ": " +
                            (err ? err : "?"));
  std::abort();
}

// Maps errno of a direct read of the attribute to a failure reason.
ReadFailure failureFromErrno(int err) {
  switch (err) {
    case EIO: return ReadFailure::kIoError;
    case ENODATA: return ReadFailure::kNoData;
    case EAGAIN: return ReadFailure::kAgain;
    case ENOENT:
    case ENODEV:
    case ENXIO: return ReadFailure::kVanished;
    default: return ReadFailure::kUnreadable;
  }
}

// Deliberately a plain blocking open/read, not openRegularFile(): it runs on the sensors'
// bounded worker (like libsensors' own fopen of the same file), which is what contains an
// attribute whose read never returns; the integration test stands one in with a FIFO.
// One bounded read of the attribute file (at most 127 bytes: any hwmon value fits), with EINTR
// retried. On an open or read error, the reason goes into `r` and nullopt comes back.
std::optional<std::string> readAttributeDirect(const std::string& path, SubfeatureReading& r) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    r.failure = failureFromErrno(err);
    r.error = path + ": " + std::strerror(err);
    return std::nullopt;
  }
  char buf[128];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof(buf) - 1);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) {
    r.failure = failureFromErrno(err);
    r.error = path + ": read: " + std::strerror(err);
    return std::nullopt;
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

// A direct read of the attribute after libsensors failed, only to learn why. It runs on the
// same bounded worker as the libsensors read.
void explainFailure(const std::string& path, SubfeatureReading& r) {
  auto text = readAttributeDirect(path, r);
  if (!text) return;
  r.failure = ReadFailure::kUnreadable;
  std::string shown(trim(*text).substr(0, 32));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  r.error = path + ": not a number: \"" + shown + "\"";
}

}  // namespace

LibSensors& LibSensors::instance() {
  // Never destroyed: an abandoned read may still be blocked inside libsensors at exit.
  static LibSensors* lib = new LibSensors();
  return *lib;
}

std::shared_ptr<const Inventory> LibSensors::inventory() const {
  std::shared_lock<std::shared_timed_mutex> l(mu_);
  return inventory_;
}

void LibSensors::buildInventory() {
  auto inv = std::make_shared<Inventory>();
  inv->generation = generation_;
  std::set<std::string> seen;
  int nr = 0;
  while (const sensors_chip_name* chip = sensors_get_detected_chips(nullptr, &nr)) {
    ChipInfo c;
    c.handle = chip;
    char buf[256];
    if (sensors_snprintf_chip_name(buf, sizeof(buf), chip) < 0) continue;
    c.name = buf;
    c.driver = chip->prefix ? chip->prefix : "";
    c.path = chip->path ? chip->path : "";
    const char* adapter = sensors_get_adapter_name(&chip->bus);
    c.adapter = adapter ? adapter : "";
    // libsensors names every virtual chip "<prefix>-virtual-0": two of the same driver would
    // collide and duplicate series. Disambiguate with the hwmon directory (rare, not stable).
    if (!seen.insert(c.name).second) {
      c.name += "-" + std::filesystem::path(c.path).filename().string();
      seen.insert(c.name);
    }
    int fnr = 0;
    while (const sensors_feature* feat = sensors_get_features(chip, &fnr)) {
      FeatureInfo f;
      f.name = feat->name ? feat->name : "";
      f.type = static_cast<int>(feat->type);
      f.handle = feat;
      int snr = 0;
      while (const sensors_subfeature* sf = sensors_get_all_subfeatures(chip, feat, &snr)) {
        SubfeatureInfo s;
        s.name = sf->name ? sf->name : "";
        s.number = sf->number;
        s.type = static_cast<int>(sf->type);
        s.readable = (sf->flags & SENSORS_MODE_R) != 0;
        f.subfeatures.push_back(std::move(s));
      }
      c.features.push_back(std::move(f));
    }
    inv->chips.push_back(std::move(c));
  }
  inventory_ = std::move(inv);
}

LibSensors::LoadResult LibSensors::load(const ConfBundle& bundle, bool force,
                                        Duration lock_timeout) {
  LoadResult out;
  std::unique_lock<std::shared_timed_mutex> l(mu_, std::defer_lock);
  if (!l.try_lock_for(lock_timeout)) {
    out.usable = initialized_;
    out.problems = last_problems_;
    out.init_error = last_init_error_;
    out.problems.push_back(
        "libsensors re-initialization deferred: a sensor read is still blocked in the kernel");
    return out;
  }
  if (!force && bundle.text == loaded_text_ && generation_ > 0) {
    // Unchanged configuration: keep the current state, including an earlier init failure
    // (retried only on a configuration change or a reload, so it is not logged every cycle).
    out.usable = initialized_;
    out.problems = last_problems_;
    out.init_error = last_init_error_;
    return out;
  }
  if (initialized_) sensors_cleanup();
  initialized_ = false;

  sensors_parse_error_wfn = &onParseError;
  sensors_parse_error = &onParseErrorOld;
  sensors_fatal_error = &onFatalError;

  auto init = [&](const std::string& text, std::vector<std::pair<std::string, int>>* errors) {
    // fmemopen rejects a zero-sized buffer; an empty configuration is one empty line.
    std::string data = text.empty() ? std::string("\n") : text;
    FILE* f = ::fmemopen(data.data(), data.size(), "r");
    if (f == nullptr) return -SENSORS_ERR_PARSE;
    g_parse_errors = errors;
    int rc = sensors_init(f);
    g_parse_errors = nullptr;
    std::fclose(f);
    return rc;
  };

  std::vector<std::pair<std::string, int>> errors;
  int rc = init(bundle.text, &errors);
  for (const auto& [msg, line] : errors) out.problems.push_back(bundle.locate(line) + ": " + msg);
  if (rc != 0) {
    out.problems.push_back(std::string("libsensors rejected the configuration (") +
                           sensors_strerror(rc) + "); reading the chips without it");
    std::vector<std::pair<std::string, int>> ignored;
    rc = init("", &ignored);
  }
  ++generation_;
  if (rc != 0) {
    out.init_error = std::string("libsensors could not initialize: ") + sensors_strerror(rc);
    inventory_ = std::make_shared<Inventory>();
    loaded_text_ = bundle.text;
    last_problems_ = out.problems;
    last_init_error_ = out.init_error;
    return out;
  }
  initialized_ = true;
  loaded_text_ = bundle.text;
  last_problems_ = out.problems;
  last_init_error_.clear();
  buildInventory();
  out.usable = true;
  out.reloaded = true;
  return out;
}

SubfeatureReading LibSensors::probe(const std::string& path, const SubfeatureInfo& sf) {
  SubfeatureReading r;
  r.attribute = sf.name;
  r.type = sf.type;
  (void)readAttributeDirect(path, r);  // only the failure matters; libsensors reads the value
  return r;
}

Result<std::string> LibSensors::label(const Inventory& inv, const ChipInfo& chip,
                                      const FeatureInfo& f) {
  std::shared_lock<std::shared_timed_mutex> l(mu_);
  if (!initialized_ || inv.generation != generation_)
    return makeError("libsensors was re-initialized");
  char* s = sensors_get_label(chip.handle, f.handle);
  if (s == nullptr) return makeError(chip.name + "/" + f.name + ": no label");
  std::string out(s);
  std::free(s);
  return out;
}

SubfeatureReading LibSensors::read(const Inventory& inv, const ChipInfo& chip,
                                   const SubfeatureInfo& sf) {
  SubfeatureReading r;
  r.attribute = sf.name;
  r.type = sf.type;
  std::shared_lock<std::shared_timed_mutex> l(mu_);
  if (!initialized_ || inv.generation != generation_) {
    r.failure = ReadFailure::kSkipped;
    r.error = "libsensors was re-initialized";
    return r;
  }
  double v = 0;
  int rc = sensors_get_value(chip.handle, sf.number, &v);
  if (rc == 0) {
    r.value = v;
    return r;
  }
  const std::string path = chip.path + "/" + sf.name;
  switch (-rc) {
    case SENSORS_ERR_DIV_ZERO:
    case SENSORS_ERR_RECURSION:
      r.failure = ReadFailure::kComputeError;
      r.error = std::string("sensors.conf compute statement: ") + sensors_strerror(rc);
      return r;
    case SENSORS_ERR_IO:
      r.failure = ReadFailure::kIoError;
      r.error = path + ": " + std::strerror(EIO);
      return r;
    default: explainFailure(path, r); return r;
  }
}

}  // namespace foreshock::sensors
