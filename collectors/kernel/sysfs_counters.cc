#include "collectors/kernel/sysfs_counters.h"

#include <algorithm>
#include <system_error>

#include "core/file_util.h"

namespace foreshock {

namespace fs = std::filesystem;

namespace {

std::optional<std::uint64_t> readCount(const fs::path& p) {
  auto v = readAttribute(p);
  if (!v) return std::nullopt;
  return parseUint(*v);
}

// "mc12" -> 12 for sorting by number rather than by name.
long numberAfter(std::string_view name, std::size_t prefix) {
  auto n = parseInt(name.substr(std::min(prefix, name.size())));
  return n ? static_cast<long>(*n) : -1;
}

template <class F>
void eachEntry(const fs::path& dir, F&& f) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    f(it->path(), it->path().filename().string());
  }
}

}  // namespace

Result<AerStats> parseAerStats(std::string_view text) {
  AerStats out;
  std::size_t lineno = 0;
  for (const auto& raw : split(text, '\n')) {
    ++lineno;
    const std::string_view line = trim(raw);
    if (line.empty()) continue;
    const auto words = splitWhitespace(line);
    const auto count = words.size() == 2 ? parseUint(words[1]) : std::nullopt;
    if (!count) {
      return makeError("line " + std::to_string(lineno) + " '" + std::string(line.substr(0, 80)) +
                       "' is not '<error name> <count>'");
    }
    if (startsWith(words[0], "TOTAL_ERR_")) {
      out.total = *count;
    } else {
      out.types.emplace_back(std::string(words[0]), *count);
    }
  }
  if (!out.total && out.types.empty()) return makeError("no counters");
  return out;
}

std::vector<AerDevice> readAerDevices(const fs::path& pci_devices) {
  static constexpr std::pair<const char*, const char*> kFiles[] = {
      {"corrected", "aer_dev_correctable"},
      {"fatal", "aer_dev_fatal"},
      {"nonfatal", "aer_dev_nonfatal"},
  };
  std::vector<AerDevice> out;
  eachEntry(pci_devices, [&](const fs::path& dev, const std::string& name) {
    AerDevice d;
    d.address = name;
    for (const auto& [severity, file] : kFiles) {
      const fs::path p = dev / file;
      std::error_code ec;
      if (!fs::exists(p, ec)) continue;
      auto text = readFileBounded(p, 64 * 1024);
      if (!text) {
        d.errors.push_back(text.error().message);
        continue;
      }
      auto stats = parseAerStats(*text);
      if (!stats) {
        d.errors.push_back(p.string() + ": " + stats.error().message);
        continue;
      }
      d.severities.emplace_back(severity, std::move(*stats));
    }
    if (!d.severities.empty() || !d.errors.empty()) out.push_back(std::move(d));
  });
  std::sort(out.begin(), out.end(),
            [](const AerDevice& a, const AerDevice& b) { return a.address < b.address; });
  return out;
}

std::vector<EdacController> readEdacControllers(const fs::path& edac_mc) {
  std::vector<EdacController> out;
  eachEntry(edac_mc, [&](const fs::path& dir, const std::string& name) {
    if (!startsWith(name, "mc") || numberAfter(name, 2) < 0) return;
    EdacController c;
    c.name = name;
    c.mc_name = readAttribute(dir / "mc_name").value_or("");
    c.ce = readCount(dir / "ce_count");
    c.ue = readCount(dir / "ue_count");
    c.ce_noinfo = readCount(dir / "ce_noinfo_count");
    c.ue_noinfo = readCount(dir / "ue_noinfo_count");
    eachEntry(dir, [&](const fs::path& sub, const std::string& sname) {
      if (!startsWith(sname, "dimm") || numberAfter(sname, 4) < 0) return;
      EdacDimm d;
      d.name = sname;
      d.label = readAttribute(sub / "dimm_label").value_or("");
      d.ce = readCount(sub / "dimm_ce_count");
      d.ue = readCount(sub / "dimm_ue_count");
      c.dimms.push_back(std::move(d));
    });
    std::sort(c.dimms.begin(), c.dimms.end(), [](const EdacDimm& a, const EdacDimm& b) {
      return numberAfter(a.name, 4) < numberAfter(b.name, 4);
    });
    if (c.dimms.empty()) {
      // The legacy layout (kernels before 3.6, and drivers that only fill it):
      // csrow<N>/ch<M>_ce_count and ch<M>_dimm_label per channel; uncorrectable errors are
      // only counted per csrow there (csrow<N>/ue_count), so the channel has no ue.
      eachEntry(dir, [&](const fs::path& row, const std::string& rname) {
        if (!startsWith(rname, "csrow") || numberAfter(rname, 5) < 0) return;
        eachEntry(row, [&](const fs::path& f, const std::string& fname) {
          const std::string suffix = "_ce_count";
          if (!startsWith(fname, "ch") || fname.size() <= suffix.size() ||
              fname.compare(fname.size() - suffix.size(), suffix.size(), suffix) != 0)
            return;
          const std::string ch = fname.substr(0, fname.size() - suffix.size());  // "ch0"
          EdacDimm d;
          d.name = rname + "_" + ch;
          d.label = readAttribute(row / (ch + "_dimm_label")).value_or("");
          d.ce = readCount(f);
          c.dimms.push_back(std::move(d));
        });
      });
      std::sort(c.dimms.begin(), c.dimms.end(),
                [](const EdacDimm& a, const EdacDimm& b) { return a.name < b.name; });
    }
    out.push_back(std::move(c));
  });
  std::sort(out.begin(), out.end(), [](const EdacController& a, const EdacController& b) {
    return numberAfter(a.name, 2) < numberAfter(b.name, 2);
  });
  return out;
}

std::vector<MdArray> readMdArrays(const fs::path& sys_block) {
  std::vector<MdArray> out;
  eachEntry(sys_block, [&](const fs::path& dir, const std::string& name) {
    if (!startsWith(name, "md")) return;
    const fs::path md = dir / "md";
    std::error_code ec;
    if (!fs::is_directory(md, ec)) return;
    MdArray a;
    a.name = name;
    a.level = readAttribute(md / "level").value_or("");
    a.array_state = readAttribute(md / "array_state").value_or("");
    a.sync_action = readAttribute(md / "sync_action").value_or("");
    a.raid_disks = readCount(md / "raid_disks");
    a.degraded = readCount(md / "degraded");
    eachEntry(md, [&](const fs::path& sub, const std::string& sname) {
      if (!startsWith(sname, "dev-")) return;
      const std::string state = readAttribute(sub / "state").value_or("");
      const auto has = [&](std::string_view flag) {
        for (const auto& f : split(state, ','))
          if (trim(f) == flag) return true;
        return false;
      };
      if (has("faulty")) {
        ++a.members_faulty;
      } else if (has("in_sync")) {
        ++a.members_in_sync;
      } else if (has("spare")) {
        ++a.members_spare;
      } else {
        ++a.members_other;
      }
    });
    out.push_back(std::move(a));
  });
  std::sort(out.begin(), out.end(), [](const MdArray& a, const MdArray& b) {
    return numberAfter(a.name, 2) < numberAfter(b.name, 2);
  });
  return out;
}

}  // namespace foreshock
