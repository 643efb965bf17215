#include "health/history.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <system_error>

#include "core/file_util.h"

namespace foreshock {

namespace {

constexpr double kDay = 86400.0;
constexpr char kMagic[8] = {'F', 'S', 'H', 'I', 'S', 'T', '\n', '\0'};
constexpr std::uint32_t kVersion = 1;
// Any field count above this is corruption, not data (bounds allocation on hostile input).
constexpr std::uint32_t kMaxCount = 1u << 20;

double dayOf(double t) {
  return std::floor(t / kDay);
}

// Folds `p` into the daily list: one point per UTC day.
void foldDaily(std::vector<HistoryPoint>& daily, SeriesKind kind, HistoryPoint p) {
  if (!daily.empty() && dayOf(daily.back().t) == dayOf(p.t)) {
    auto& d = daily.back();
    if (kind == SeriesKind::kGauge) {
      d.v = std::max(d.v, p.v);
      d.t = std::max(d.t, p.t);
    } else {
      d = p;  // counters keep the last value of the day
    }
    return;
  }
  daily.push_back(p);
}

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void f64(double d) {
    std::uint64_t v;
    std::memcpy(&v, &d, sizeof v);
    u64(v);
  }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t* v) {
    if (!need(1)) return false;
    *v = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool u32(std::uint32_t* v) {
    if (!need(4)) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i)
      *v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return true;
  }
  bool u64(std::uint64_t* v) {
    if (!need(8)) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i)
      *v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return true;
  }
  bool f64(double* d) {
    std::uint64_t v;
    if (!u64(&v)) return false;
    std::memcpy(d, &v, sizeof v);
    return std::isfinite(*d);
  }
  bool str(std::string* s) {
    std::uint32_t n;
    if (!u32(&n) || !need(n)) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool count(std::uint32_t* n) { return u32(n) && *n <= kMaxCount; }
  std::size_t pos() const { return pos_; }
  bool atEnd() const { return pos_ == in_.size(); }

 private:
  bool need(std::size_t n) const { return in_.size() - pos_ >= n; }
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

void HistorySeries::add(double t, double v, const HistoryLimits& limits) {
  if (!std::isfinite(t) || !std::isfinite(v)) return;
  if (auto l = latest(); l && t <= l->t) {
    if (t == l->t && !recent.empty()) recent.back().v = v;  // same instant: last write wins
    return;
  }
  recent.push_back({t, v});
  // Fold points that are too old for "recent", or beyond the per-series cap, into daily.
  std::size_t drop = 0;
  while (drop < recent.size() && (recent.size() - drop > limits.recent_points ||
                                  recent[drop].t <= t - limits.recent_seconds)) {
    foldDaily(daily, kind, recent[drop]);
    ++drop;
  }
  if (drop > 0) recent.erase(recent.begin(), recent.begin() + static_cast<std::ptrdiff_t>(drop));
}

void HistorySeries::prune(double now, const HistoryLimits& limits) {
  double cutoff = now - limits.retention_seconds;
  auto old = [&](const HistoryPoint& p) { return p.t < cutoff; };
  daily.erase(daily.begin(), std::find_if_not(daily.begin(), daily.end(), old));
  recent.erase(recent.begin(), std::find_if_not(recent.begin(), recent.end(), old));
}

std::optional<HistoryPoint> HistorySeries::latest() const {
  if (!recent.empty()) return recent.back();
  if (!daily.empty()) return daily.back();
  return std::nullopt;
}

std::optional<HistoryPoint> HistorySeries::oldest() const {
  if (!daily.empty()) return daily.front();
  if (!recent.empty()) return recent.front();
  return std::nullopt;
}

double HistorySeries::increase(double now, double window) const {
  double total = 0;
  bool have_prev = false;
  double prev = 0;
  double from = now - window;
  forEach([&](const HistoryPoint& p) {
    if (p.t > now) return;
    if (have_prev && p.t > from) {
      double step = p.v - prev;
      if (step >= 0) {
        total += step;
      } else if (kind == SeriesKind::kCounter) {
        total += p.v;  // reset: the counter restarted from zero
      }
    }
    prev = p.v;
    have_prev = true;
  });
  return total;
}

int HistorySeries::resets(double now, double window) const {
  int n = 0;
  bool have_prev = false;
  double prev = 0;
  forEach([&](const HistoryPoint& p) {
    if (have_prev && p.t > now - window && p.t <= now && p.v < prev) ++n;
    prev = p.v;
    have_prev = true;
  });
  return n;
}

std::optional<double> HistorySeries::slope(double now, double window,
                                           std::size_t min_points) const {
  double n = 0, st = 0, sv = 0, stt = 0, stv = 0, tmin = 0, tmax = 0;
  for (const auto& p : recent) {
    if (p.t <= now - window || p.t > now) continue;
    double t = p.t - now;  // centred near zero for precision
    if (n == 0) tmin = t;
    tmax = t;
    n += 1;
    st += t;
    sv += p.v;
    stt += t * t;
    stv += t * p.v;
  }
  if (n < static_cast<double>(min_points) || tmax - tmin < window / 3) return std::nullopt;
  double den = n * stt - st * st;
  if (den <= 0) return std::nullopt;
  return (n * stv - st * sv) / den;
}

std::optional<double> HistorySeries::median(double now, double window, std::size_t skip_newest,
                                            std::size_t min_points) const {
  std::vector<double> v;
  forEach([&](const HistoryPoint& p) {
    if (p.t > now - window && p.t <= now) v.push_back(p.v);
  });
  if (v.size() < skip_newest) return std::nullopt;
  v.resize(v.size() - skip_newest);
  if (v.size() < std::max<std::size_t>(min_points, 1)) return std::nullopt;
  std::sort(v.begin(), v.end());
  std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string HistoryStore::key(std::string_view kind, std::string_view id) {
  std::string k(kind);
  k.push_back('\x1f');
  k.append(id);
  return k;
}

HistoryEntity& HistoryStore::entity(std::string_view kind, std::string_view id) {
  auto k = key(kind, id);
  auto it = entities_.find(k);
  if (it == entities_.end()) {
    HistoryEntity e;
    e.kind = kind;
    e.id = id;
    it = entities_.emplace(std::move(k), std::move(e)).first;
  }
  return it->second;
}

void HistoryStore::record(std::string_view kind, std::string_view id, std::string_view signal,
                          SeriesKind series_kind, double t, double v) {
  auto& e = entity(kind, id);
  e.last_seen = std::max(e.last_seen, t);
  auto sit = e.series.find(std::string(signal));
  if (sit == e.series.end()) {
    sit = e.series.emplace(std::string(signal), HistorySeries{}).first;
    sit->second.kind = series_kind;
  }
  sit->second.add(t, v, limits_);
}

void HistoryStore::touch(std::string_view kind, std::string_view id, double t,
                         const std::map<std::string, std::string>& attrs) {
  auto& e = entity(kind, id);
  e.last_seen = std::max(e.last_seen, t);
  for (const auto& [a, v] : attrs) {
    if (!v.empty()) e.attrs[a] = v;
  }
}

std::optional<std::string> HistoryStore::bind(std::string_view kind, std::string_view location,
                                              std::string_view id, double t) {
  auto& b = locations_[key(kind, location)];
  if (b.id == id) return std::nullopt;
  std::optional<std::string> prev;
  if (!b.id.empty()) {
    prev = b.id;
    b.previous_id = b.id;
    b.changed_at = t;
  }
  b.id = id;
  return prev;
}

bool HistoryStore::rename(std::string_view kind, std::string_view from, std::string_view to) {
  if (from == to || entities_.count(key(kind, to)) != 0) return false;
  auto node = entities_.extract(key(kind, from));
  if (node.empty()) return false;
  node.key() = key(kind, to);
  node.mapped().id = to;
  entities_.insert(std::move(node));
  std::string prefix = key(kind, "");
  for (auto& [k, b] : locations_) {
    if (!k.starts_with(prefix)) continue;
    if (b.id == from) b.id = to;
    if (b.previous_id == from) b.previous_id = to;
  }
  return true;
}

void HistoryStore::rebind(std::string_view kind, std::string_view location, std::string_view from,
                          std::string_view to) {
  auto it = locations_.find(key(kind, location));
  if (it != locations_.end() && it->second.id == from) it->second.id = to;
}

const LocationBinding* HistoryStore::binding(std::string_view kind,
                                             std::string_view location) const {
  auto it = locations_.find(key(kind, location));
  return it == locations_.end() ? nullptr : &it->second;
}

const HistoryEntity* HistoryStore::find(std::string_view kind, std::string_view id) const {
  auto it = entities_.find(key(kind, id));
  return it == entities_.end() ? nullptr : &it->second;
}

const HistorySeries* HistoryStore::series(std::string_view kind, std::string_view id,
                                          std::string_view signal) const {
  const auto* e = find(kind, id);
  if (e == nullptr) return nullptr;
  auto it = e->series.find(std::string(signal));
  return it == e->series.end() ? nullptr : &it->second;
}

void HistoryStore::prune(double now) {
  for (auto it = entities_.begin(); it != entities_.end();) {
    auto& e = it->second;
    for (auto& [_, s] : e.series) s.prune(now, limits_);
    if (e.last_seen < now - limits_.retention_seconds) {
      it = entities_.erase(it);
    } else {
      ++it;
    }
  }
  if (entities_.size() > limits_.max_entities) {
    std::vector<std::pair<double, std::string>> by_age;
    for (const auto& [k, e] : entities_) by_age.emplace_back(e.last_seen, k);
    std::sort(by_age.begin(), by_age.end());
    std::size_t excess = entities_.size() - limits_.max_entities;
    for (std::size_t i = 0; i < excess; ++i) entities_.erase(by_age[i].second);
  }
  for (auto it = locations_.begin(); it != locations_.end();) {
    auto& b = it->second;
    bool known = entities_.count(it->first.substr(0, it->first.find('\x1f') + 1) + b.id) != 0;
    if (!known && b.changed_at < now - limits_.retention_seconds) {
      it = locations_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t HistoryStore::pointCount() const {
  std::size_t n = 0;
  for (const auto& [_, e] : entities_)
    for (const auto& [__, s] : e.series) n += s.size();
  return n;
}

void HistoryStore::clear() {
  entities_.clear();
  locations_.clear();
}

std::string HistoryStore::serialize() const {
  Writer p;
  p.u32(static_cast<std::uint32_t>(entities_.size()));
  for (const auto& [_, e] : entities_) {
    p.str(e.kind);
    p.str(e.id);
    p.f64(e.last_seen);
    p.u32(static_cast<std::uint32_t>(e.attrs.size()));
    for (const auto& [k, v] : e.attrs) {
      p.str(k);
      p.str(v);
    }
    p.u32(static_cast<std::uint32_t>(e.series.size()));
    for (const auto& [name, s] : e.series) {
      p.str(name);
      p.u8(static_cast<std::uint8_t>(s.kind));
      for (const auto* pts : {&s.daily, &s.recent}) {
        p.u32(static_cast<std::uint32_t>(pts->size()));
        for (const auto& pt : *pts) {
          p.f64(pt.t);
          p.f64(pt.v);
        }
      }
    }
  }
  p.u32(static_cast<std::uint32_t>(locations_.size()));
  for (const auto& [k, b] : locations_) {
    p.str(k);
    p.str(b.id);
    p.str(b.previous_id);
    p.f64(b.changed_at);
  }
  Writer out;
  out.raw(std::string_view(kMagic, sizeof kMagic));
  out.u32(kVersion);
  out.u64(p.out().size());
  out.raw(p.out());
  out.u32(static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(p.out().data()),
                                           static_cast<uInt>(p.out().size()))));
  return std::move(out.out());
}

Result<HistoryStore> HistoryStore::parse(std::string_view bytes, HistoryLimits limits) {
  if (bytes.size() < sizeof kMagic + 4 + 8 + 4)
    return makeError("file too short (" + std::to_string(bytes.size()) + " bytes) for a header");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return makeError("not a foreshock history file (bad magic)");
  Reader h(bytes.substr(sizeof kMagic));
  std::uint32_t version = 0;
  std::uint64_t len = 0;
  (void)h.u32(&version);
  (void)h.u64(&len);
  if (version != kVersion)
    return makeError("unsupported history format version " + std::to_string(version) +
                     " (this agent reads version " + std::to_string(kVersion) + ")");
  std::size_t header = sizeof kMagic + 12;
  if (len != bytes.size() - header - 4)
    return makeError("truncated or padded: header says " + std::to_string(len) +
                     " payload bytes, file has " +
                     std::to_string(bytes.size() >= header + 4 ? bytes.size() - header - 4 : 0));
  std::string_view payload = bytes.substr(header, len);
  Reader c(bytes.substr(header + len));
  std::uint32_t crc = 0;
  (void)c.u32(&crc);
  auto actual = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
  if (crc != actual) return makeError("checksum mismatch (file corrupted)");

  HistoryStore store(limits);
  Reader r(payload);
  auto bad = [&](const std::string& what) {
    return makeError("malformed " + what + " at payload offset " + std::to_string(r.pos()));
  };
  std::uint32_t n_ent = 0;
  if (!r.count(&n_ent)) return bad("entity count");
  for (std::uint32_t i = 0; i < n_ent; ++i) {
    HistoryEntity e;
    std::uint32_t n_attr = 0, n_series = 0;
    if (!r.str(&e.kind) || !r.str(&e.id) || !r.f64(&e.last_seen) || !r.count(&n_attr))
      return bad("entity");
    for (std::uint32_t a = 0; a < n_attr; ++a) {
      std::string k, v;
      if (!r.str(&k) || !r.str(&v)) return bad("entity label");
      e.attrs[k] = v;
    }
    if (!r.count(&n_series)) return bad("series count");
    for (std::uint32_t s = 0; s < n_series; ++s) {
      std::string name;
      std::uint8_t kind = 0;
      if (!r.str(&name) || !r.u8(&kind) || kind > 2) return bad("series header");
      HistorySeries hs;
      hs.kind = static_cast<SeriesKind>(kind);
      for (auto* pts : {&hs.daily, &hs.recent}) {
        std::uint32_t n_pts = 0;
        if (!r.count(&n_pts)) return bad("point count");
        for (std::uint32_t p = 0; p < n_pts; ++p) {
          HistoryPoint pt;
          if (!r.f64(&pt.t) || !r.f64(&pt.v)) return bad("point");
          if (!pts->empty() && pt.t < pts->back().t) return bad("point order");
          pts->push_back(pt);
        }
      }
      e.series[name] = std::move(hs);
    }
    store.entities_[key(e.kind, e.id)] = std::move(e);
  }
  std::uint32_t n_loc = 0;
  if (!r.count(&n_loc)) return bad("location count");
  for (std::uint32_t i = 0; i < n_loc; ++i) {
    std::string k;
    LocationBinding b;
    if (!r.str(&k) || !r.str(&b.id) || !r.str(&b.previous_id) || !r.f64(&b.changed_at))
      return bad("location");
    store.locations_[k] = std::move(b);
  }
  if (!r.atEnd()) return bad("trailing data");
  return store;
}

Status HistoryStore::save(const std::filesystem::path& path) const {
  return writeEncoded(path, serialize());
}

Status HistoryStore::writeEncoded(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return makeError(path.parent_path().string() +
                     ": cannot create state directory: " + ec.message());
  return writeFileAtomic(path, bytes);
}

HistoryStore::LoadOutcome HistoryStore::load(const std::filesystem::path& path) {
  LoadOutcome out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    out.missing = true;
    return out;
  }
  auto bytes = readFileCapped(path, kMaxHistoryFileBytes);
  std::string error;
  if (!bytes) {
    error = bytes.error().message;
  } else {
    auto parsed = parse(*bytes, limits_);
    if (parsed) {
      entities_ = std::move(parsed->entities_);
      locations_ = std::move(parsed->locations_);
      out.loaded = true;
      return out;
    }
    error = path.string() + ": " + parsed.error().message;
  }
  out.error = error;
  auto aside = path;
  aside += ".corrupt-" + std::to_string(static_cast<long long>(std::time(nullptr)));
  std::filesystem::rename(path, aside, ec);
  if (!ec) out.moved_aside_to = aside.string();
  clear();
  return out;
}

}  // namespace foreshock
