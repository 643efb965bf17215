// The history store: a bounded, persisted series of the counters that predict failure, per
// entity identity (disk serial, interface name + permanent MAC, sensor chip + label, probe
// target). Recent points are kept at full rate; older ones are folded into one point per UTC
// day; nothing older than the retention is kept; entity and point counts are capped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace foreshock {

// Largest history file the agent reads (checked with fstat before reading); a larger one is
// rejected as a whole, never read in part.
inline constexpr std::size_t kMaxHistoryFileBytes = std::size_t{512} << 20;

// How a series' values relate over time; decides what "increase" means.
enum class SeriesKind : std::uint8_t {
  kGauge = 0,    // a level (temperature, loss ratio); increase = positive steps
  kCounter = 1,  // a monotonic _total counter; a drop is a reset (Prometheus semantics: the
                 // value after the drop is the increase since the reset)
  kCount = 2,    // a device-kept count that may legitimately fall (SMART 197 pending sectors
                 // are remapped); a drop is never an increase
};

struct HistoryPoint {
  double t = 0;  // Unix seconds
  double v = 0;
};

struct HistoryLimits {
  std::size_t recent_points = 512;          // per series, at full rate
  double recent_seconds = 48 * 3600.0;      // older points are folded to daily
  double retention_seconds = 90 * 86400.0;  // nothing older is kept
  std::size_t max_entities = 1024;          // least recently seen entities are dropped beyond it
};

// One signal of one entity. Thread-safety: a value type.
class HistorySeries {
 public:
  SeriesKind kind = SeriesKind::kGauge;
  std::vector<HistoryPoint> daily;   // one point per UTC day, oldest first (last value of day
                                     // for counters, maximum for gauges)
  std::vector<HistoryPoint> recent;  // full rate, oldest first, after every daily point

  void add(double t, double v, const HistoryLimits& limits);
  void prune(double now, const HistoryLimits& limits);
  std::optional<HistoryPoint> latest() const;
  std::optional<HistoryPoint> oldest() const;
  // Increase over (now - window, now] per the kind; 0 with fewer than two points.
  double increase(double now, double window) const;
  // Number of counter resets (drops) seen over (now - window, now].
  int resets(double now, double window) const;
  // Least-squares slope in units per second over recent points in (now - window, now];
  // nullopt with fewer than `min_points` points or a span under a third of the window.
  std::optional<double> slope(double now, double window, std::size_t min_points = 4) const;
  // Median of the values in (now - window, now], optionally excluding the newest `skip_newest`.
  std::optional<double> median(double now, double window, std::size_t skip_newest = 0,
                               std::size_t min_points = 1) const;
  std::size_t size() const { return daily.size() + recent.size(); }

  // Visits every point oldest first.
  template <class F>
  void forEach(F&& f) const {
    for (const auto& p : daily) f(p);
    for (const auto& p : recent) f(p);
  }
};

struct HistoryEntity {
  std::string kind;  // "disk", "interface", "sensor", "probe"
  std::string id;    // the identity (serial, "eth0/aa:bb:..", "coretemp-isa-0000/Core 0", target)
  std::map<std::string, std::string> attrs;  // last known descriptive labels (device, model)
  double last_seen = 0;
  std::map<std::string, HistorySeries> series;
};

// A location (a device node like sda, an interface name) and the identity last seen there.
struct LocationBinding {
  std::string id;
  std::string previous_id;  // the identity before the last change ("" if none)
  double changed_at = 0;    // when the identity at this location last changed (0 never)
};

// Thread-safety: not thread-safe; the owner (HealthEngine) serialises access.
class HistoryStore {
 public:
  explicit HistoryStore(HistoryLimits limits = {}) : limits_(limits) {}

  // Appends a point. A point older than the series' newest is ignored (clock step back).
  void record(std::string_view kind, std::string_view id, std::string_view signal,
              SeriesKind series_kind, double t, double v);
  // Marks the entity seen and updates its descriptive labels.
  void touch(std::string_view kind, std::string_view id, double t,
             const std::map<std::string, std::string>& attrs = {});
  // Records that `id` is at `location` (e.g. serial X at sda). Returns the previous identity
  // when it changed (a disk swapped under the same device name), else nullopt.
  std::optional<std::string> bind(std::string_view kind, std::string_view location,
                                  std::string_view id, double t);
  const LocationBinding* binding(std::string_view kind, std::string_view location) const;
  // Moves entity `from` to the id `to`, with every location binding naming it, when `to` does
  // not exist yet (a key migration: disks were keyed by serial alone before model and WWN
  // joined the key). Returns whether it moved.
  bool rename(std::string_view kind, std::string_view from, std::string_view to);
  // Points the binding at `location` from id `from` to `to` without recording a change (the
  // same thing under a migrated key). Nothing happens when it names another id.
  void rebind(std::string_view kind, std::string_view location, std::string_view from,
              std::string_view to);

  const HistoryEntity* find(std::string_view kind, std::string_view id) const;
  const HistorySeries* series(std::string_view kind, std::string_view id,
                              std::string_view signal) const;

  // Drops points past retention and entities beyond the cap (least recently seen first).
  void prune(double now);
  std::size_t entityCount() const { return entities_.size(); }
  std::size_t pointCount() const;
  const HistoryLimits& limits() const { return limits_; }
  void clear();

  // Versioned, checksummed binary encoding (see docs/health.md "State file").
  std::string serialize() const;
  // Parses an encoding; the error names what is wrong (magic, version, length, checksum,
  // offset of a truncated field).
  static Result<HistoryStore> parse(std::string_view bytes, HistoryLimits limits = {});

  // Writes atomically (temp file, fsync, rename) to path.
  Status save(const std::filesystem::path& path) const;
  // Writes an encoding made by serialize() the same way (creating the directory first).
  static Status writeEncoded(const std::filesystem::path& path, std::string_view bytes);

  struct LoadOutcome {
    bool loaded = false;         // a valid file was read
    bool missing = false;        // there was no file (first start)
    std::string error;           // why the file was rejected ("" if not)
    std::string moved_aside_to;  // where the rejected file went
  };
  // Loads path into *this. A corrupt or truncated file is reported, renamed to
  // PATH.corrupt-<unix time> and the store starts empty; never fatal.
  LoadOutcome load(const std::filesystem::path& path);

 private:
  static std::string key(std::string_view kind, std::string_view id);
  // The entity `kind`/`id`, created empty on first use.
  HistoryEntity& entity(std::string_view kind, std::string_view id);
  HistoryLimits limits_;
  std::map<std::string, HistoryEntity, std::less<>> entities_;     // key kind \x1f id
  std::map<std::string, LocationBinding, std::less<>> locations_;  // key kind \x1f location
};

}  // namespace foreshock
