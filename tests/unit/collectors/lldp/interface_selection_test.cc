#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collectors/lldp/lldp_collector.h"

namespace foreshock {
namespace {

namespace fs = std::filesystem;

// A fake <sysfs>/class/net: each interface a directory with a `type` file, bond masters with
// `bonding/`, bridge masters with `bridge/`.
class FakeClassNet : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("fspr-classnet-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    add("lo", 772);
    add("eno1", 1);
    add("eno2", 1);
    add("bond0", 1, "bonding");
    add("br0", 1, "bridge");
    add("veth12ab", 1);
    add("wg0", 65534);
    add("ifb0", 1, "", "0x82", "");     // administratively down: carrier unreadable
    add("eno3", 1, "", "0x1003", "0");  // up, no cable
    add("eno4", 1, "", "0x1002", "");   // down
  }
  void TearDown() override { fs::remove_all(root_); }
  void add(const std::string& name, int type, const std::string& subdir = "",
           const std::string& flags = "0x1003", const std::string& carrier = "1") {
    fs::create_directories(root_ / name);
    std::ofstream(root_ / name / "type") << type << "\n";
    std::ofstream(root_ / name / "flags") << flags << "\n";
    // The kernel refuses to read `carrier` of a down link; an absent file stands for that.
    if (!carrier.empty()) std::ofstream(root_ / name / "carrier") << carrier << "\n";
    if (!subdir.empty()) fs::create_directories(root_ / name / subdir);
  }
  fs::path root_;
};

TEST_F(FakeClassNet, ListensOnBondMembersButNotOnBondOrBridgeMasters) {
  auto got = selectLldpInterfaces(root_, NameFilter(".*", "veth.*"));
  EXPECT_EQ(got, (std::vector<std::string>{"eno1", "eno2"}));
}

TEST_F(FakeClassNet, AppliesIncludeAndExcludeToWholeNames) {
  auto got = selectLldpInterfaces(root_, NameFilter("(eno|veth).*", "eno2"));
  EXPECT_EQ(got, (std::vector<std::string>{"eno1", "veth12ab"}));
  // A pattern matching only the start of a name no longer selects it.
  EXPECT_TRUE(selectLldpInterfaces(root_, NameFilter("eno", "")).empty());
}

TEST_F(FakeClassNet, NeverListensOnADownLinkOrOneWithoutCarrier) {
  auto got = selectLldpInterfaces(root_, NameFilter("(eno|ifb).*", ""));
  EXPECT_EQ(got, (std::vector<std::string>{"eno1", "eno2"}));
}

TEST(LldpInterfaceSelection, MissingClassNetYieldsNoInterfaces) {
  auto got = selectLldpInterfaces("/nonexistent/fspr/class/net", NameFilter(".*", ""));
  EXPECT_TRUE(got.empty());
}

}  // namespace
}  // namespace foreshock
