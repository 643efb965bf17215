#include "exporters/prometheus/exposition.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "core/metric_set.h"
#include "exporters/prometheus/http_server.h"

namespace foreshock {
namespace {

std::string gunzip(const std::string& gz) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

TEST(Exposition, RendersHelpTypeAndEscapedLabels) {
  MetricSet s;
  s.gauge("foreshock_test_celsius", "A test.", {{"sensor", "a\"b\\c"}}, 41.5);
  auto text = renderText(s.take());
  EXPECT_EQ(text,
            "# HELP foreshock_test_celsius A test.\n# TYPE foreshock_test_celsius gauge\n"
            "foreshock_test_celsius{sensor=\"a\\\"b\\\\c\"} 41.5\n");
}

TEST(Exposition, GzipRoundTrips) {
  std::string text(10000, 'x');
  auto gz = gzipCompress(text);
  ASSERT_TRUE(gz.ok());
  EXPECT_LT(gz->size(), text.size());
  EXPECT_EQ(gunzip(*gz), text);
}

TEST(ExpositionCache, RendersOncePerGeneration) {
  auto snap = std::make_shared<Snapshot>();
  MetricSet s;
  s.gauge("a", "a", {}, 1);
  snap->families = s.take();
  snap->generation = 7;
  ExpositionCache cache;
  auto r1 = cache.get(snap);
  auto r2 = cache.get(snap);
  EXPECT_EQ(r1.get(), r2.get());
  auto next = std::make_shared<Snapshot>(*snap);
  next->generation = 8;
  EXPECT_NE(cache.get(next).get(), r1.get());
}

TEST(ListenAddress, ParsesHostPortV6AndWildcard) {
  auto a = parseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 0);
  auto b = parseListenAddress("[::1]:19100");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 19100);
  auto c = parseListenAddress(":9");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "");
}

TEST(ListenAddress, ErrorsNameTheAddress) {
  EXPECT_EQ(parseListenAddress("localhost").error().message,
            "listen address \"localhost\": expected host:port, [v6]:port or :port");
  EXPECT_EQ(parseListenAddress("::1:80").error().message,
            "listen address \"::1:80\": put IPv6 addresses in brackets, e.g. [::1]:19100");
  EXPECT_EQ(parseListenAddress("1.2.3.4:99999").error().message,
            "listen address \"1.2.3.4:99999\": port \"99999\" is not a number from 0 to 65535");
  EXPECT_EQ(parseListenAddress("[zz]:1").error().message,
            "listen address \"[zz]:1\": \"zz\" is not an IPv6 address");
}

}  // namespace
}  // namespace foreshock
