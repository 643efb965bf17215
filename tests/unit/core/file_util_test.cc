// Hostile files for the central file helpers: FIFOs, devices, directories, files over their
// cap, and the temporary files an interrupted atomic write leaves behind.
#include "core/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "tests/unit/temp_dir.h"

namespace foreshock {
namespace {

namespace fs = std::filesystem;

class FileUtilTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return dir_ / name;
  }
  test::TestTempDir tmp_{"foreshock-file-util"};
  const fs::path& dir_ = tmp_.path();
};

TEST_F(FileUtilTest, AFifoIsRefusedWithoutBlockingAndNamedAsAFifo) {
  auto fifo = dir_ / "type";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No writer ever opens it: a blocking open() would hang this test until ctest kills it.
  auto r = readFileBounded(fifo, 64);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            fifo.string() + ": not a regular file (a FIFO); refusing to read it");
  EXPECT_FALSE(readFileCapped(fifo, 64).ok());
  EXPECT_FALSE(readAttribute(fifo).has_value());
  EXPECT_EQ(openRegularFile(fifo), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(FileUtilTest, ADeviceNodeOrDirectoryIsNeverOpened) {
  auto r = readFileBounded("/dev/null");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/dev/null: not a regular file (a character device)"),
            std::string::npos)
      << r.error().message;
  auto d = readFileCapped(dir_, 100);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("(a directory)"), std::string::npos) << d.error().message;
}

TEST_F(FileUtilTest, ASymlinkToARegularFileIsFollowed) {
  auto target = write("real", "eth\n");
  fs::create_symlink(target, dir_ / "link");
  EXPECT_EQ(readAttribute(dir_ / "link"), "eth");
}

TEST_F(FileUtilTest, AFileOverItsCapIsAnErrorNamingFileSizeAndCap) {
  auto p = write("web.yml", std::string(1024 * 1024 + 1, '#'));
  auto r = readFileCapped(p, 1024 * 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, p.string() +
                                   ": file is 1.0 MiB (1048577 bytes), over the 1 MiB limit; "
                                   "refusing to read a cut-off copy");
}

TEST_F(FileUtilTest, AFileExactlyAtItsCapIsReadWhole) {
  auto p = write("ok.yml", std::string(4096, 'x'));
  auto r = readFileCapped(p, 4096);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 4096u);
}

TEST_F(FileUtilTest, AHugeSparseFileIsRejectedBySizeBeforeAnyRead) {
  auto p = dir_ / "history.bin";
  { std::ofstream(p, std::ios::binary) << "x"; }
  fs::resize_file(p, std::uintmax_t{2} << 30);  // 2 GiB, sparse: nothing on disk
  auto r = readFileCapped(p, std::size_t{512} << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("file is 2 GiB (2147483648 bytes), over the 512 MiB limit"),
            std::string::npos)
      << r.error().message;
}

TEST_F(FileUtilTest, AProcfsFileWithoutASizeIsStillBoundedByItsCap) {
  // /proc files report st_size 0: the cap is enforced while reading.
  auto r = readFileCapped("/proc/self/maps", 16);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("file is more than 16 bytes"), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(readFileCapped("/proc/self/maps", 64 << 20).ok());
}

TEST_F(FileUtilTest, ReadFileBoundedStillReadsAPrefixByDesign) {
  auto p = write("blob", "IDFYrest-of-file");
  EXPECT_EQ(*readFileBounded(p, 4), "IDFY");
}

TEST_F(FileUtilTest, FormatBytesReadsLikeAPerson) {
  EXPECT_EQ(formatBytes(100), "100 bytes");
  EXPECT_EQ(formatBytes(64 * 1024), "64 KiB");
  EXPECT_EQ(formatBytes(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(formatBytes(std::uint64_t{4} << 20), "4 MiB");
  EXPECT_EQ(formatBytes(std::uint64_t{2} << 30), "2 GiB");
}

TEST_F(FileUtilTest, OnlyTempFilesOfOurOwnPatternAreRemovedAsStale) {
  auto target = dir_ / "history.bin";
  write("history.bin", "current");
  write(".history.bin.Ab3xYz", "interrupted save");
  write(".history.bin.000000", "interrupted save");
  write(".history.bin.Ab3xY", "five characters: not mkstemp's");
  write(".history.bin.Ab3xYz.keep", "longer name");
  write(".history.bin.Ab-xYz", "not mkstemp's alphabet");
  write(".other.bin.Ab3xYz", "another file's temp");
  write("history.bin.Ab3xYz", "no leading dot");
  fs::create_directories(dir_ / ".history.bin.Dir123");
  fs::create_symlink(dir_ / "history.bin", dir_ / ".history.bin.Lnk123");

  auto removed = removeStaleTempFiles(target);
  std::sort(removed.begin(), removed.end());
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0], dir_ / ".history.bin.000000");
  EXPECT_EQ(removed[1], dir_ / ".history.bin.Ab3xYz");
  for (const char* kept :
       {"history.bin", ".history.bin.Ab3xY", ".history.bin.Ab3xYz.keep", ".history.bin.Ab-xYz",
        ".other.bin.Ab3xYz", "history.bin.Ab3xYz", ".history.bin.Dir123", ".history.bin.Lnk123"}) {
    EXPECT_TRUE(fs::exists(fs::symlink_status(dir_ / kept))) << kept;
  }
  EXPECT_EQ(*readFileCapped(target, 100), "current");
}

TEST_F(FileUtilTest, AnAtomicWriteLeavesNoTempFileBehind) {
  auto target = dir_ / "history.bin";
  ASSERT_TRUE(writeFileAtomic(target, "v1").ok());
  ASSERT_TRUE(writeFileAtomic(target, "v2").ok());
  EXPECT_TRUE(removeStaleTempFiles(target).empty());
  EXPECT_EQ(*readFileCapped(target, 100), "v2");
}

TEST(FormatNumber, WritesWholeNumbersExactlyAndOthersWithTheGivenSignificantDigits) {
  EXPECT_EQ(formatNumber(3, 3), "3");
  EXPECT_EQ(formatNumber(-12, 3), "-12");
  EXPECT_EQ(formatNumber(123456789, 3), "123456789");
  EXPECT_EQ(formatNumber(0.25, 3), "0.25");
  EXPECT_EQ(formatNumber(3.14159, 3), "3.14");
  EXPECT_EQ(formatNumber(3.14159, 6), "3.14159");
  EXPECT_EQ(formatNumber(1e20, 3), "1e+20");
}

}  // namespace
}  // namespace foreshock
