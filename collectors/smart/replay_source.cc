#include "collectors/smart/replay_source.h"

#include <algorithm>
#include <set>
#include <system_error>

#include "collectors/smart/ata_reader.h"
#include "collectors/smart/nvme_log.h"
#include "collectors/smart/smartctl_json.h"
#include "core/file_util.h"
#include "core/log.h"

namespace foreshock::smart {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxReplayFiles = 10000;
constexpr std::size_t kMaxReplayFileBytes = 16 << 20;

enum class Kind { kBlob, kSmartctl, kNvme };

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class ReplaySource final : public DeviceSource {
 public:
  ReplaySource(fs::path dir, std::string component)
      : dir_(std::move(dir)), component_(std::move(component)) {}

  std::vector<DiskIdentity> discover() override {
    std::vector<DiskIdentity> out;
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) {
      if (!warned_missing_) {
        log::warn(component_, "replay_dir " + dir_.string() + " is not a readable directory");
        warned_missing_ = true;
      }
      return out;
    }
    warned_missing_ = false;
    std::size_t files = 0;
    auto it = fs::recursive_directory_iterator(dir_,
                                               fs::directory_options::follow_directory_symlink |
                                                   fs::directory_options::skip_permission_denied,
                                               ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it.depth() > 8) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      if (++files > kMaxReplayFiles) {
        log::warn(component_, "replay_dir: more than " + std::to_string(kMaxReplayFiles) +
                                  " files, the rest is ignored");
        break;
      }
      const fs::path& p = it->path();
      auto kind = classify(p);
      if (!kind) continue;
      // Lexical, so that files reached through a symlinked folder keep the link's name.
      fs::path rel = p.lexically_relative(dir_);
      std::string name = (rel.empty() ? p.filename() : rel).string();
      for (const char* ext : {".json", ".nvme"}) {
        if (name.ends_with(ext)) name.resize(name.size() - std::string_view(ext).size());
      }
      std::replace(name.begin(), name.end(), '/', '_');
      DiskIdentity d;
      d.device = name;
      d.transport = "replay";
      d.node = p.string();
      d.backend = *kind == Kind::kBlob
                      ? Backend::kAta
                      : (*kind == Kind::kNvme ? Backend::kNvme : Backend::kSmartctl);
      out.push_back(std::move(d));
    }
    std::sort(out.begin(), out.end(),
              [](const DiskIdentity& a, const DiskIdentity& b) { return a.device < b.device; });
    out.erase(std::unique(out.begin(), out.end(),
                          [](const DiskIdentity& a, const DiskIdentity& b) {
                            return a.device == b.device;
                          }),
              out.end());
    return out;
  }

  PowerState checkPower(const DiskIdentity&) override { return PowerState::kUnknown; }

  ReadOutcome readSmart(const DiskIdentity& d, PowerCheckMode) override {
    ReadOutcome o;
    o.kind = ReadOutcome::Kind::kFailed;
    auto text = readFileCapped(d.node, kMaxReplayFileBytes);
    if (!text) {
      o.reason = "replay_file_unreadable";
      o.message = text.error().message;
      return o;
    }
    switch (d.backend) {
      case Backend::kAta: {
        auto r = readAtaBlob(bytes(*text));
        if (!r) {
          o.reason = "replay_file_invalid";
          o.message = d.node + ": " + r.error().message;
          return o;
        }
        o.kind = ReadOutcome::Kind::kReading;
        o.reading = std::move(*r);
        return o;
      }
      case Backend::kNvme: {
        auto h = parseNvmeSmartLog(bytes(*text));
        if (!h) {
          o.reason = "replay_file_invalid";
          o.message = d.node + ": " + h.error().message;
          return o;
        }
        NvmeIdentity id;
        if (auto idtext = readFileBounded(d.node + "-id", kNvmeIdentifySize)) {
          auto parsed = parseNvmeIdentifyController(bytes(*idtext));
          if (!parsed) {
            o.reason = "replay_file_invalid";
            o.message = d.node + "-id: " + parsed.error().message;
            return o;
          }
          id = *parsed;
        }
        o.kind = ReadOutcome::Kind::kReading;
        o.reading = nvmeReading(id, *h);
        return o;
      }
      case Backend::kSmartctl: {
        auto parsed = parseSmartctlJson(*text);
        if (!parsed) {
          o.reason = "replay_file_invalid";
          o.message = d.node + ": " + parsed.error().message;
          return o;
        }
        o.power = parsed->power;
        if (parsed->kind == SmartctlOutcome::Kind::kReading) {
          o.kind = ReadOutcome::Kind::kReading;
          o.reading = std::move(parsed->reading);
        } else if (parsed->kind == SmartctlOutcome::Kind::kSkipped) {
          o.kind = ReadOutcome::Kind::kSkipped;
        } else {
          o.reason = parsed->reason;
          o.message = d.node + ": smartctl: " + parsed->message;
        }
        return o;
      }
    }
    return o;
  }

 private:
  std::optional<Kind> classify(const fs::path& p) {
    std::string name = p.filename().string();
    if (name.ends_with(".nvme")) return Kind::kNvme;
    if (name.ends_with(".nvme-id")) return std::nullopt;
    auto head = readFileBounded(p, 4);
    if (head && *head == "IDFY") return Kind::kBlob;
    if (name.ends_with(".json")) {
      // A smartctl device report has both "smartctl" and "device"; `smartctl --scan` output
      // has "devices" and nvme-cli JSON has neither.
      auto text = readFileCapped(p, kMaxReplayFileBytes);
      if (text &&
          (text->find("\"smartctl\"") != std::string::npos ||
           text->find("\"device\"") != std::string::npos) &&
          (text->find("\"device\"") != std::string::npos ||
           text->find("\"devices\"") == std::string::npos)) {
        return Kind::kSmartctl;
      }
    }
    if (skipped_.insert(p.string()).second) {
      log::debug(component_, "replay_dir: " + p.string() + " is not a SMART dump; skipped");
    }
    return std::nullopt;
  }

  fs::path dir_;
  std::string component_;
  bool warned_missing_ = false;
  std::set<std::string> skipped_;
};

}  // namespace

std::shared_ptr<DeviceSource> makeReplaySource(fs::path dir, std::string component) {
  return std::make_shared<ReplaySource>(std::move(dir), std::move(component));
}

}  // namespace foreshock::smart
