#include "collectors/probe/route_netlink.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include <cstring>

namespace foreshock {
namespace {

// Builds the RTM_NEWROUTE message a route dump returns, with libmnl like the kernel lays it out.
struct RouteMsg {
  alignas(nlmsghdr) char buf[4096] = {};
  nlmsghdr* nlh;
  rtmsg* rtm;
  RouteMsg(int family, unsigned char dst_len, unsigned char table = RT_TABLE_MAIN) {
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWROUTE;
    rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = static_cast<unsigned char>(family);
    rtm->rtm_dst_len = dst_len;
    rtm->rtm_type = RTN_UNICAST;
    rtm->rtm_table = table;
  }
  void gateway(const char* text) {
    auto ip = *parseIpAddress(text);
    mnl_attr_put(nlh, RTA_GATEWAY, ip.isV4() ? 4 : 16, ip.bytes.data());
  }
};

TEST(RouteNetlinkParser, FindsTheIpv4DefaultGatewayAndMetric) {
  RouteMsg m(AF_INET, 0);
  m.gateway("10.66.0.1");
  mnl_attr_put_u32(m.nlh, RTA_OIF, 1);  // lo always exists, so the name resolves
  mnl_attr_put_u32(m.nlh, RTA_PRIORITY, 100);
  std::vector<DefaultGateway> out;
  parseDefaultRouteMessage(m.nlh, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(formatIpAddress(out[0].gateway), "10.66.0.1");
  EXPECT_EQ(out[0].ifindex, 1);
  EXPECT_EQ(out[0].interface, "lo");
  EXPECT_EQ(out[0].metric, 100u);
}

TEST(RouteNetlinkParser, GivesLinkLocalIpv6GatewaysTheirInterfaceAsScope) {
  RouteMsg m(AF_INET6, 0);
  m.gateway("fe80::1");
  mnl_attr_put_u32(m.nlh, RTA_OIF, 1);
  std::vector<DefaultGateway> out;
  parseDefaultRouteMessage(m.nlh, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].gateway.scope, 1u);
}

TEST(RouteNetlinkParser, IgnoresNonDefaultAndOtherTableRoutes) {
  RouteMsg subnet(AF_INET, 24);
  subnet.gateway("10.66.0.1");
  RouteMsg other(AF_INET, 0, 100);
  other.gateway("10.66.0.9");
  std::vector<DefaultGateway> out;
  parseDefaultRouteMessage(subnet.nlh, &out);
  parseDefaultRouteMessage(other.nlh, &out);
  EXPECT_TRUE(out.empty());
}

TEST(RouteNetlinkParser, ListsEveryNextHopOfAMultipathDefault) {
  RouteMsg m(AF_INET, 0);
  nlattr* mp = mnl_attr_nest_start(m.nlh, RTA_MULTIPATH);
  for (const char* gw : {"10.0.0.1", "10.0.1.1"}) {
    auto* nh = static_cast<rtnexthop*>(mnl_nlmsg_get_payload_tail(m.nlh));
    m.nlh->nlmsg_len += MNL_ALIGN(sizeof(rtnexthop));
    std::memset(nh, 0, sizeof *nh);
    nh->rtnh_ifindex = 1;
    m.gateway(gw);
    nh->rtnh_len = static_cast<unsigned short>(
        reinterpret_cast<char*>(mnl_nlmsg_get_payload_tail(m.nlh)) - reinterpret_cast<char*>(nh));
  }
  mnl_attr_nest_end(m.nlh, mp);
  std::vector<DefaultGateway> out;
  parseDefaultRouteMessage(m.nlh, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(formatIpAddress(out[0].gateway), "10.0.0.1");
  EXPECT_EQ(formatIpAddress(out[1].gateway), "10.0.1.1");
}

}  // namespace
}  // namespace foreshock
