// The NLM_F_DUMP_INTR retry of the link dump, driven by a scripted transact function.
#include <gtest/gtest.h>

#include <vector>

#include "collectors/netdev/netlink_io.h"

namespace foreshock::netdev {
namespace {

struct ScriptedDump {
  std::vector<bool> interrupted;  // per attempt
  int attempt = 0;
  Status operator()(nlmsghdr*, const MessageFn& on_msg, bool* intr) {
    const std::uint8_t byte = static_cast<std::uint8_t>(attempt);
    on_msg(std::span<const std::uint8_t>(&byte, 1));
    *intr = interrupted[static_cast<std::size_t>(attempt)];
    ++attempt;
    return Status::Ok();
  }
};

// What dumpConsistent left behind: the messages the kept attempt delivered (the reset
// callback clears them), and how many retries it counted.
struct DumpResult {
  Status status;
  std::vector<int> got;
  std::uint64_t retries = 0;
};

// Runs the dump with up to 3 attempts against `script`.
DumpResult runDump(ScriptedDump& script) {
  DumpResult r{Status::Ok(), {}, 0};
  r.status = dumpConsistent(
      [&](nlmsghdr* req, const MessageFn& f, bool* i) { return script(req, f, i); },
      [](nlmsghdr*) {}, [&](std::span<const std::uint8_t> m) { r.got.push_back(m[0]); },
      [&] { r.got.clear(); }, 3, &r.retries);
  return r;
}

TEST(NetdevDumpRetry, RepeatsAnInterruptedDumpAndKeepsOnlyTheConsistentResult) {
  ScriptedDump script{{true, false}};
  DumpResult r = runDump(script);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(script.attempt, 2);
  EXPECT_EQ(r.retries, 1u);
  EXPECT_EQ(r.got, std::vector<int>{1});  // only the second attempt's messages
}

TEST(NetdevDumpRetry, GivesUpAfterTheLastAttemptAndKeepsItsResult) {
  ScriptedDump script{{true, true, true}};
  DumpResult r = runDump(script);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(script.attempt, 3);
  EXPECT_EQ(r.retries, 3u);
  EXPECT_EQ(r.got, std::vector<int>{2});
}

TEST(NetdevDumpRetry, PassesANetlinkErrorThrough) {
  auto st =
      dumpConsistent([](nlmsghdr*, const MessageFn&,
                        bool*) { return Status(makeError("netlink reply timed out")); },
                     [](nlmsghdr*) {}, [](std::span<const std::uint8_t>) {}, [] {}, 3, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "netlink reply timed out");
}

}  // namespace
}  // namespace foreshock::netdev
