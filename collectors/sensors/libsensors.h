// The one libsensors instance of the process. libsensors keeps its chip list and parsed
// configuration in process-global variables (sensors_init/sensors_cleanup), so every use goes
// through this class: one instance, a reader/writer lock (reads share it, (re)initialization
// takes it exclusively), and a re-initialization only when the sensors.conf text changes or a
// reload is asked for (collector start, SIGHUP).
//
// Note: libsensors always reads the live /sys (it checks that /sys is a sysfs mount and has no
// root option), so --path.sysfs does not move it; tests mount a fixture over /sys/class in a
// private mount namespace instead.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "collectors/sensors/parsers.h"
#include "collectors/sensors/sensor_model.h"
#include "core/clock.h"

struct sensors_chip_name;
struct sensors_feature;

namespace foreshock::sensors {

struct SubfeatureInfo {
  std::string name;  // sysfs attribute, e.g. "temp1_input"
  int number = 0;    // libsensors subfeature number (for sensors_get_value)
  int type = 0;      // sensors_subfeature_type
  bool readable = false;
};

struct FeatureInfo {
  std::string name;  // "temp1"
  int type = 0;      // sensors_feature_type
  const sensors_feature* handle = nullptr;
  std::vector<SubfeatureInfo> subfeatures;
};

struct ChipInfo {
  std::string name;     // stable name, e.g. "coretemp-isa-0000" (libsensors' own spelling)
  std::string driver;   // chip prefix, e.g. "coretemp"
  std::string adapter;  // "ISA adapter", "PCI adapter", "Virtual device", ...
  std::string path;     // the hwmon directory libsensors reads
  const sensors_chip_name* handle = nullptr;
  std::vector<FeatureInfo> features;
};

// What libsensors detected at its last initialization. Handles are valid only while
// `generation` is the library's current generation; LibSensors checks that on every use.
struct Inventory {
  std::uint64_t generation = 0;
  std::vector<ChipInfo> chips;
};

// Thread-safety: every method is safe from any thread. Reads take a shared lock for the
// duration of one libsensors call; load() takes the lock exclusively, waiting at most
// `lock_timeout` (a read blocked in the kernel holds its shared lock, and freeing libsensors'
// state under it would be a use-after-free when it returns).
class LibSensors {
 public:
  static LibSensors& instance();

  struct LoadResult {
    bool usable = false;    // an inventory is available (possibly loaded without the config)
    bool reloaded = false;  // libsensors was (re)initialized by this call
    // Problems with the configuration, "FILE:LINE: message".
    std::vector<std::string> problems;
    // Why libsensors itself could not start (e.g. /sys is not sysfs); empty when it did.
    std::string init_error;
  };

  // Initializes libsensors with `bundle` when not yet initialized, when the text differs from
  // the loaded one, or when `force` is set. sensors_init() returns 0 after some configuration
  // errors (the parser recovers from a bad line), so errors are captured through libsensors'
  // parse-error callback and returned with file and line. A configuration that libsensors
  // rejects outright is reported and libsensors is initialized without it, so the chips are
  // still read (without labels and compute statements).
  LoadResult load(const ConfBundle& bundle, bool force, Duration lock_timeout);

  // The current inventory (empty before the first successful load).
  std::shared_ptr<const Inventory> inventory() const;

  // The human label of a feature (sensors.conf label, the chip's <feature>_label file, or the
  // feature name). Reads a file: call it through a BoundedExecutor.
  Result<std::string> label(const Inventory& inv, const ChipInfo& chip, const FeatureInfo& f);

  // Reads the attribute file directly, without any lock, and says whether it can be read.
  // The collector calls it before read(): a driver that blocks then blocks here, where no
  // libsensors lock is held, so a blocked attribute never stops a sensors.conf reload. Most
  // drivers cache their registers for a second or more, so the second read is cheap.
  static SubfeatureReading probe(const std::string& path, const SubfeatureInfo& sf);

  // Reads one subfeature with sensors_get_value (compute statement applied). Reads a file:
  // call it through a BoundedExecutor. On failure the reason is refined with errno from a
  // second, direct read of the attribute (libsensors folds EAGAIN/ENODATA into one code).
  SubfeatureReading read(const Inventory& inv, const ChipInfo& chip, const SubfeatureInfo& sf);

 private:
  LibSensors() = default;
  void buildInventory();  // exclusive lock held

  mutable std::shared_timed_mutex mu_;
  bool initialized_ = false;
  std::string loaded_text_;
  std::vector<std::string> last_problems_;
  std::string last_init_error_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<const Inventory> inventory_ = std::make_shared<Inventory>();
};

}  // namespace foreshock::sensors
