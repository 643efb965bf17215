#include "collectors/smart/ata_reader.h"

#include <atasmart.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

namespace foreshock::smart {

namespace {

std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t off) {
  return (static_cast<std::uint32_t>(b[off]) << 24) |
         (static_cast<std::uint32_t>(b[off + 1]) << 16) |
         (static_cast<std::uint32_t>(b[off + 2]) << 8) | static_cast<std::uint32_t>(b[off + 3]);
}

std::string tagText(std::span<const std::uint8_t> b, std::size_t off) {
  std::string s;
  for (std::size_t i = 0; i < 4; ++i) {
    char c = static_cast<char>(b[off + i]);
    s += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  return s;
}

std::string lowerOverall(const char* s) {
  std::string out = s == nullptr ? "" : s;
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct SkDiskDeleter {
  void operator()(SkDisk* d) const { sk_disk_free(d); }
};

void onAttribute(SkDisk*, const SkSmartAttributeParsedData* a, void* userdata) {
  auto* r = static_cast<SmartReading*>(userdata);
  AtaAttribute attr;
  attr.id = a->id;
  // libatasmart names unknown attributes NULL; name them like skdump does.
  attr.name = a->name != nullptr ? a->name : "attribute-" + std::to_string(a->id);
  if (a->current_value_valid) attr.value = a->current_value;
  if (a->worst_value_valid) attr.worst = a->worst_value;
  if (a->threshold_valid) attr.threshold = a->threshold;
  attr.raw = 0;
  for (int i = 0; i < 6; ++i) attr.raw |= static_cast<std::uint64_t>(a->raw[i]) << (8 * i);
  attr.prefailure = a->prefailure;
  attr.online = a->online;
  if (a->good_now_valid) attr.good_now = a->good_now;
  if (a->good_in_the_past_valid) attr.good_in_past = a->good_in_the_past;
  if (attr.good_now && !*attr.good_now) {
    attr.when_failed = "now";
  } else if (attr.good_in_past && !*attr.good_in_past) {
    attr.when_failed = "past";
  }
  r->attributes.push_back(std::move(attr));
}

}  // namespace

Result<SkBlobLayout> validateSkBlob(std::span<const std::uint8_t> b) {
  SkBlobLayout l;
  std::size_t off = 0;
  while (off < b.size()) {
    if (b.size() - off < 8) {
      return makeError("skdump blob: truncated record header at byte " + std::to_string(off));
    }
    std::string tag = tagText(b, off);
    std::uint32_t len = be32(b, off + 4);
    if (len > b.size() - off - 8) {
      return makeError("skdump blob: record " + tag + " at byte " + std::to_string(off) +
                       " claims " + std::to_string(len) + " bytes, only " +
                       std::to_string(b.size() - off - 8) + " left");
    }
    bool* seen = nullptr;
    std::uint32_t want = 0;
    if (tag == "IDFY") {
      seen = &l.has_identify;
      want = 512;
    } else if (tag == "SMST") {
      seen = &l.has_status;
      want = 4;
    } else if (tag == "SMDT") {
      seen = &l.has_data;
      want = 512;
    } else if (tag == "SMTH") {
      seen = &l.has_thresholds;
      want = 512;
    } else {
      return makeError("skdump blob: unknown record tag \"" + tag + "\" at byte " +
                       std::to_string(off));
    }
    if (*seen) return makeError("skdump blob: record " + tag + " appears twice");
    if (len != want) {
      return makeError("skdump blob: record " + tag + " has " + std::to_string(len) +
                       " bytes, expected " + std::to_string(want));
    }
    *seen = true;
    off += 8 + len;
  }
  if (!l.has_identify) return makeError("skdump blob: no IDFY (IDENTIFY DEVICE) record");
  return l;
}

Result<SmartReading> readSkDisk(SkDisk* d, bool read_data) {
  SmartReading r;
  r.protocol = "ata";
  SkBool available = FALSE;
  if (sk_disk_identify_is_available(d, &available) < 0 || !available) {
    return makeError("IDENTIFY DEVICE data not available");
  }
  const SkIdentifyParsedData* ipd = nullptr;
  if (sk_disk_identify_parse(d, &ipd) < 0 || ipd == nullptr) {
    return makeError(std::string("cannot parse IDENTIFY data: ") + std::strerror(errno));
  }
  r.model = ipd->model;
  r.serial = ipd->serial;
  r.firmware = ipd->firmware;
  if (sk_disk_smart_is_available(d, &available) < 0 || !available) {
    return makeError("SMART is not available on this disk");
  }
  SkBool good = FALSE;
  if (sk_disk_smart_status(d, &good) == 0) r.healthy = good != FALSE;
  if (read_data && sk_disk_smart_read_data(d) < 0) {
    return makeError(std::string("SMART READ DATA failed: ") + std::strerror(errno));
  }
  const SkSmartParsedData* spd = nullptr;
  if (sk_disk_smart_parse(d, &spd) < 0 || spd == nullptr) {
    return makeError(std::string("cannot parse SMART data: ") + std::strerror(errno));
  }
  r.self_test_status = static_cast<int>(spd->self_test_execution_status);
  if (sk_disk_smart_parse_attributes(d, onAttribute, &r) < 0) {
    return makeError(std::string("cannot parse SMART attributes: ") + std::strerror(errno));
  }
  std::uint64_t v = 0;
  if (sk_disk_smart_get_power_on(d, &v) == 0) r.power_on_seconds = static_cast<double>(v) / 1000.0;
  if (sk_disk_smart_get_power_cycle(d, &v) == 0) r.power_cycles = v;
  if (sk_disk_smart_get_bad(d, &v) == 0) r.bad_sectors = v;
  if (sk_disk_smart_get_temperature(d, &v) == 0) {
    r.temperature_celsius = (static_cast<double>(v) - 273150.0) / 1000.0;
  }
  SkSmartOverall overall;
  if (sk_disk_smart_get_overall(d, &overall) == 0) {
    r.overall = lowerOverall(sk_smart_overall_to_string(overall));
  }
  deriveAtaCounters(r);
  return r;
}

Result<SmartReading> readAtaBlob(std::span<const std::uint8_t> blob) {
  auto layout = validateSkBlob(blob);
  if (!layout) return layout.error();
  SkDisk* raw = nullptr;
  if (sk_disk_open(nullptr, &raw) < 0 || raw == nullptr) {
    return makeError(std::string("libatasmart: cannot create a blob disk: ") +
                     std::strerror(errno));
  }
  std::unique_ptr<SkDisk, SkDiskDeleter> d(raw);
  if (sk_disk_set_blob(d.get(), blob.data(), blob.size()) < 0) {
    return makeError(std::string("libatasmart rejected the blob: ") + std::strerror(errno));
  }
  return readSkDisk(d.get(), false);
}

}  // namespace foreshock::smart
