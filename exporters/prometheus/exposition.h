// Text exposition of a snapshot (prometheus-cpp's TextSerializer) and its gzip form, rendered
// at most once per snapshot generation so a scrape is a copy of bytes already made.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/snapshot.h"

namespace foreshock {

inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string renderText(const std::vector<prometheus::MetricFamily>& families);
Result<std::string> gzipCompress(std::string_view data);

// Rendered bodies of one snapshot generation.
struct RenderedSnapshot {
  std::uint64_t generation = 0;
  std::string text;
  std::string gzip;  // empty if compression failed (then plain text is served)
};

// Thread-safety: get() may be called from any thread; rendering happens under a mutex, once
// per generation, and the result is shared immutable.
class ExpositionCache {
 public:
  std::shared_ptr<const RenderedSnapshot> get(const SnapshotPtr& snapshot);

 private:
  std::mutex mu_;
  std::shared_ptr<const RenderedSnapshot> cached_;
  const Snapshot* cached_ptr_ = nullptr;
};

}  // namespace foreshock
