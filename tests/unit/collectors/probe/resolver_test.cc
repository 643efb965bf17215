#include "collectors/probe/resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace foreshock {
namespace {

using namespace std::chrono_literals;

IpAddress v4(const char* s) {
  return *parseIpAddress(s);
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = 5000ms) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(HostResolver, ResolvesANameOffTheCallersThread) {
  HostResolver r({{"gw.test", AF_UNSPEC}}, 1h, 1s,
                 [](const std::string& host, int) -> Result<std::vector<IpAddress>> {
                   if (host == "gw.test") return std::vector<IpAddress>{v4("10.66.0.1")};
                   return makeError("unknown");
                 });
  ASSERT_TRUE(eventually([&] { return r.firstRoundDone(); }));
  auto got = r.get({"gw.test", AF_UNSPEC});
  ASSERT_TRUE(got.address);
  EXPECT_EQ(formatIpAddress(*got.address), "10.66.0.1");
  EXPECT_EQ(got.reason, "");
}

TEST(HostResolver, AFailedNameIsDownWithAReasonAndTheErrorText) {
  HostResolver r({{"nx.test", AF_UNSPEC}}, 1h, 1s,
                 [](const std::string& host, int) -> Result<std::vector<IpAddress>> {
                   return makeError("resolving \"" + host + "\": Name or service not known");
                 });
  ASSERT_TRUE(eventually([&] { return r.firstRoundDone(); }));
  auto got = r.get({"nx.test", AF_UNSPEC});
  EXPECT_FALSE(got.address);
  EXPECT_EQ(got.reason, "resolve_failed");
  EXPECT_NE(got.error.find("nx.test"), std::string::npos);
}

TEST(HostResolver, AHungLookupTimesOutWithoutBlockingTheResolverOrItsDestruction) {
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  auto calls = std::make_shared<std::atomic<int>>(0);
  const auto start = std::chrono::steady_clock::now();
  {
    HostResolver r(
        {{"hung.test", AF_UNSPEC}, {"ok.test", AF_UNSPEC}}, 50ms, 200ms,
        [released, calls](const std::string& host, int) -> Result<std::vector<IpAddress>> {
          if (host == "ok.test") return std::vector<IpAddress>{v4("10.66.0.2")};
          ++*calls;
          released.wait();  // a resolver that never answers
          return makeError("released");
        });
    ASSERT_TRUE(eventually([&] { return r.firstRoundDone(); }, 2000ms));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
    EXPECT_EQ(r.get({"hung.test", AF_UNSPEC}).reason, "resolve_timeout");
    ASSERT_TRUE(r.get({"ok.test", AF_UNSPEC}).address);  // the other name is not held up
    // Several more rounds: the hung lookup is not started again while it is blocked.
    std::this_thread::sleep_for(400ms);
    EXPECT_EQ(calls->load(), 1);
    EXPECT_EQ(r.lookupsInFlight(), 1u);
  }  // destruction does not wait for the blocked lookup
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  release->set_value();
}

TEST(HostResolver, AFailedReResolutionKeepsTheLastAddress) {
  auto fail = std::make_shared<std::atomic<bool>>(false);
  HostResolver r({{"db.test", AF_INET}}, 20ms, 1s,
                 [fail](const std::string&, int family) -> Result<std::vector<IpAddress>> {
                   EXPECT_EQ(family, AF_INET);
                   if (*fail) return makeError("SERVFAIL");
                   return std::vector<IpAddress>{v4("10.66.0.3")};
                 });
  ASSERT_TRUE(eventually([&] { return r.get({"db.test", AF_INET}).address.has_value(); }));
  const auto g = r.generation();
  *fail = true;
  ASSERT_TRUE(eventually([&] { return r.get({"db.test", AF_INET}).error == "SERVFAIL"; }));
  auto got = r.get({"db.test", AF_INET});
  ASSERT_TRUE(got.address);
  EXPECT_EQ(formatIpAddress(*got.address), "10.66.0.3");
  EXPECT_EQ(got.reason, "");
  EXPECT_GT(r.generation(), g);
}

TEST(HostResolver, TheSystemLookupReadsEtcHostsNames) {
  // "localhost" is in every /etc/hosts; no DNS query is needed for it.
  auto r = systemHostLookup("localhost", AF_INET);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(formatIpAddress(r->front()), "127.0.0.1");
}

}  // namespace
}  // namespace foreshock
