// The kmsg record parser and every matcher. The message texts follow the printk formats cited
// in collectors/kernel/kmsg_parse.cc; where a line was captured from a real kernel, the test
// says so.
#include "collectors/kernel/kmsg_parse.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace foreshock {
namespace {

// The one event a message reports (fails the test when there is not exactly one).
KernelEvent only(std::string_view message) {
  auto ev = classifyKernelMessage(message);
  EXPECT_EQ(ev.size(), 1u) << message;
  return ev.empty() ? KernelEvent{} : ev[0];
}

// A record and every field its parse must yield.
struct Parsed {
  std::string_view record;
  int facility;
  int level;
  std::uint64_t seq;
  std::uint64_t timestamp_usec;
  std::string_view message;
  std::string_view subsystem = "";
  std::string_view device = "";
};

void expectParsed(std::initializer_list<Parsed> cases) {
  for (const Parsed& c : cases) {
    SCOPED_TRACE(c.record);
    auto r = parseKmsgRecord(c.record);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->facility, c.facility);
    EXPECT_EQ(r->level, c.level);
    EXPECT_EQ(r->seq, c.seq);
    EXPECT_EQ(r->timestamp_usec, c.timestamp_usec);
    EXPECT_EQ(r->message, c.message);
    EXPECT_EQ(r->subsystem, c.subsystem);
    EXPECT_EQ(r->device, c.device);
  }
}

TEST(KmsgRecordParser, ReadsPrefixSequenceTimestampAndMessage) {
  // The first record of this machine's /dev/kmsg (captured with `head -c 600 /dev/kmsg`).
  expectParsed(
      {{"5,0,0,-;Linux version 6.18.44-fc-v1294 (builder@sandboxing) (gcc (GCC) "
        "15.3.0, GNU ld (GNU Binutils) 2.46) #1 SMP PREEMPT_DYNAMIC @0\n",
        0, 5, 0, 0,
        "Linux version 6.18.44-fc-v1294 (builder@sandboxing) (gcc (GCC) 15.3.0, GNU ld "
        "(GNU Binutils) 2.46) #1 SMP PREEMPT_DYNAMIC @0"}});
}

TEST(KmsgRecordParser, SplitsFacilityFromLevelAndReadsContinuationLines) {
  expectParsed({
      {"3,1234,987654321,-,caller=T42;nvme nvme0: I/O 5 QID 1 timeout, reset controller\n"
       " SUBSYSTEM=nvme\n DEVICE=c242:0\n",
       0, 3, 1234, 987654321, "nvme nvme0: I/O 5 QID 1 timeout, reset controller", "nvme",
       "c242:0"},
      // LOG_USER (1) * 8 + 3.
      {"11,7,5,-;foreshock-test: hello\n", 1, 3, 7, 5, "foreshock-test: hello"},
  });
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

// One message that reports exactly one event, and every field of that event. A case that
// only checks a field or two still pins the rest, so a matcher cannot silently drift.
struct Classified {
  std::string_view message;
  KernelEventClass cls;
  std::string_view device;
  std::string_view detail;
  std::uint64_t count = 1;
};

void expectClassified(std::initializer_list<Classified> cases) {
  for (const Classified& c : cases) {
    SCOPED_TRACE(c.message);
    auto ev = classifyKernelMessage(c.message);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].cls, c.cls);
    EXPECT_EQ(ev[0].device, c.device);
    EXPECT_EQ(ev[0].detail, c.detail);
    EXPECT_EQ(ev[0].count, c.count);
  }
}

// Messages that must not be counted at all.
void expectIgnored(std::initializer_list<std::string_view> messages) {
  for (std::string_view m : messages) {
    EXPECT_TRUE(classifyKernelMessage(m).empty()) << m;
  }
}

using enum KernelEventClass;

TEST(BlockErrorMatcher, CountsRequestFailuresPerDiskInEveryKernelGeneration) {
  expectClassified({
      // 6.x: blk_print_req_error() without function prefix.
      {"I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2",
       kBlockIoError, "sda", ""},
      // 5.x and 4.x prefixes.
      {"blk_update_request: I/O error, dev vdb, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 "
       "prio class 0",
       kBlockIoError, "vdb", ""},
      {"print_req_error: critical medium error, dev sdc, sector 12345", kBlockIoError, "sdc", ""},
      {"critical medium error, dev nvme0n1, sector 95243456 op 0x0:(READ) flags 0x0 phys_seg "
       "13 prio class 2",
       kBlockIoError, "nvme0n1", ""},
      {"timeout error, dev sdd, sector 8 op 0x1:(WRITE) flags 0x0", kBlockIoError, "sdd", ""},
  });
}

TEST(BlockErrorMatcher, IgnoresStatusesThatAreNotTheDisksFault) {
  expectIgnored({
      "operation not supported error, dev sda, sector 0 op 0x3:(DISCARD) flags 0x800 phys_seg "
      "1 prio class 0",
      "nonblocking retry error, dev sda, sector 0",
      // The page-cache echo of the same failure is not counted twice.
      "Buffer I/O error on dev sda1, logical block 0, async page read",
      "I/O error, dev ?, sector 0",
  });
}

TEST(FilesystemMatcher, CountsExt4ErrorsAndReadOnlyRemounts) {
  expectClassified({
      {"EXT4-fs error (device sda1): ext4_lookup:1855: inode #2: comm ls: deleted inode "
       "referenced: 12",
       kFsError, "sda1", "ext4"},
      {"EXT4-fs error (device dm-0) in ext4_reserve_inode_write:5732: IO failure", kFsError, "dm-0",
       "ext4"},
      {"EXT4-fs (vdb): Remounting filesystem read-only", kFsReadOnly, "vdb", "ext4"},
      {"EXT3-fs error (device sdb2): ext3_find_entry: reading directory", kFsError, "sdb2", "ext3"},
  });
  expectIgnored({
      // This machine's boot log: a mount is not an error.
      "EXT4-fs (vda): mounted filesystem 00000000-0000-0000-0000-000000000000 r/w without "
      "journal. Quota mode: none.",
      "EXT4-fs warning (device sda1): ext4_dx_add_entry: Directory index full!",
  });
}

TEST(FilesystemMatcher, CountsXfsErrorsAndShutdowns) {
  expectClassified({
      {"XFS (sdb1): metadata I/O error in \"xfs_imap_to_bp+0x5c/0xa0 [xfs]\" at daddr 0x40 len "
       "32 error 5",
       kFsError, "sdb1", "xfs"},
      {"XFS (dm-2): Metadata corruption detected at xfs_buf_ioend+0x51/0x240", kFsError, "dm-2",
       "xfs"},
      {"XFS (sdb1): Log I/O error (0x2) detected at xlog_ioend_work+0x6e/0x70 "
       "(fs/xfs/xfs_log.c:1258).  Shutting down filesystem.",
       kFsReadOnly, "sdb1", "xfs"},
  });
  expectIgnored({"XFS (sdb1): Mounting V5 Filesystem", "XFS (sdb1): Ending clean mount"});
}

TEST(FilesystemMatcher, CountsBtrfsErrorsAndForcedReadOnly) {
  expectClassified({
      {"BTRFS error (device sda1): bdev /dev/sda1 errs: wr 0, rd 1, flush 0, corrupt 0, gen 0",
       kFsError, "sda1", "btrfs"},
      {"BTRFS info (device sda1 state EA): forced readonly", kFsReadOnly, "sda1", "btrfs"},
  });
  expectIgnored({"BTRFS info (device sda1): using crc32c (crc32c-intel) checksum"});
}

TEST(MceMatcher, CountsLoggedEventsMachineCheckRecordsAndMemoryFailures) {
  expectClassified({
      {"mce: [Hardware Error]: Machine check events logged", kMce, "", "logged"},
      // __print_mce() prints corrected records too (no mcelog/rasdaemon): the UC bit decides.
      // 0x9000000000000000 is VAL|EN, the corrected error QEMU's `mce 0 1 0x900000000000009f`
      // injects; 0xb2... has UC (bit 61) set.
      {"mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 1: 900000000000009f", kMce, "",
       "corrected"},
      {"mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 1: b200000000000001", kMce, "",
       "uncorrected"},
      {"mce: [Hardware Error]: CPU 3: Machine Check Exception: 5 Bank 4: FE00000000800400", kMce,
       "", "uncorrected"},
      {"mce: [Hardware Error]: CPU 3: Machine Check: 0 Bank 4: truncated", kMce, "", "uncorrected"},
      {"Memory failure: 0x1f4e3c: recovery action for dirty LRU page: Recovered", kMce, "",
       "memory_failure"},
  });
  expectIgnored({
      // The rest of a print_mce() record, and thermal throttling, are not separate events.
      "mce: [Hardware Error]: TSC 0 ADDR 1234 MISC 0",
      "mce: [Hardware Error]: PROCESSOR 0:50654 TIME 1700000000 SOCKET 0 APIC 0 microcode "
      "2006e05",
      "mce: CPU0: Core temperature above threshold, cpu clock throttled (total events = 1)",
  });
}

TEST(AerMatcher, ReadsSeverityAndSourceFromOldAndNewMessages) {
  expectClassified({
      // 4.19-5.x aer_isr_one_error().
      {"pcieport 0000:00:1c.0: AER: Corrected error received: 0000:00:1c.0", kPcieAer,
       "0000:00:1c.0", "corrected"},
      {"pcieport 0000:00:03.0: AER: Uncorrected (Non-Fatal) error received: 0000:01:00.0", kPcieAer,
       "0000:01:00.0", "nonfatal"},
      {"pcieport 0000:00:03.0: AER: Uncorrected (Fatal) error received: 0000:02:00.0", kPcieAer,
       "0000:02:00.0", "fatal"},
      // 6.x aer_print_port_info(), with "Multiple".
      {"pcieport 0000:00:1c.0: AER: Multiple Uncorrectable (Non-Fatal) error message received "
       "from 0000:73:00.1",
       kPcieAer, "0000:73:00.1", "nonfatal"},
      {"pcieport 0000:00:01.0: AER: Correctable error message received from 0000:00:01.0", kPcieAer,
       "0000:00:01.0", "corrected"},
      {"pcieport 0000:00:01.0: AER: Uncorrectable (Fatal) error message received from "
       "0000:05:00.0",
       kPcieAer, "0000:05:00.0", "fatal"},
      // 6.1 (Debian 12's kernel in the QEMU lab, tests/fixtures/kernel/pcie_aer_nonfatal.kmsg)
      // says "Uncorrected"/"Corrected" with the 6.x "error message received from" wording.
      {"pcieport 0000:00:05.0: AER: Uncorrected (Non-Fatal) error message received from "
       "0000:00:05.0",
       kPcieAer, "0000:00:05.0", "nonfatal"},
      {"pcieport 0000:00:05.0: AER: Corrected error message received from 0000:01:00.0", kPcieAer,
       "0000:01:00.0", "corrected"},
      // Kernels before 4.19 named the source by requester id: the reporting port stands in.
      {"pcieport 0000:00:1c.0: AER: Corrected error received: id=00e0", kPcieAer, "0000:00:1c.0",
       "corrected"},
  });
  expectIgnored({"pcieport 0000:00:05.0: AER: Uncorrected (Non-Fatal) error status unknown"});
}

TEST(AerMatcher, DoesNotCountTheDetailLinesOfTheSameError) {
  expectIgnored({
      "pcieport 0000:00:1c.0: PCIe Bus Error: severity=Corrected, type=Physical Layer, "
      "(Receiver ID)",
      "pcieport 0000:00:1c.0: AER: can't find device of ID00e0",
      "brcmfmac 0000:73:00.0: AER: can't recover (no error_detected callback)",
  });
}

TEST(EdacMatcher, CountsTheErrorsOneMessageReportsPerController) {
  expectClassified({
      {"EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#0_DIMM#0 (channel:0 slot:0 "
       "page:0x12345 offset:0x0 grain:32 syndrome:0x0)",
       kEdac, "mc0", "corrected", 1},
      {"EDAC MC1: 3 UE memory read error on unknown memory (page:0x0)", kEdac, "mc1", "uncorrected",
       3},
      {"EDAC MC0: CE page 0x1f4e3, offset 0x0, grain 8, syndrome 0x1, row 0", kEdac, "mc0",
       "corrected", 1},
  });
  expectIgnored({
      "EDAC MC0: Giving out device to module ie31200_edac controller IE31200: DEV 0000:00:00.0 "
      "(POLLED)",
      "EDAC sbridge MC0: HANDLING MCE MEMORY ERROR",
  });
}

TEST(AtaMatcher, CountsResetsExceptionsAndLinkDownPerPort) {
  expectClassified({
      {"ata1: hard resetting link", kAtaLinkReset, "ata1", ""},
      {"ata12.15: soft resetting link", kAtaLinkReset, "ata12", ""},
      {"ata3.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x6 frozen", kAtaException, "ata3",
       ""},
      {"ata2: SATA link down (SStatus 0 SControl 300)", kAtaLinkDown, "ata2", ""},
  });
  expectIgnored({
      "ata1: SATA link up 1.5 Gbps (SStatus 113 SControl 300)",
      "ata1.00: failed command: READ FPDMA QUEUED",
      "atkbd serio0: Unknown key pressed",
  });
}

TEST(NvmeMatcher, CountsTimeoutsAndResetsPerController) {
  // 6.x format (captured in a public kernel report), and the older one.
  auto both = classifyKernelMessage(
      "nvme nvme0: I/O tag 12 (400c) opcode 0x9 (Admin Cmd) QID 0 timeout, reset controller");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].cls, kNvmeTimeout);
  EXPECT_EQ(both[1].cls, kNvmeReset);
  EXPECT_EQ(both[0].device, "nvme0");
  auto down = classifyKernelMessage(
      "nvme nvme0: controller is down; will reset: CSTS=0x3, PCI_STATUS=0x10");
  ASSERT_EQ(down.size(), 2u);
  EXPECT_EQ(down[1].cls, kNvmeReset);
  // Debian 12's 6.1 kernel in the QEMU lab (tests/fixtures/kernel/nvme_timeout_reset.kmsg): the
  // second timeout of a command resets the controller.
  auto lab = classifyKernelMessage("nvme nvme0: I/O 308 QID 1 timeout, reset controller");
  ASSERT_EQ(lab.size(), 2u);
  EXPECT_EQ(lab[0].cls, kNvmeTimeout);
  EXPECT_EQ(lab[1].cls, kNvmeReset);
  expectClassified({
      {"nvme nvme9: I/O 192 QID 5 timeout, aborting", kNvmeTimeout, "nvme9", ""},
      {"nvme nvme1: resetting controller", kNvmeReset, "nvme1", ""},
      // Debian 12's 6.1 kernel in the QEMU lab (tests/fixtures/kernel/nvme_timeout_reset.kmsg):
      // the first timeout of a command aborts it.
      {"nvme nvme0: I/O 308 (I/O Cmd) QID 1 timeout, aborting", kNvmeTimeout, "nvme0", ""},
  });
  expectIgnored({"nvme nvme0: Abort status: 0x0", "nvme nvme0: 4/0/0 default/read/poll queues"});
}

TEST(MdMatcher, CountsMembersFailedOutOfAnArray) {
  expectClassified({
      {"md/raid1:md0: Disk failure on sdb1, disabling device.\\x0amd/raid1:md0: Operation "
       "continuing on 1 devices.",
       kMdDiskFailure, "md0", ""},
      {"md/raid:md127: Disk failure on sdc, disabling device.", kMdDiskFailure, "md127", ""},
      {"md/raid10:md2: Disk failure on nvme1n1p2, disabling device.", kMdDiskFailure, "md2", ""},
  });
  expectIgnored({"md/raid1:md0: active with 2 out of 2 mirrors"});
}

TEST(GhesMatcher, CountsFirmwareReportedErrorsOncePerRecordBySeverity) {
  // drivers/acpi/apei/ghes.c + drivers/firmware/efi/cper.c, one line per printk.
  expectClassified({
      {"{1}[Hardware Error]: event severity: corrected", kFirmwareError, "", "corrected"},
      {"{12}[Hardware Error]: event severity: fatal", kFirmwareError, "", "fatal"},
      {"{2}[Hardware Error]: event severity: info", kFirmwareError, "", "info"},
  });
  expectIgnored({
      "{1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 0",
      "{1}[Hardware Error]:  Error 0, type: corrected",
      "{1}[Hardware Error]: event severity: bogus",
  });
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
  expectIgnored({"Linux version 6.18.44", "e1000e 0000:00:19.0 eth0: NIC Link is Up",
                 "usb 1-1: new high-speed USB device number 2 using xhci_hcd", "", "a",
                 "random: crng init done", "EDAC", "nvme nvme", "ata", "md/raid1:"});
}

}  // namespace
}  // namespace foreshock
