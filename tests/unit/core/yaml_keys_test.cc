#include "core/yaml_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace foreshock {
namespace {

struct Reported {
  int line;
  std::string path, message;
};

std::vector<Reported> duplicatesIn(const std::string& yaml) {
  std::vector<Reported> out;
  reportDuplicateYamlKeys(YAML::Load(yaml), [&](const YAML::Node& key, const std::string& path,
                                                const std::string& message) {
    out.push_back({key.Mark().line + 1, path, message});
  });
  return out;
}

TEST(DuplicateYamlKeys, AFileWithUniqueKeysReportsNothing) {
  EXPECT_TRUE(duplicatesIn("a: 1\nb:\n  a: 2\n  c: [ {a: 1}, {a: 2} ]\n").empty());
}

TEST(DuplicateYamlKeys, ARepeatedNestedKeyIsReportedWithItsPathAndBothLines) {
  auto r = duplicatesIn("collectors:\n  smart:\n    interval: 1m\n    interval: 2m\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].line, 4);
  EXPECT_EQ(r[0].path, "collectors.smart.interval");
  EXPECT_EQ(r[0].message, "duplicate key (first on line 3); each key may appear once");
}

TEST(DuplicateYamlKeys, KeysInsideListItemsAreNamedByTheirIndex) {
  auto r = duplicatesIn("targets:\n  - host: a\n  - host: b\n    host: c\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].path, "targets[1].host");
  EXPECT_EQ(r[0].line, 4);
}

TEST(DuplicateYamlKeys, EveryRepeatIsReportedInDocumentOrder) {
  auto r = duplicatesIn("a: 1\nb: 2\na: 3\nb: 4\na: 5\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].path, "a");
  EXPECT_EQ(r[0].line, 3);
  EXPECT_EQ(r[1].path, "b");
  EXPECT_EQ(r[2].line, 5);
  EXPECT_EQ(r[2].message, "duplicate key (first on line 1); each key may appear once");
}

}  // namespace
}  // namespace foreshock
