// Builds netlink messages byte by byte (with libmnl) the way the kernel lays them out, so the
// netdev parsers can be tested on hand-built rtnetlink and ethtool genl replies.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace foreshock::netdev::testing {

class MsgBuilder {
 public:
  // A message of `type` whose family header (ifinfomsg, genlmsghdr, ...) has `header_size`
  // zeroed bytes; header<T>() gives access to it.
  MsgBuilder(std::uint16_t type, std::size_t header_size) : storage_(4096) {
    nlh_ = mnl_nlmsg_put_header(storage_.data());
    nlh_->nlmsg_type = type;
    extra_ = mnl_nlmsg_put_extra_header(nlh_, header_size);
  }
  template <class T>
  T* header() {
    return static_cast<T*>(extra_);
  }
  MsgBuilder& u8(std::uint16_t t, std::uint8_t v) { return put(t, v); }
  MsgBuilder& u16(std::uint16_t t, std::uint16_t v) { return put(t, v); }
  MsgBuilder& u32(std::uint16_t t, std::uint32_t v) { return put(t, v); }
  MsgBuilder& u64(std::uint16_t t, std::uint64_t v) { return put(t, v); }
  MsgBuilder& str(std::uint16_t t, const std::string& v) {
    mnl_attr_put_strz(nlh_, t, v.c_str());
    return *this;
  }
  MsgBuilder& bytes(std::uint16_t t, const void* p, std::size_t n) {
    mnl_attr_put(nlh_, t, n, p);
    return *this;
  }
  MsgBuilder& flag(std::uint16_t t) {
    mnl_attr_put(nlh_, t, 0, nullptr);
    return *this;
  }
  MsgBuilder& begin(std::uint16_t t) {
    nests_.push_back(mnl_attr_nest_start(nlh_, t));
    return *this;
  }
  MsgBuilder& end() {
    mnl_attr_nest_end(nlh_, nests_.back());
    nests_.pop_back();
    return *this;
  }
  std::span<const std::uint8_t> span() const {
    return {reinterpret_cast<const std::uint8_t*>(nlh_), nlh_->nlmsg_len};
  }
  std::vector<std::uint8_t> vec() const {
    auto s = span();
    return {s.begin(), s.end()};
  }
  nlmsghdr* nlh() { return nlh_; }

 private:
  // What mnl_attr_put_u8/u16/u32/u64 do: the integer's bytes, in host order, as the payload.
  template <class V>
  MsgBuilder& put(std::uint16_t t, V v) {
    mnl_attr_put(nlh_, t, sizeof(V), &v);
    return *this;
  }

  std::vector<std::uint8_t> storage_;
  nlmsghdr* nlh_;
  void* extra_;
  std::vector<nlattr*> nests_;
};

// A generic-netlink message with the genlmsghdr filled in.
inline MsgBuilder genl(std::uint16_t family, std::uint8_t cmd) {
  MsgBuilder b(family, sizeof(genlmsghdr));
  b.header<genlmsghdr>()->cmd = cmd;
  b.header<genlmsghdr>()->version = 1;
  return b;
}

}  // namespace foreshock::netdev::testing
