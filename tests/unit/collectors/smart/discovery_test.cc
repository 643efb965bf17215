// Disk discovery on a fake sysfs tree built in a temporary folder (symlinks like the kernel's).
#include "collectors/smart/discovery.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "collectors/smart/process_runner.h"
#include "tests/unit/temp_dir.h"

namespace foreshock::smart {
namespace {

namespace fs = std::filesystem;

class FakeSysfs : public ::testing::Test {
 protected:
  using Attributes = std::vector<std::pair<std::string, std::string>>;

  void SetUp() override {
    fs::create_directories(root_ / "block");
    paths_.sysfs = root_;
    paths_.devfs = root_ / "dev";
  }

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
  // A disk whose `device` link points at devices/<devpath> (the SCSI device or the NVMe
  // controller), with the disk's own attributes and its device's written beside them.
  void diskOnDevice(const std::string& devpath, const std::string& name,
                    const Attributes& disk_attributes, const Attributes& device_attributes) {
    fs::path device = root_ / "devices" / devpath;
    fs::path d = disk(devpath, name);
    fs::create_directory_symlink(device, d / "device");
    for (const auto& [file, value] : disk_attributes) write(d / file, value);
    for (const auto& [file, value] : device_attributes) write(device / file, value);
  }

  test::TestTempDir tmp_{"fssm-sysfs"};
  const fs::path& root_ = tmp_.path();
  HostPaths paths_;
};

// Every field of a discovered disk.
void expectIdentity(const DiskIdentity& got, const DiskIdentity& want) {
  SCOPED_TRACE(want.device);
  EXPECT_EQ(got.device, want.device);
  EXPECT_EQ(got.model, want.model);
  EXPECT_EQ(got.serial, want.serial);
  EXPECT_EQ(got.firmware, want.firmware);
  EXPECT_EQ(got.wwn, want.wwn);
  EXPECT_EQ(got.transport, want.transport);
  EXPECT_EQ(got.capacity_bytes, want.capacity_bytes);
  EXPECT_EQ(got.rotational, want.rotational);
  EXPECT_EQ(got.runtime_suspended, want.runtime_suspended);
  EXPECT_EQ(got.backend, want.backend);
  EXPECT_EQ(got.node, want.node);
  EXPECT_EQ(got.smartctl_type, want.smartctl_type);
}

TEST_F(FakeSysfs, FindsWholeDisksAndSkipsVirtualAndPartitionDevices) {
  diskOnDevice("pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0", "sda",
               {{"size", "976773168\n"}, {"queue/rotational", "1\n"}},
               {{"model", "ST1000DM010-2EP1\n"},
                {"rev", "CC43\n"},
                {"wwid", "naa.5000c500a1b2c3d4\n"},
                {"vpd_pg80", std::string("\x00\x80\x00\x0a", 4) + "  Z9A0B1C2"},
                {"power/runtime_status", "active\n"}});
  diskOnDevice(
      "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0", "nvme0n1",
      {{"size", "488397168\n"}, {"queue/rotational", "0\n"}, {"wwid", "eui.0025385b71b0a1c2\n"}},
      {{"model", "Samsung SSD 970 EVO Plus 250GB          \n"},
       {"serial", "S4EUNX0N123456\n"},
       {"firmware_rev", "2B2QEXM7\n"}});

  for (const char* n : {"loop0", "ram0", "zram0", "dm-0", "md127", "sr0", "nbd0", "nvme0c0n1"}) {
    disk(std::string("virtual/block/") + n, n);
  }
  fs::path part = disk("virtual/x", "sdz1");
  write(part / "partition", "1\n");

  auto disks = discoverDisks(paths_);
  ASSERT_EQ(disks.size(), 2u);
  // NVMe admin commands go to the controller's node, not the namespace's.
  DiskIdentity nvme{.device = "nvme0n1",
                    .model = "Samsung SSD 970 EVO Plus 250GB",
                    .serial = "S4EUNX0N123456",
                    .firmware = "2B2QEXM7",
                    .wwn = "eui.0025385b71b0a1c2",
                    .transport = "nvme",
                    .capacity_bytes = 488397168ull * 512,
                    .rotational = false,
                    .runtime_suspended = std::nullopt,
                    .backend = Backend::kNvme,
                    .node = (root_ / "dev" / "nvme0").string(),
                    .smartctl_type = ""};
  DiskIdentity sda{.device = "sda",
                   .model = "ST1000DM010-2EP1",
                   .serial = "Z9A0B1C2",
                   .firmware = "CC43",
                   .wwn = "naa.5000c500a1b2c3d4",
                   .transport = "ata",
                   .capacity_bytes = 976773168ull * 512,
                   .rotational = true,
                   .runtime_suspended = false,
                   .backend = Backend::kAta,
                   .node = (root_ / "dev" / "sda").string(),
                   .smartctl_type = ""};
  expectIdentity(disks[0], nvme);
  expectIdentity(disks[1], sda);
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
