#include "collectors/probe/route_netlink.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace foreshock {

namespace {

std::string ifName(int index) {
  char buf[IF_NAMESIZE] = {};
  if (index > 0 && ::if_indextoname(static_cast<unsigned>(index), buf) != nullptr) return buf;
  return index > 0 ? "if" + std::to_string(index) : "";
}

std::optional<IpAddress> attrAddress(const nlattr* a, int family) {
  if (a == nullptr) return std::nullopt;
  const auto len = mnl_attr_get_payload_len(a);
  IpAddress ip;
  ip.family = family;
  if (family == AF_INET && len == 4) {
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), 4);
    return ip;
  }
  if (family == AF_INET6 && len == 16) {
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), 16);
    return ip;
  }
  return std::nullopt;
}

struct RouteAttrs {
  const nlattr* tb[RTA_MAX + 1] = {};
};

int routeAttrCb(const nlattr* attr, void* data) {
  auto* ra = static_cast<RouteAttrs*>(data);
  const int type = mnl_attr_get_type(attr);
  if (mnl_attr_type_valid(attr, RTA_MAX) < 0) return MNL_CB_OK;
  ra->tb[type] = attr;
  return MNL_CB_OK;
}

}  // namespace

void parseDefaultRouteMessage(const void* msg, std::vector<DefaultGateway>* out) {
  const auto* nlh = static_cast<const nlmsghdr*>(msg);
  if (nlh->nlmsg_type != RTM_NEWROUTE) return;
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return;
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  if (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST) return;
  RouteAttrs ra;
  if (mnl_attr_parse(nlh, sizeof(*rtm), routeAttrCb, &ra) < 0) return;
  std::uint32_t table = rtm->rtm_table;
  if (ra.tb[RTA_TABLE] != nullptr) table = mnl_attr_get_u32(ra.tb[RTA_TABLE]);
  if (table != RT_TABLE_MAIN) return;
  const int family = rtm->rtm_family;
  const std::uint32_t metric = ra.tb[RTA_PRIORITY] ? mnl_attr_get_u32(ra.tb[RTA_PRIORITY]) : 0;
  auto add = [&](const nlattr* gw, int oif) {
    auto ip = attrAddress(gw, family);
    if (!ip) return;
    if (isLinkLocal(*ip)) ip->scope = static_cast<std::uint32_t>(oif);
    out->push_back({*ip, oif, ifName(oif), metric});
  };
  if (ra.tb[RTA_GATEWAY] != nullptr) {
    add(ra.tb[RTA_GATEWAY],
        ra.tb[RTA_OIF] ? static_cast<int>(mnl_attr_get_u32(ra.tb[RTA_OIF])) : 0);
  } else if (ra.tb[RTA_MULTIPATH] != nullptr) {
    // ECMP: a list of rtnexthop, each followed by its own attributes.
    auto* nh = static_cast<const rtnexthop*>(mnl_attr_get_payload(ra.tb[RTA_MULTIPATH]));
    int left = static_cast<int>(mnl_attr_get_payload_len(ra.tb[RTA_MULTIPATH]));
    while (left >= static_cast<int>(sizeof(rtnexthop)) && nh->rtnh_len >= sizeof(rtnexthop) &&
           nh->rtnh_len <= left) {
      const auto* attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(nh) +
                                                         RTNH_ALIGN(sizeof(rtnexthop)));
      int alen = nh->rtnh_len - static_cast<int>(RTNH_ALIGN(sizeof(rtnexthop)));
      while (mnl_attr_ok(attr, alen)) {
        if (mnl_attr_get_type(attr) == RTA_GATEWAY) add(attr, nh->rtnh_ifindex);
        alen -= static_cast<int>(MNL_ALIGN(attr->nla_len));
        attr = mnl_attr_next(attr);
      }
      left -= static_cast<int>(RTNH_ALIGN(nh->rtnh_len));
      nh = reinterpret_cast<const rtnexthop*>(reinterpret_cast<const char*>(nh) +
                                              RTNH_ALIGN(nh->rtnh_len));
    }
  }
}

RouteNetlink::~RouteNetlink() {
  if (req_ != nullptr) mnl_socket_close(req_);
  if (events_ != nullptr) mnl_socket_close(events_);
}

Status RouteNetlink::open() {
  req_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (req_ == nullptr || mnl_socket_bind(req_, 0, MNL_SOCKET_AUTOPID) < 0) {
    return makeError(std::string("rtnetlink socket: ") + std::strerror(errno));
  }
  port_ = mnl_socket_get_portid(req_);
  // A reply that never comes must not stall the prober: bound every receive.
  timeval tv{1, 0};
  (void)::setsockopt(mnl_socket_get_fd(req_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  events_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (events_ == nullptr || mnl_socket_bind(events_,
                                            RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_LINK |
                                                RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
                                            MNL_SOCKET_AUTOPID) < 0) {
    return makeError(std::string("rtnetlink route subscription: ") + std::strerror(errno));
  }
  return Status::Ok();
}

int RouteNetlink::eventFd() const {
  return events_ ? mnl_socket_get_fd(events_) : -1;
}

bool RouteNetlink::drainEvents() {
  if (events_ == nullptr) return false;
  char buf[8192];
  bool any = false;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(events_, buf, sizeof buf);
    if (n <= 0) break;
    any = true;
  }
  return any;
}

Result<std::vector<DefaultGateway>> RouteNetlink::defaultGateways(int family) {
  if (req_ == nullptr) return makeError("rtnetlink socket not open");
  alignas(nlmsghdr) char buf[32768];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  const unsigned int seq = ++seq_;
  nlh->nlmsg_seq = seq;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<unsigned char>(family);
  if (mnl_socket_sendto(req_, nlh, nlh->nlmsg_len) < 0) {
    return makeError(std::string("route dump request: ") + std::strerror(errno));
  }
  std::vector<DefaultGateway> out;
  auto cb = [](const nlmsghdr* m, void* data) -> int {
    parseDefaultRouteMessage(m, static_cast<std::vector<DefaultGateway>*>(data));
    return MNL_CB_OK;
  };
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(req_, buf, sizeof buf);
    if (n < 0) return makeError(std::string("route dump: ") + std::strerror(errno));
    const int rc = mnl_cb_run(buf, static_cast<size_t>(n), seq, port_, cb, &out);
    if (rc == MNL_CB_STOP) break;
    if (rc < 0) return makeError(std::string("route dump: ") + std::strerror(errno));
  }
  std::stable_sort(out.begin(), out.end(), [](const DefaultGateway& a, const DefaultGateway& b) {
    return a.metric < b.metric;
  });
  return out;
}

Result<RouteLookup> RouteNetlink::lookup(const IpAddress& dst) {
  if (req_ == nullptr) return makeError("rtnetlink socket not open");
  alignas(nlmsghdr) char buf[32768];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  const unsigned int seq = ++seq_;
  nlh->nlmsg_seq = seq;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<unsigned char>(dst.family);
  rtm->rtm_dst_len = dst.isV4() ? 32 : 128;
  mnl_attr_put(nlh, RTA_DST, dst.isV4() ? 4 : 16, dst.bytes.data());
  if (dst.scope != 0) mnl_attr_put_u32(nlh, RTA_OIF, dst.scope);
  if (mnl_socket_sendto(req_, nlh, nlh->nlmsg_len) < 0) {
    return makeError(std::string("route lookup request: ") + std::strerror(errno));
  }
  struct Ctx {
    RouteLookup r;
    bool got = false;
    int family;
  } ctx{{}, false, dst.family};
  auto cb = [](const nlmsghdr* m, void* data) -> int {
    auto* c = static_cast<Ctx*>(data);
    if (m->nlmsg_type != RTM_NEWROUTE) return MNL_CB_OK;
    const auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
    RouteAttrs ra;
    if (mnl_attr_parse(m, sizeof(*r), routeAttrCb, &ra) < 0) return MNL_CB_ERROR;
    c->got = true;
    c->r.local = r->rtm_type == RTN_LOCAL;
    if (ra.tb[RTA_OIF]) c->r.ifindex = static_cast<int>(mnl_attr_get_u32(ra.tb[RTA_OIF]));
    c->r.interface = ifName(c->r.ifindex);
    c->r.gateway = attrAddress(ra.tb[RTA_GATEWAY], c->family);
    c->r.source = attrAddress(ra.tb[RTA_PREFSRC], c->family);
    return MNL_CB_STOP;
  };
  const ssize_t n = mnl_socket_recvfrom(req_, buf, sizeof buf);
  if (n < 0) return makeError(std::string("route lookup: ") + std::strerror(errno));
  const int rc = mnl_cb_run(buf, static_cast<size_t>(n), seq, port_, cb, &ctx);
  if (rc < 0) return makeError("no route to " + formatIpAddress(dst) + ": " + std::strerror(errno));
  if (!ctx.got) return makeError("no route to " + formatIpAddress(dst));
  return ctx.r;
}

}  // namespace foreshock
