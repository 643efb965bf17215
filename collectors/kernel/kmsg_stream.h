// The state the kmsg reader thread keeps: a splitter that turns read() chunks into records and
// a bounded tally of the events they report. Pure (no I/O), so both are unit-tested directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "collectors/kernel/kmsg_parse.h"

namespace foreshock {

// Splits a byte stream into kmsg records. /dev/kmsg returns exactly one record per read(),
// but the collector also accepts a FIFO or regular file at <devfs>/kmsg (tests, replays), where
// one read may hold several records or half of one. A record is a header line plus the
// continuation lines (" KEY=value") after it; it is complete when the next header line starts,
// or when a chunk ends at a line end (a writer's record is one write). Lines longer than
// `max_record` are cut (and reported malformed by the parser if need be).
// Thread-safety: not thread-safe; owned by the reader thread.
class KmsgStream {
 public:
  explicit KmsgStream(std::size_t max_record = 64 * 1024) : max_record_(max_record) {}
  // Feeds one chunk; calls on_record for every complete record.
  void feed(std::string_view chunk, const std::function<void(std::string_view)>& on_record);
  // Emits a pending record (end of stream).
  void flush(const std::function<void(std::string_view)>& on_record);

 private:
  std::string pending_;  // complete lines of the current record
  std::string partial_;  // an incomplete line
  std::size_t max_record_;
};

// Counts events per class and labels, with at most `max_devices` distinct devices per class:
// further devices count under device "_other" so a flood of odd names cannot grow the output.
// Also counts records read, malformed records and lost messages (sequence gaps).
// Thread-safety: not thread-safe; the collector guards it with its mutex.
class KernelEventTally {
 public:
  explicit KernelEventTally(std::size_t max_devices = 64) : max_devices_(max_devices) {}

  using Key = std::tuple<KernelEventClass, std::string, std::string>;  // class, device, detail

  // One parsed record: counts it, its sequence gap (messages the ring overwrote before we
  // read them) and its events.
  void addRecord(const KmsgRecord& record);
  void addMalformed() { ++malformed_; }
  // Messages lost without a sequence number to measure them (EPIPE on a stream without seqs).
  void addLost(std::uint64_t n) { lost_ += n; }
  void addEvent(const KernelEvent& e);
  // Starts a series at zero (a known device), so the first error is an increase.
  void seed(KernelEventClass cls, const std::string& device, const std::string& detail = {});

  const std::map<Key, std::uint64_t>& counts() const { return counts_; }
  std::uint64_t records() const { return records_; }
  std::uint64_t malformed() const { return malformed_; }
  std::uint64_t lost() const { return lost_; }
  std::uint64_t kernelRecords() const { return kernel_records_; }

 private:
  std::string boundedDevice(KernelEventClass cls, const std::string& device);
  std::size_t max_devices_;
  std::map<Key, std::uint64_t> counts_;
  std::map<KernelEventClass, std::set<std::string>> devices_;
  std::uint64_t records_ = 0, kernel_records_ = 0, malformed_ = 0, lost_ = 0;
  bool have_seq_ = false;
  std::uint64_t last_seq_ = 0;
};

}  // namespace foreshock
