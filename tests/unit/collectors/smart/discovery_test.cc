// Disk discovery on a fake sysfs tree built in a temporary folder (symlinks like the kernel's).
#include "collectors/smart/discovery.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collectors/smart/process_runner.h"

namespace foreshock::smart {
namespace {

namespace fs = std::filesystem;

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("fssm-sysfs-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "block");
    paths_.sysfs = root_;
    paths_.devfs = root_ / "dev";
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const fs::path& p, const std::string& s) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << s;
  }
  // devices/<devpath>/block/<name> with block/<name> -> that directory.
  fs::path disk(const std::string& devpath, const std::string& name) {
    fs::path d = root_ / "devices" / devpath / "block" / name;
    fs::create_directories(d);
    fs::create_symlink(d, root_ / "block" / name);
    return d;
  }

  fs::path root_;
  HostPaths paths_;
};

TEST_F(FakeSysfs, FindsWholeDisksAndSkipsVirtualAndPartitionDevices) {
  fs::path scsi = root_ / "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";
  fs::path sda = disk("pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0", "sda");
  fs::create_directory_symlink(scsi, sda / "device");
  write(sda / "size", "976773168\n");
  write(sda / "queue/rotational", "1\n");
  write(scsi / "model", "ST1000DM010-2EP1\n");
  write(scsi / "rev", "CC43\n");
  write(scsi / "wwid", "naa.5000c500a1b2c3d4\n");
  write(scsi / "vpd_pg80", std::string("\x00\x80\x00\x0a", 4) + "  Z9A0B1C2");
  write(scsi / "power/runtime_status", "active\n");

  fs::path ctrl = root_ / "devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0";
  fs::path nvme = disk("pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0", "nvme0n1");
  fs::create_directory_symlink(ctrl, nvme / "device");
  write(nvme / "size", "488397168\n");
  write(nvme / "queue/rotational", "0\n");
  write(nvme / "wwid", "eui.0025385b71b0a1c2\n");
  write(ctrl / "model", "Samsung SSD 970 EVO Plus 250GB          \n");
  write(ctrl / "serial", "S4EUNX0N123456\n");
  write(ctrl / "firmware_rev", "2B2QEXM7\n");

  for (const char* n : {"loop0", "ram0", "zram0", "dm-0", "md127", "sr0", "nbd0", "nvme0c0n1"}) {
    disk(std::string("virtual/block/") + n, n);
  }
  fs::path part = disk("virtual/x", "sdz1");
  write(part / "partition", "1\n");

  auto disks = discoverDisks(paths_);
  ASSERT_EQ(disks.size(), 2u);
  const auto& n = disks[0];
  const auto& s = disks[1];
  EXPECT_EQ(n.device, "nvme0n1");
  EXPECT_EQ(n.backend, Backend::kNvme);
  EXPECT_EQ(n.transport, "nvme");
  EXPECT_EQ(n.model, "Samsung SSD 970 EVO Plus 250GB");
  EXPECT_EQ(n.serial, "S4EUNX0N123456");
  EXPECT_EQ(n.firmware, "2B2QEXM7");
  EXPECT_EQ(n.wwn, "eui.0025385b71b0a1c2");
  EXPECT_EQ(n.rotational, false);
  EXPECT_EQ(n.node, (root_ / "dev" / "nvme0").string());  // admin commands go to the controller

  EXPECT_EQ(s.device, "sda");
  EXPECT_EQ(s.backend, Backend::kAta);
  EXPECT_EQ(s.transport, "ata");
  EXPECT_EQ(s.model, "ST1000DM010-2EP1");
  EXPECT_EQ(s.serial, "Z9A0B1C2");
  EXPECT_EQ(s.firmware, "CC43");
  EXPECT_EQ(s.wwn, "naa.5000c500a1b2c3d4");
  EXPECT_EQ(s.capacity_bytes, 976773168ull * 512);
  EXPECT_EQ(s.rotational, true);
  EXPECT_EQ(s.runtime_suspended, false);
  EXPECT_EQ(s.node, (root_ / "dev" / "sda").string());
}

TEST_F(FakeSysfs, DiskWithoutReadableAttributesStillAppears) {
  disk("pci0000:00/0000:00:05.0/virtio2/block", "vdb");
  auto disks = discoverDisks(paths_);
  ASSERT_EQ(disks.size(), 1u);
  EXPECT_EQ(disks[0].device, "vdb");
  EXPECT_EQ(disks[0].transport, "virtio");
  EXPECT_EQ(disks[0].backend, Backend::kSmartctl);
  EXPECT_FALSE(disks[0].capacity_bytes.has_value());
}

TEST_F(FakeSysfs, MissingBlockFolderMeansNoDisks) {
  fs::remove_all(root_ / "block");
  EXPECT_TRUE(discoverDisks(paths_).empty());
}

TEST(DiskTransport, FollowsTheDevicePath) {
  EXPECT_EQ(transportFromDevicePath("/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/"
                                    "target6:0:0/6:0:0:0/block/sdb",
                                    "sdb"),
            "usb");
  EXPECT_EQ(transportFromDevicePath("/sys/devices/pci0000:00/0000:00:03.0/0000:02:00.0/host0/"
                                    "port-0:0/end_device-0:0/target0:0:0/0:0:0:0/block/sda",
                                    "sda"),
            "sas");
  EXPECT_EQ(defaultBackend("sdb", "usb"), Backend::kAta);
  EXPECT_EQ(defaultBackend("sda", "sas"), Backend::kSmartctl);
}

TEST(ProcessRunner, CapturesStdoutAndTheExitCode) {
  auto r = runProcess({"sh", "-c", "echo hello; exit 3"}, std::chrono::seconds(30));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);
}

TEST(ProcessRunner, PassesArgumentsWithoutAShell) {
  auto r = runProcess({"echo", "$(id)", "a;b"}, std::chrono::seconds(30));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "$(id) a;b\n");
}

TEST(ProcessRunner, KillsAChildThatOverrunsItsDeadline) {
  auto r = runProcess({"sleep", "60"}, std::chrono::milliseconds(200));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGKILL);
}

TEST(ProcessRunner, MissingProgramIsAnErrorNamingIt) {
  auto r = runProcess({"fssm-no-such-program"}, std::chrono::seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("fssm-no-such-program"), std::string::npos);
}

}  // namespace
}  // namespace foreshock::smart
