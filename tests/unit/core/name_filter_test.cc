#include "core/name_filter.h"

#include <gtest/gtest.h>

namespace foreshock {
namespace {

TEST(NamePattern, MatchesOnlyTheWholeName) {
  NamePattern p("eth");
  EXPECT_TRUE(p.matches("eth"));
  EXPECT_FALSE(p.matches("eth0"));
  EXPECT_FALSE(p.matches("veth0"));
  NamePattern prefix("eth.*");
  EXPECT_TRUE(prefix.matches("eth0"));
  EXPECT_FALSE(prefix.matches("veth0"));
}

TEST(NamePattern, AnEmptyPatternMatchesNothing) {
  NamePattern p("");
  EXPECT_FALSE(p.matches(""));
  EXPECT_FALSE(p.matches("eth0"));
  EXPECT_FALSE(NamePattern().matches("sda"));
}

TEST(NamePattern, SpeaksEcmaScriptLikeTheConfigValidation) {
  // \d and non-capturing groups are ECMAScript, not POSIX ERE.
  NamePattern p(R"((?:sd|nvme)\d*[a-z]?(n\d+)?)");
  EXPECT_TRUE(p.matches("sda"));
  EXPECT_TRUE(p.matches("nvme0n1"));
  EXPECT_FALSE(p.matches("loop0"));
  EXPECT_THROW(NamePattern("(unclosed"), std::regex_error);
}

TEST(NameFilter, ExcludeWinsOverInclude) {
  NameFilter f(".*", "(lo|veth.*)");
  EXPECT_TRUE(f.accepts("eth0"));
  EXPECT_FALSE(f.accepts("lo"));
  EXPECT_FALSE(f.accepts("veth12ab"));
  EXPECT_TRUE(f.accepts("lo0"));  // whole-name: "lo" does not exclude lo0
  EXPECT_TRUE(f.included("veth12ab"));
  EXPECT_TRUE(f.excluded("veth12ab"));
}

TEST(NameFilter, AnEmptyIncludeAcceptsNothingAndAnEmptyExcludeRejectsNothing) {
  NameFilter none("", "");
  EXPECT_FALSE(none.accepts("eth0"));
  NameFilter all(".*", "");
  EXPECT_TRUE(all.accepts("eth0"));
  EXPECT_TRUE(all.accepts(""));
}

TEST(NameFilter, FromConfigReadsTheNamedKeysAndNamesABadOne) {
  ConfigSection c;
  c.path = "collectors.sensors";
  c.values["chip_include"] = std::string("coretemp-.*");
  c.values["chip_exclude"] = std::string("coretemp-isa-0001");
  auto f = NameFilter::fromConfig(c, "chip_include", "chip_exclude");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->accepts("coretemp-isa-0000"));
  EXPECT_FALSE(f->accepts("coretemp-isa-0001"));
  EXPECT_FALSE(f->accepts("nvme-pci-0100"));

  c.values["chip_exclude"] = std::string("[");
  auto bad = NameFilter::fromConfig(c, "chip_include", "chip_exclude");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("collectors.sensors.chip_exclude"), std::string::npos)
      << bad.error().message;
}

TEST(NameFilter, MissingKeysAreEmptyPatterns) {
  ConfigSection c;
  c.path = "collectors.x";
  auto f = NameFilter::fromConfig(c);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->accepts("eth0"));
}

}  // namespace
}  // namespace foreshock
