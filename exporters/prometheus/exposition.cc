#include "exporters/prometheus/exposition.h"

#include <prometheus/text_serializer.h>
#include <zlib.h>

#include <sstream>

namespace foreshock {

std::string renderText(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

Result<std::string> gzipCompress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper; level 1: scrapes want speed, not ratio.
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return makeError("gzip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return makeError("gzip: deflate did not finish");
  out.resize(zs.total_out);
  return out;
}

std::shared_ptr<const RenderedSnapshot> ExpositionCache::get(const SnapshotPtr& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && cached_ptr_ == snapshot.get() && cached_->generation == snapshot->generation) {
    return cached_;
  }
  auto r = std::make_shared<RenderedSnapshot>();
  r->generation = snapshot->generation;
  r->text = renderText(snapshot->families);
  if (auto gz = gzipCompress(r->text)) r->gzip = std::move(*gz);
  cached_ = r;
  cached_ptr_ = snapshot.get();
  return cached_;
}

}  // namespace foreshock
