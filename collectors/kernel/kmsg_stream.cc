#include "collectors/kernel/kmsg_stream.h"

namespace foreshock {

void KmsgStream::feed(std::string_view chunk,
                      const std::function<void(std::string_view)>& on_record) {
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    const std::size_t nl = chunk.find('\n', pos);
    const std::string_view piece =
        chunk.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    // Keep at most max_record_ - 1 bytes of a line (room for its newline); cut the rest.
    if (partial_.size() + 1 < max_record_) {
      partial_.append(piece.substr(0, max_record_ - 1 - partial_.size()));
    }
    if (nl == std::string_view::npos) break;  // the line continues in the next chunk
    pos = nl + 1;
    // A whole line: a continuation of the current record, or the header of the next one.
    const bool continuation = !partial_.empty() && partial_[0] == ' ';
    if (!continuation && !pending_.empty()) {
      on_record(pending_);
      pending_.clear();
    }
    if (!partial_.empty() && pending_.size() + partial_.size() + 1 <= max_record_) {
      pending_.append(partial_);
      pending_.push_back('\n');
    }
    partial_.clear();
  }
  // A chunk that ends at a line end ends its record (one read of /dev/kmsg is one record; a
  // writer's record is one write).
  if (partial_.empty() && !chunk.empty() && chunk.back() == '\n') flush(on_record);
}

void KmsgStream::flush(const std::function<void(std::string_view)>& on_record) {
  if (!partial_.empty()) {
    pending_.append(partial_);
    partial_.clear();
  }
  if (!pending_.empty()) {
    on_record(pending_);
    pending_.clear();
  }
}

std::string KernelEventTally::boundedDevice(KernelEventClass cls, const std::string& device) {
  auto& seen = devices_[cls];
  if (seen.count(device) != 0) return device;
  if (seen.size() >= max_devices_) return "_other";
  seen.insert(device);
  return device;
}

void KernelEventTally::addRecord(const KmsgRecord& record) {
  ++records_;
  // The kernel numbers every record; a jump means the ring overwrote records before we read
  // them (read() says EPIPE once, then continues at the oldest record still there).
  if (have_seq_ && record.seq > last_seq_ + 1) lost_ += record.seq - last_seq_ - 1;
  if (!have_seq_ || record.seq > last_seq_) last_seq_ = record.seq;
  have_seq_ = true;
  if (record.facility != 0) return;
  ++kernel_records_;
  for (const auto& e : classifyKmsgRecord(record)) addEvent(e);
}

void KernelEventTally::addEvent(const KernelEvent& e) {
  counts_[Key{e.cls, boundedDevice(e.cls, e.device), e.detail}] += e.count;
}

void KernelEventTally::seed(KernelEventClass cls, const std::string& device,
                            const std::string& detail) {
  counts_.try_emplace(Key{cls, boundedDevice(cls, device), detail}, 0);
}

}  // namespace foreshock
