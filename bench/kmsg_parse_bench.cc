// Cost per kernel log record of the kernel collector's reader: parse + classify + tally.
// The mix is what a kernel log mostly is (ordinary messages that match nothing) plus error
// records in the printk formats the matchers follow (collectors/kernel/kmsg_parse.cc).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "collectors/kernel/kmsg_parse.h"
#include "collectors/kernel/kmsg_stream.h"

namespace {

using namespace foreshock;

const std::vector<std::string>& ordinaryRecords() {
  static const std::vector<std::string> r = {
      "6,1000,5000000,-;e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow "
      "Control: None\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:19.0\n",
      "6,1001,5000100,-;usb 1-1: new high-speed USB device number 2 using xhci_hcd\n",
      "6,1002,5000200,-;EXT4-fs (vda): mounted filesystem 00000000-0000-0000-0000-000000000000 "
      "r/w without journal. Quota mode: none.\n",
      "5,1003,5000300,-;random: crng init done\n",
      "6,1004,5000400,-;ata1: SATA link up 6.0 Gbps (SStatus 133 SControl 300)\n",
      "6,1005,5000500,-;nvme nvme0: 4/0/0 default/read/poll queues\n",
      "4,1006,5000600,-;audit: type=1400 audit(1700000000.000:42): apparmor=\"STATUS\" "
      "operation=\"profile_load\" profile=\"unconfined\" name=\"foo\" pid=1234 "
      "comm=\"apparmor_parser\"\n",
      "6,1007,5000700,-;IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready\n",
  };
  return r;
}

const std::vector<std::string>& errorRecords() {
  static const std::vector<std::string> r = {
      "3,2000,6000000,-;I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x80700 phys_seg 1 "
      "prio class 2\n SUBSYSTEM=block\n DEVICE=b8:0\n",
      "3,2001,6000100,-;pcieport 0000:00:1c.0: AER: Correctable error message received from "
      "0000:01:00.0\n",
      "4,2002,6000200,-;nvme nvme0: I/O tag 12 (400c) opcode 0x9 (Admin Cmd) QID 0 timeout, "
      "reset controller\n",
      "4,2003,6000300,-;EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#0_DIMM#0 "
      "(channel:0 slot:0 page:0x12345 offset:0x0 grain:32 syndrome:0x0)\n",
  };
  return r;
}

void run(benchmark::State& state, const std::vector<std::string>& records) {
  KernelEventTally tally;
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& rec = records[i++ % records.size()];
    bytes += rec.size();
    auto r = parseKmsgRecord(rec);
    if (r) tally.addRecord(*r);
    benchmark::DoNotOptimize(tally.records());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_KmsgOrdinaryRecord(benchmark::State& state) {
  run(state, ordinaryRecords());
}
BENCHMARK(BM_KmsgOrdinaryRecord);

void BM_KmsgErrorRecord(benchmark::State& state) {
  run(state, errorRecords());
}
BENCHMARK(BM_KmsgErrorRecord);

void BM_KmsgStreamSplitManyRecordsPerChunk(benchmark::State& state) {
  std::string chunk;
  for (const auto& r : ordinaryRecords()) chunk += r;
  std::size_t n = 0;
  for (auto _ : state) {
    KmsgStream s;
    s.feed(chunk, [&](std::string_view rec) { n += rec.size(); });
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ordinaryRecords().size()));
}
BENCHMARK(BM_KmsgStreamSplitManyRecordsPerChunk);

}  // namespace

BENCHMARK_MAIN();
