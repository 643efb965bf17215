// The kmsg record parser and every matcher. The message texts follow the printk formats cited
// in collectors/kernel/kmsg_parse.cc; where a line was captured from a real kernel, the test
// says so.
#include "collectors/kernel/kmsg_parse.h"

#include <gtest/gtest.h>

#include "core/file_util.h"

namespace foreshock {
namespace {

// The one event a message reports (fails the test when there is not exactly one).
KernelEvent only(std::string_view message) {
  auto ev = classifyKernelMessage(message);
  EXPECT_EQ(ev.size(), 1u) << message;
  return ev.empty() ? KernelEvent{} : ev[0];
}

TEST(KmsgRecordParser, ReadsPrefixSequenceTimestampAndMessage) {
  // The first record of this machine's /dev/kmsg (captured with `head -c 600 /dev/kmsg`).
  auto r = parseKmsgRecord(
      "5,0,0,-;Linux version 6.18.44-fc-v1294 (builder@sandboxing) (gcc (GCC) 15.3.0, GNU ld "
      "(GNU Binutils) 2.46) #1 SMP PREEMPT_DYNAMIC @0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->facility, 0);
  EXPECT_EQ(r->level, 5);
  EXPECT_EQ(r->seq, 0u);
  EXPECT_EQ(r->timestamp_usec, 0u);
  EXPECT_TRUE(startsWith(r->message, "Linux version 6.18.44"));
  EXPECT_EQ(r->message.back(), '0');
}

TEST(KmsgRecordParser, SplitsFacilityFromLevelAndReadsContinuationLines) {
  auto r = parseKmsgRecord(
      "3,1234,987654321,-,caller=T42;nvme nvme0: I/O 5 QID 1 timeout, reset controller\n"
      " SUBSYSTEM=nvme\n DEVICE=c242:0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->facility, 0);
  EXPECT_EQ(r->level, 3);
  EXPECT_EQ(r->seq, 1234u);
  EXPECT_EQ(r->timestamp_usec, 987654321u);
  EXPECT_EQ(r->message, "nvme nvme0: I/O 5 QID 1 timeout, reset controller");
  EXPECT_EQ(r->subsystem, "nvme");
  EXPECT_EQ(r->device, "c242:0");

  auto user = parseKmsgRecord("11,7,5,-;foreshock-test: hello\n");  // LOG_USER (1) * 8 + 3
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->facility, 1);
  EXPECT_EQ(user->level, 3);
}

TEST(KmsgRecordParser, RejectsRecordsWithoutSeparatorOrNumbers) {
  auto no_semi = parseKmsgRecord("6,1,2,- no separator\n");
  ASSERT_FALSE(no_semi.ok());
  EXPECT_NE(no_semi.error().message.find("without ';'"), std::string::npos);
  auto short_header = parseKmsgRecord("6,1;message\n");
  ASSERT_FALSE(short_header.ok());
  EXPECT_NE(short_header.error().message.find("fewer than 4 fields"), std::string::npos);
  EXPECT_FALSE(parseKmsgRecord("x,1,2,-;message\n").ok());
  EXPECT_FALSE(parseKmsgRecord("6,one,2,-;message\n").ok());
  EXPECT_FALSE(parseKmsgRecord("").ok());
}

TEST(KmsgRecordParser, KeepsTheKernelsEscapesInTheMessage) {
  auto r = parseKmsgRecord("4,9,10,-;a\\x0ab tab\\x09end\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message, "a\\x0ab tab\\x09end");
}

TEST(BlockErrorMatcher, CountsRequestFailuresPerDiskInEveryKernelGeneration) {
  // 6.x: blk_print_req_error() without function prefix.
  auto e = only(
      "I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x80700 phys_seg 1 prio "
      "class 2");
  EXPECT_EQ(e.cls, KernelEventClass::kBlockIoError);
  EXPECT_EQ(e.device, "sda");
  // 5.x and 4.x prefixes.
  EXPECT_EQ(only("blk_update_request: I/O error, dev vdb, sector 0 op 0x0:(READ) flags 0x0 "
                 "phys_seg 1 prio class 0")
                .device,
            "vdb");
  EXPECT_EQ(only("print_req_error: critical medium error, dev sdc, sector 12345").device, "sdc");
  EXPECT_EQ(only("critical medium error, dev nvme0n1, sector 95243456 op 0x0:(READ) flags "
                 "0x0 phys_seg 13 prio class 2")
                .device,
            "nvme0n1");
  EXPECT_EQ(only("timeout error, dev sdd, sector 8 op 0x1:(WRITE) flags 0x0").device, "sdd");
}

TEST(BlockErrorMatcher, IgnoresStatusesThatAreNotTheDisksFault) {
  EXPECT_TRUE(classifyKernelMessage("operation not supported error, dev sda, sector 0 op "
                                    "0x3:(DISCARD) flags 0x800 phys_seg 1 prio class 0")
                  .empty());
  EXPECT_TRUE(classifyKernelMessage("nonblocking retry error, dev sda, sector 0").empty());
  // The page-cache echo of the same failure is not counted twice.
  EXPECT_TRUE(
      classifyKernelMessage("Buffer I/O error on dev sda1, logical block 0, async page read")
          .empty());
  EXPECT_TRUE(classifyKernelMessage("I/O error, dev ?, sector 0").empty());
}

TEST(FilesystemMatcher, CountsExt4ErrorsAndReadOnlyRemounts) {
  auto e = only(
      "EXT4-fs error (device sda1): ext4_lookup:1855: inode #2: comm ls: deleted "
      "inode referenced: 12");
  EXPECT_EQ(e.cls, KernelEventClass::kFsError);
  EXPECT_EQ(e.device, "sda1");
  EXPECT_EQ(e.detail, "ext4");
  auto std = only("EXT4-fs error (device dm-0) in ext4_reserve_inode_write:5732: IO failure");
  EXPECT_EQ(std.device, "dm-0");
  auto ro = only("EXT4-fs (vdb): Remounting filesystem read-only");
  EXPECT_EQ(ro.cls, KernelEventClass::kFsReadOnly);
  EXPECT_EQ(ro.device, "vdb");
  EXPECT_EQ(ro.detail, "ext4");
  EXPECT_EQ(only("EXT3-fs error (device sdb2): ext3_find_entry: reading directory").detail, "ext3");
  // This machine's boot log: a mount is not an error.
  EXPECT_TRUE(classifyKernelMessage("EXT4-fs (vda): mounted filesystem "
                                    "00000000-0000-0000-0000-000000000000 r/w without journal. "
                                    "Quota mode: none.")
                  .empty());
  EXPECT_TRUE(classifyKernelMessage("EXT4-fs warning (device sda1): ext4_dx_add_entry: "
                                    "Directory index full!")
                  .empty());
}

TEST(FilesystemMatcher, CountsXfsErrorsAndShutdowns) {
  auto e = only(
      "XFS (sdb1): metadata I/O error in \"xfs_imap_to_bp+0x5c/0xa0 [xfs]\" at "
      "daddr 0x40 len 32 error 5");
  EXPECT_EQ(e.cls, KernelEventClass::kFsError);
  EXPECT_EQ(e.device, "sdb1");
  EXPECT_EQ(e.detail, "xfs");
  EXPECT_EQ(only("XFS (dm-2): Metadata corruption detected at xfs_buf_ioend+0x51/0x240").cls,
            KernelEventClass::kFsError);
  auto sd = only(
      "XFS (sdb1): Log I/O error (0x2) detected at xlog_ioend_work+0x6e/0x70 "
      "(fs/xfs/xfs_log.c:1258).  Shutting down filesystem.");
  EXPECT_EQ(sd.cls, KernelEventClass::kFsReadOnly);
  EXPECT_EQ(sd.device, "sdb1");
  EXPECT_TRUE(classifyKernelMessage("XFS (sdb1): Mounting V5 Filesystem").empty());
  EXPECT_TRUE(classifyKernelMessage("XFS (sdb1): Ending clean mount").empty());
}

TEST(FilesystemMatcher, CountsBtrfsErrorsAndForcedReadOnly) {
  auto e = only(
      "BTRFS error (device sda1): bdev /dev/sda1 errs: wr 0, rd 1, flush 0, corrupt "
      "0, gen 0");
  EXPECT_EQ(e.cls, KernelEventClass::kFsError);
  EXPECT_EQ(e.device, "sda1");
  EXPECT_EQ(e.detail, "btrfs");
  auto ro = only("BTRFS info (device sda1 state EA): forced readonly");
  EXPECT_EQ(ro.cls, KernelEventClass::kFsReadOnly);
  EXPECT_EQ(ro.device, "sda1");
  EXPECT_TRUE(
      classifyKernelMessage("BTRFS info (device sda1): using crc32c (crc32c-intel) checksum")
          .empty());
}

TEST(MceMatcher, CountsLoggedEventsMachineCheckRecordsAndMemoryFailures) {
  auto logged = only("mce: [Hardware Error]: Machine check events logged");
  EXPECT_EQ(logged.cls, KernelEventClass::kMce);
  EXPECT_EQ(logged.detail, "logged");
  // __print_mce() prints corrected records too (no mcelog/rasdaemon): the UC bit decides.
  // 0x9000000000000000 is VAL|EN, the corrected error QEMU's `mce 0 1 0x900000000000009f`
  // injects; 0xb2... has UC (bit 61) set.
  EXPECT_EQ(only("mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 1: 900000000000009f").detail,
            "corrected");
  EXPECT_EQ(only("mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 1: b200000000000001").detail,
            "uncorrected");
  EXPECT_EQ(only("mce: [Hardware Error]: CPU 3: Machine Check Exception: 5 Bank 4: "
                 "FE00000000800400")
                .detail,
            "uncorrected");
  EXPECT_EQ(only("mce: [Hardware Error]: CPU 3: Machine Check: 0 Bank 4: truncated").detail,
            "uncorrected");
  EXPECT_EQ(only("Memory failure: 0x1f4e3c: recovery action for dirty LRU page: Recovered").detail,
            "memory_failure");
  // The rest of a print_mce() record, and thermal throttling, are not separate events.
  EXPECT_TRUE(classifyKernelMessage("mce: [Hardware Error]: TSC 0 ADDR 1234 MISC 0").empty());
  EXPECT_TRUE(classifyKernelMessage("mce: [Hardware Error]: PROCESSOR 0:50654 TIME 1700000000 "
                                    "SOCKET 0 APIC 0 microcode 2006e05")
                  .empty());
  EXPECT_TRUE(classifyKernelMessage("mce: CPU0: Core temperature above threshold, cpu clock "
                                    "throttled (total events = 1)")
                  .empty());
}

TEST(AerMatcher, ReadsSeverityAndSourceFromOldAndNewMessages) {
  // 4.19-5.x aer_isr_one_error().
  auto c = only("pcieport 0000:00:1c.0: AER: Corrected error received: 0000:00:1c.0");
  EXPECT_EQ(c.cls, KernelEventClass::kPcieAer);
  EXPECT_EQ(c.device, "0000:00:1c.0");
  EXPECT_EQ(c.detail, "corrected");
  auto nf = only(
      "pcieport 0000:00:03.0: AER: Uncorrected (Non-Fatal) error received: "
      "0000:01:00.0");
  EXPECT_EQ(nf.device, "0000:01:00.0");
  EXPECT_EQ(nf.detail, "nonfatal");
  EXPECT_EQ(
      only("pcieport 0000:00:03.0: AER: Uncorrected (Fatal) error received: 0000:02:00.0").detail,
      "fatal");
  // 6.x aer_print_port_info(), with "Multiple".
  auto m = only(
      "pcieport 0000:00:1c.0: AER: Multiple Uncorrectable (Non-Fatal) error message "
      "received from 0000:73:00.1");
  EXPECT_EQ(m.device, "0000:73:00.1");
  EXPECT_EQ(m.detail, "nonfatal");
  EXPECT_EQ(only("pcieport 0000:00:01.0: AER: Correctable error message received from "
                 "0000:00:01.0")
                .detail,
            "corrected");
  EXPECT_EQ(only("pcieport 0000:00:01.0: AER: Uncorrectable (Fatal) error message received "
                 "from 0000:05:00.0")
                .detail,
            "fatal");
  // 6.1 (Debian 12's kernel in the QEMU lab, tests/fixtures/kernel/pcie_aer_nonfatal.kmsg)
  // says "Uncorrected"/"Corrected" with the 6.x "error message received from" wording.
  auto lab = only(
      "pcieport 0000:00:05.0: AER: Uncorrected (Non-Fatal) error message received from "
      "0000:00:05.0");
  EXPECT_EQ(lab.device, "0000:00:05.0");
  EXPECT_EQ(lab.detail, "nonfatal");
  EXPECT_EQ(only("pcieport 0000:00:05.0: AER: Corrected error message received from "
                 "0000:01:00.0")
                .detail,
            "corrected");
  EXPECT_TRUE(classifyKernelMessage("pcieport 0000:00:05.0: AER: Uncorrected (Non-Fatal) "
                                    "error status unknown")
                  .empty());
  // Kernels before 4.19 named the source by requester id: the reporting port stands in.
  EXPECT_EQ(only("pcieport 0000:00:1c.0: AER: Corrected error received: id=00e0").device,
            "0000:00:1c.0");
}

TEST(AerMatcher, DoesNotCountTheDetailLinesOfTheSameError) {
  EXPECT_TRUE(classifyKernelMessage("pcieport 0000:00:1c.0: PCIe Bus Error: "
                                    "severity=Corrected, type=Physical Layer, (Receiver ID)")
                  .empty());
  EXPECT_TRUE(
      classifyKernelMessage("pcieport 0000:00:1c.0: AER: can't find device of ID00e0").empty());
  EXPECT_TRUE(classifyKernelMessage("brcmfmac 0000:73:00.0: AER: can't recover (no "
                                    "error_detected callback)")
                  .empty());
}

TEST(EdacMatcher, CountsTheErrorsOneMessageReportsPerController) {
  auto ce = only(
      "EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#0_DIMM#0 "
      "(channel:0 slot:0 page:0x12345 offset:0x0 grain:32 syndrome:0x0)");
  EXPECT_EQ(ce.cls, KernelEventClass::kEdac);
  EXPECT_EQ(ce.device, "mc0");
  EXPECT_EQ(ce.detail, "corrected");
  EXPECT_EQ(ce.count, 1u);
  auto ue = only("EDAC MC1: 3 UE memory read error on unknown memory (page:0x0)");
  EXPECT_EQ(ue.device, "mc1");
  EXPECT_EQ(ue.detail, "uncorrected");
  EXPECT_EQ(ue.count, 3u);
  EXPECT_EQ(only("EDAC MC0: CE page 0x1f4e3, offset 0x0, grain 8, syndrome 0x1, row 0").count, 1u);
  EXPECT_TRUE(classifyKernelMessage("EDAC MC0: Giving out device to module ie31200_edac "
                                    "controller IE31200: DEV 0000:00:00.0 (POLLED)")
                  .empty());
  EXPECT_TRUE(classifyKernelMessage("EDAC sbridge MC0: HANDLING MCE MEMORY ERROR").empty());
}

TEST(AtaMatcher, CountsResetsExceptionsAndLinkDownPerPort) {
  auto hr = only("ata1: hard resetting link");
  EXPECT_EQ(hr.cls, KernelEventClass::kAtaLinkReset);
  EXPECT_EQ(hr.device, "ata1");
  EXPECT_EQ(only("ata12.15: soft resetting link").device, "ata12");
  auto ex = only("ata3.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x6 frozen");
  EXPECT_EQ(ex.cls, KernelEventClass::kAtaException);
  EXPECT_EQ(ex.device, "ata3");
  auto down = only("ata2: SATA link down (SStatus 0 SControl 300)");
  EXPECT_EQ(down.cls, KernelEventClass::kAtaLinkDown);
  EXPECT_TRUE(
      classifyKernelMessage("ata1: SATA link up 1.5 Gbps (SStatus 113 SControl 300)").empty());
  EXPECT_TRUE(classifyKernelMessage("ata1.00: failed command: READ FPDMA QUEUED").empty());
  EXPECT_TRUE(classifyKernelMessage("atkbd serio0: Unknown key pressed").empty());
}

TEST(NvmeMatcher, CountsTimeoutsAndResetsPerController) {
  // Debian 12's 6.1 kernel in the QEMU lab (tests/fixtures/kernel/nvme_timeout_reset.kmsg):
  // the first timeout aborts the command, the second resets the controller.
  auto aborting = classifyKernelMessage("nvme nvme0: I/O 308 (I/O Cmd) QID 1 timeout, aborting");
  ASSERT_EQ(aborting.size(), 1u);
  EXPECT_EQ(aborting[0].cls, KernelEventClass::kNvmeTimeout);
  auto reset = classifyKernelMessage("nvme nvme0: I/O 308 QID 1 timeout, reset controller");
  ASSERT_EQ(reset.size(), 2u);
  EXPECT_EQ(reset[1].cls, KernelEventClass::kNvmeReset);
  EXPECT_TRUE(classifyKernelMessage("nvme nvme0: Abort status: 0x0").empty());
  EXPECT_TRUE(classifyKernelMessage("nvme nvme0: 1/0/0 default/read/poll queues").empty());
  // 6.x format (captured in a public kernel report), and the older one.
  auto both = classifyKernelMessage(
      "nvme nvme0: I/O tag 12 (400c) opcode 0x9 (Admin Cmd) QID 0 timeout, reset controller");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].cls, KernelEventClass::kNvmeTimeout);
  EXPECT_EQ(both[1].cls, KernelEventClass::kNvmeReset);
  EXPECT_EQ(both[0].device, "nvme0");
  auto abort = only("nvme nvme9: I/O 192 QID 5 timeout, aborting");
  EXPECT_EQ(abort.cls, KernelEventClass::kNvmeTimeout);
  EXPECT_EQ(abort.device, "nvme9");
  auto down = classifyKernelMessage(
      "nvme nvme0: controller is down; will reset: CSTS=0x3, PCI_STATUS=0x10");
  ASSERT_EQ(down.size(), 2u);
  EXPECT_EQ(down[1].cls, KernelEventClass::kNvmeReset);
  EXPECT_EQ(only("nvme nvme1: resetting controller").cls, KernelEventClass::kNvmeReset);
  EXPECT_TRUE(classifyKernelMessage("nvme nvme0: Abort status: 0x0").empty());
  EXPECT_TRUE(classifyKernelMessage("nvme nvme0: 4/0/0 default/read/poll queues").empty());
}

TEST(MdMatcher, CountsMembersFailedOutOfAnArray) {
  auto r1 = only(
      "md/raid1:md0: Disk failure on sdb1, disabling device.\\x0amd/raid1:md0: "
      "Operation continuing on 1 devices.");
  EXPECT_EQ(r1.cls, KernelEventClass::kMdDiskFailure);
  EXPECT_EQ(r1.device, "md0");
  EXPECT_EQ(only("md/raid:md127: Disk failure on sdc, disabling device.").device, "md127");
  EXPECT_EQ(only("md/raid10:md2: Disk failure on nvme1n1p2, disabling device.").device, "md2");
  EXPECT_TRUE(classifyKernelMessage("md/raid1:md0: active with 2 out of 2 mirrors").empty());
}

TEST(GhesMatcher, CountsFirmwareReportedErrorsOncePerRecordBySeverity) {
  // drivers/acpi/apei/ghes.c + drivers/firmware/efi/cper.c, one line per printk.
  EXPECT_TRUE(classifyKernelMessage("{1}[Hardware Error]: Hardware error from APEI Generic "
                                    "Hardware Error Source: 0")
                  .empty());
  auto c = only("{1}[Hardware Error]: event severity: corrected");
  EXPECT_EQ(c.cls, KernelEventClass::kFirmwareError);
  EXPECT_EQ(c.detail, "corrected");
  EXPECT_EQ(only("{12}[Hardware Error]: event severity: fatal").detail, "fatal");
  EXPECT_EQ(only("{2}[Hardware Error]: event severity: info").detail, "info");
  EXPECT_TRUE(classifyKernelMessage("{1}[Hardware Error]:  Error 0, type: corrected").empty());
  EXPECT_TRUE(classifyKernelMessage("{1}[Hardware Error]: event severity: bogus").empty());
}

TEST(KmsgRecordClassifier, IgnoresUserSpaceRecordsShapedLikeErrors) {
  // `echo '<3>I/O error, dev sda, sector 0' > /dev/kmsg` arrives as facility 1 (LOG_USER):
  // user space cannot write facility 0, so this is never a disk error.
  auto r = parseKmsgRecord("11,99,100,-;I/O error, dev sda, sector 0\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(classifyKmsgRecord(*r).empty());
  auto k = parseKmsgRecord("3,100,101,-;I/O error, dev sda, sector 0\n");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(classifyKmsgRecord(*k).size(), 1u);
}

TEST(KernelMessageClassifier, SanitisesAndBoundsDeviceLabels) {
  auto e = only("I/O error, dev s\"d{a}" + std::string(100, 'x') + ", sector 0");
  EXPECT_LE(e.device.size(), 48u);
  EXPECT_EQ(e.device.find('"'), std::string::npos);
  EXPECT_EQ(e.device.find('{'), std::string::npos);
}

TEST(KernelMessageClassifier, IgnoresOrdinaryMessages) {
  for (const char* m : {"Linux version 6.18.44", "e1000e 0000:00:19.0 eth0: NIC Link is Up",
                        "usb 1-1: new high-speed USB device number 2 using xhci_hcd", "", "a",
                        "random: crng init done", "EDAC", "nvme nvme", "ata", "md/raid1:"}) {
    EXPECT_TRUE(classifyKernelMessage(m).empty()) << m;
  }
}

}  // namespace
}  // namespace foreshock
