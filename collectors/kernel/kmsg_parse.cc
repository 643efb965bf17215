#include "collectors/kernel/kmsg_parse.h"

#include <array>
#include <cctype>
#include <utility>

#include "core/file_util.h"

namespace foreshock {

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// A label value from kernel text: the allowed characters of device names, bus addresses and
// array names, at most 48 bytes. Anything else becomes '_' so that an odd name can neither
// break the exposition nor grow without bound.
std::string labelToken(std::string_view s) {
  if (s.size() > 48) s = s.substr(0, 48);
  std::string out(s);
  for (char& c : out) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':' ||
                    c == '-' || c == '_' || c == '!' || c == '+';
    if (!ok) c = '_';
  }
  return out;
}

// The token starting at `pos` up to (not including) any of `stops` or the end.
std::string_view tokenAt(std::string_view s, std::size_t pos, std::string_view stops) {
  if (pos >= s.size()) return {};
  const std::size_t end = s.find_first_of(stops, pos);
  return s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
}

bool contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

// "0000:01:00.0" (domain:bus:dev.fn) or "01:00.0": what the AER messages name the source by.
bool looksLikeBdf(std::string_view s) {
  if (s.size() != 12 && s.size() != 7) return false;
  const std::string_view tail = s.substr(s.size() - 7);
  return tail[2] == ':' && tail[5] == '.' && std::isxdigit(static_cast<unsigned char>(tail[0])) &&
         std::isxdigit(static_cast<unsigned char>(tail[6])) && (s.size() == 7 || s[4] == ':');
}

KernelEvent event(KernelEventClass cls, std::string_view device, std::string detail = {},
                  std::uint64_t count = 1) {
  KernelEvent e;
  e.cls = cls;
  e.device = labelToken(device);
  e.detail = std::move(detail);
  e.count = count;
  return e;
}

// block/blk-core.c blk_print_req_error():
//   "%s error, dev %s, sector %llu op 0x%x:(%s) flags 0x%x phys_seg %u prio class %u"
// with the name from blk_errors[] ("I/O", "critical medium", "timeout", ...). Kernels before
// 5.x prefixed it with the function ("blk_update_request: I/O error, dev sda, sector 8",
// "print_req_error: ...", "end_request: ..."). Statuses that are not the device's fault
// ("operation not supported" for a discard, "nonblocking retry", "reservation conflict") are
// not counted. "Buffer I/O error on dev sda1" (fs/buffer.c) is the same failure seen by the
// page cache and is not counted again.
std::optional<KernelEvent> matchBlock(std::string_view m) {
  const std::size_t pos = m.find(" error, dev ");
  if (pos == std::string_view::npos) return std::nullopt;
  std::size_t start = m.rfind(": ", pos);
  start = start == std::string_view::npos ? 0 : start + 2;
  const std::string_view kind = m.substr(start, pos - start);
  static constexpr std::array<std::string_view, 8> kDeviceFaults = {"I/O",
                                                                    "critical medium",
                                                                    "timeout",
                                                                    "recoverable transport",
                                                                    "critical target",
                                                                    "critical nexus",
                                                                    "protection",
                                                                    "critical space allocation"};
  bool fault = false;
  for (auto k : kDeviceFaults) fault = fault || k == kind;
  if (!fault) return std::nullopt;
  const std::string_view dev = tokenAt(m, pos + 12, ", ");
  if (dev.empty() || dev == "?") return std::nullopt;
  return event(KernelEventClass::kBlockIoError, dev);
}

// fs/ext4/super.c: __ext4_error() "EXT4-fs error (device %s): %s:%d: comm %s: %pV",
// __ext4_std_error() "EXT4-fs error (device %s) in %s:%d: %s"; ext4_handle_error()
// ext4_msg(sb, KERN_CRIT, "Remounting filesystem read-only") -> "EXT4-fs (%s): Remounting
// filesystem read-only". The same code serves ext2/ext3 mounts; older kernels print EXT3-fs.
std::optional<KernelEvent> matchExt(std::string_view m) {
  if (m.size() < 8 || m.substr(0, 3) != "EXT" || !isDigit(m[3]) || m.substr(4, 4) != "-fs ")
    return std::nullopt;
  const std::string fs = "ext" + std::string(1, m[3]);
  const std::string_view rest = m.substr(8);
  if (startsWith(rest, "error (device ")) {
    return event(KernelEventClass::kFsError, tokenAt(rest, 14, ") "), fs);
  }
  if (startsWith(rest, "(") && contains(rest, "): Remounting filesystem read-only")) {
    return event(KernelEventClass::kFsReadOnly, tokenAt(rest, 1, ")"), fs);
  }
  return std::nullopt;
}

// fs/xfs/xfs_message.c prefixes every message with "XFS (%s): ". fs/xfs/xfs_fsops.c
// xfs_do_force_shutdown() ends its message with "Shutting down filesystem." (older kernels:
// "Log I/O Error Detected.  Shutting down filesystem"); errors say "error"/"Error" or
// "corruption"/"Corruption" ("metadata I/O error in ...", "Metadata corruption detected at").
std::optional<KernelEvent> matchXfs(std::string_view m) {
  if (!startsWith(m, "XFS (")) return std::nullopt;
  const std::string_view dev = tokenAt(m, 5, ")");
  const std::string_view rest = m.substr(std::min(m.size(), 5 + dev.size()));
  if (contains(rest, "Shutting down filesystem")) {
    return event(KernelEventClass::kFsReadOnly, dev, "xfs");
  }
  if (contains(rest, "error") || contains(rest, "Error") || contains(rest, "orruption")) {
    return event(KernelEventClass::kFsError, dev, "xfs");
  }
  return std::nullopt;
}

// fs/btrfs/messages.c: "BTRFS %s (device %s%s): %pV" with the level name ("error",
// "critical", "info"...) and, since 6.x, " state XY" after the device; __btrfs_handle_fs_error
// prints "BTRFS: error (device %s%s) in %s:%d: errno=%d %s" and then "forced readonly".
std::optional<KernelEvent> matchBtrfs(std::string_view m) {
  if (!startsWith(m, "BTRFS")) return std::nullopt;
  const std::size_t d = m.find("(device ");
  if (d == std::string_view::npos || d > 24) return std::nullopt;
  const std::string_view dev = tokenAt(m, d + 8, ") ");
  if (contains(m, "forced readonly")) return event(KernelEventClass::kFsReadOnly, dev, "btrfs");
  const std::string_view level = m.substr(0, d);
  if (level == "BTRFS error " || level == "BTRFS critical " || level == "BTRFS: error ") {
    return event(KernelEventClass::kFsError, dev, "btrfs");
  }
  return std::nullopt;
}

// arch/x86/kernel/cpu/mce/core.c (pr_fmt "mce: ", HW_ERR "[Hardware Error]: "):
// mce_notify_irq() "Machine check events logged" (a notice after CMCI or polling found
// corrected errors), __print_mce() "CPU %d: Machine Check%s: %Lx Bank %d: %016Lx" with the
// bank's MCi_STATUS last (one per record; the lines after it, "TSC", "PROCESSOR", "ADDR",
// belong to the same record and are not counted). The record is printed for corrected errors
// too when no other consumer (mcelog, rasdaemon) takes them, so it is classed by the status'
// UC bit (bit 61, Intel SDM vol. 3B 16.3.2.2): "corrected" or "uncorrected".
// mm/memory-failure.c (pr_fmt "Memory failure: ") reports a page taken out of service.
std::optional<KernelEvent> matchMce(std::string_view m) {
  if (startsWith(m, "mce: ")) {
    if (contains(m, "Machine check events logged"))
      return event(KernelEventClass::kMce, "", "logged");
    const std::size_t cpu = m.find("CPU ");
    if (cpu == std::string_view::npos || m.find(": Machine Check", cpu) == std::string_view::npos)
      return std::nullopt;
    const std::size_t bank = m.rfind(" Bank ");
    const std::size_t colon = bank == std::string_view::npos ? bank : m.find(": ", bank);
    if (colon != std::string_view::npos) {
      const std::string_view hex = tokenAt(m, colon + 2, " \\");
      // The UC bit is the third-highest of 64: the first hex digit's 0x2 bit.
      if (hex.size() == 16 && std::isxdigit(static_cast<unsigned char>(hex[0])) != 0) {
        const int top = std::isdigit(static_cast<unsigned char>(hex[0])) != 0
                            ? hex[0] - '0'
                            : (std::tolower(static_cast<unsigned char>(hex[0])) - 'a' + 10);
        return event(KernelEventClass::kMce, "", (top & 0x2) != 0 ? "uncorrected" : "corrected");
      }
    }
    return event(KernelEventClass::kMce, "", "uncorrected");  // no status: assume the worst
  }
  if (startsWith(m, "Memory failure: ") && contains(m, "recovery action")) {
    return event(KernelEventClass::kMce, "", "memory_failure");
  }
  return std::nullopt;
}

// drivers/pci/pcie/aer.c. Since 4.19 (pr_fmt "AER: " through pci_info on the root port):
//   aer_isr_one_error(): "Corrected error received: %04x:%02x:%02x.%d",
//   "Uncorrected (%s) error received: ..." with "Fatal"/"Non-Fatal"; "Multiple " prefixed
//   when more than one was pending. 6.x aer_print_port_info():
//   "%s%s error message received from %04x:%02x:%02x.%d" with "Multiple " and
//   aer_error_severity_string[] ("Uncorrected (Non-Fatal)", "Uncorrected (Fatal)", "Corrected"
//   in 6.1, as captured from Debian's 6.1 kernel in tests/fixtures/kernel; "Uncorrectable
//   ...", "Correctable" in later kernels). Earlier kernels said "id=%04x" instead of the address;
//   then the reporting port (the dev_printk prefix) is the device. The per-device "PCIe Bus Error:
//   severity=..." detail lines that follow describe the same error and are not counted again.
std::optional<KernelEvent> matchAer(std::string_view m) {
  const std::size_t a = m.find("AER: ");
  if (a == std::string_view::npos) return std::nullopt;
  std::string_view rest = m.substr(a + 5);
  if (startsWith(rest, "Multiple ")) rest.remove_prefix(9);
  // The severity word, then " error received" (4.19-5.x) or " error message received" (6.x;
  // 6.1 still says "Uncorrected"/"Corrected" there, later kernels "Uncorrectable"/"Correctable").
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kSeverities = {{
      {"Corrected", "corrected"},
      {"Correctable", "corrected"},
      {"Uncorrected (Non-Fatal)", "nonfatal"},
      {"Uncorrectable (Non-Fatal)", "nonfatal"},
      {"Uncorrected (Fatal)", "fatal"},
      {"Uncorrectable (Fatal)", "fatal"},
  }};
  std::string severity;
  for (const auto& [word, cls] : kSeverities) {
    if (!startsWith(rest, word)) continue;
    const std::string_view after = rest.substr(word.size());
    if (startsWith(after, " error received") || startsWith(after, " error message received")) {
      severity = cls;
      break;
    }
  }
  if (severity.empty()) return std::nullopt;
  std::string_view source;
  for (std::string_view marker :
       {std::string_view("received from "), std::string_view("received: ")}) {
    const std::size_t r = rest.find(marker);
    if (r != std::string_view::npos) {
      source = tokenAt(rest, r + marker.size(), " ,");
      break;
    }
  }
  if (!looksLikeBdf(source)) {
    // "pcieport 0000:00:1c.0: AER: ..." -> the port's address.
    std::string_view prefix = m.substr(0, a);
    while (!prefix.empty() && (prefix.back() == ' ' || prefix.back() == ':'))
      prefix.remove_suffix(1);
    const std::size_t sp = prefix.rfind(' ');
    source = sp == std::string_view::npos ? prefix : prefix.substr(sp + 1);
  }
  if (source.empty()) source = "unknown";
  return event(KernelEventClass::kPcieAer, source, severity);
}

// drivers/edac/edac_mc.c edac_ce_error()/edac_ue_error() through edac_mc_printk()
// ("EDAC MC%d: "): "%d CE %s%s on %s (%s %s - %s)" and "%d UE %s%s on %s (%s%s - %s)".
// Kernels before 3.6 printed "EDAC MC%d: CE page 0x..." / "UE page ..." (one error each).
std::optional<KernelEvent> matchEdac(std::string_view m) {
  if (!startsWith(m, "EDAC MC")) return std::nullopt;
  std::size_t i = 7;
  while (i < m.size() && isDigit(m[i])) ++i;
  if (i == 7 || m.substr(i, 2) != ": ") return std::nullopt;
  const std::string controller = "mc" + std::string(m.substr(7, i - 7));
  std::string_view rest = m.substr(i + 2);
  std::uint64_t count = 1;
  std::size_t j = 0;
  while (j < rest.size() && isDigit(rest[j])) ++j;
  if (j > 0) {
    if (j > 9 || j + 1 >= rest.size() || rest[j] != ' ') return std::nullopt;
    count = *parseUint(rest.substr(0, j));
    rest.remove_prefix(j + 1);
  }
  if (startsWith(rest, "CE "))
    return event(KernelEventClass::kEdac, controller, "corrected", count);
  if (startsWith(rest, "UE "))
    return event(KernelEventClass::kEdac, controller, "uncorrected", count);
  return std::nullopt;
}

// drivers/ata/libata-eh.c through ata_link_printk ("ata%u: ", or "ata%u.%02u: " for a device
// or PMP link): ata_eh_reset() "hard resetting link" / "soft resetting link";
// ata_eh_link_report() "exception Emask 0x%x SAct 0x%x SErr 0x%x action 0x%x%s";
// drivers/ata/libata-core.c sata_print_link_status() "SATA link down (SStatus %X SControl %X)".
std::optional<KernelEvent> matchAta(std::string_view m) {
  if (!startsWith(m, "ata") || m.size() < 5 || !isDigit(m[3])) return std::nullopt;
  std::size_t i = 3;
  while (i < m.size() && isDigit(m[i])) ++i;
  const std::string_view port = m.substr(0, i);
  if (i < m.size() && m[i] == '.') {
    ++i;
    while (i < m.size() && isDigit(m[i])) ++i;
  }
  if (m.substr(i, 2) != ": ") return std::nullopt;
  const std::string_view rest = m.substr(i + 2);
  if (startsWith(rest, "hard resetting link") || startsWith(rest, "soft resetting link"))
    return event(KernelEventClass::kAtaLinkReset, port);
  if (startsWith(rest, "exception Emask")) return event(KernelEventClass::kAtaException, port);
  if (startsWith(rest, "SATA link down")) return event(KernelEventClass::kAtaLinkDown, port);
  return std::nullopt;
}

// drivers/nvme/host/pci.c nvme_timeout() (dev_warn on the controller, "nvme nvme%d: "):
//   "I/O tag %d (%04x) opcode %#x (%s) QID %d timeout, aborting" / ", reset controller" /
//   ", disable controller" / ", completion polled" (before 6.x: "I/O %d QID %d timeout, ...");
//   nvme_warn_reset(): "controller is down; will reset: CSTS=0x%x, PCI_STATUS=0x%hx" (the
//   timeout handler found the controller dead). drivers/nvme/host/core.c and the fabrics
//   transports: "resetting controller".
std::vector<KernelEvent> matchNvme(std::string_view m) {
  std::vector<KernelEvent> out;
  if (!startsWith(m, "nvme nvme")) return out;
  const std::string_view dev = tokenAt(m, 5, ": ");
  if (dev.size() <= 4 || !isDigit(dev[4])) return out;
  const std::string_view rest = m.substr(5 + dev.size());
  const bool timeout = contains(rest, " timeout, ");
  const bool down = contains(rest, "controller is down; will reset");
  if (timeout || down) out.push_back(event(KernelEventClass::kNvmeTimeout, dev));
  if (down || (timeout && contains(rest, "timeout, reset controller")) ||
      contains(rest, "resetting controller")) {
    out.push_back(event(KernelEventClass::kNvmeReset, dev));
  }
  return out;
}

// drivers/md/raid1.c raid1_error(): "md/raid1:%s: Disk failure on %pg, disabling device.";
// raid10.c "md/raid10:%s: Disk failure on ..."; raid5.c (raid4/5/6) "md/raid:%s: Disk failure
// on %pg, disabling device."
std::optional<KernelEvent> matchMd(std::string_view m) {
  if (!startsWith(m, "md/raid")) return std::nullopt;
  const std::size_t colon = m.find(':');
  if (colon == std::string_view::npos || colon > 10) return std::nullopt;
  const std::string_view array = tokenAt(m, colon + 1, ":");
  if (array.empty() || !contains(m, ": Disk failure on ")) return std::nullopt;
  return event(KernelEventClass::kMdDiskFailure, array);
}

// drivers/acpi/apei/ghes.c __ghes_print_estatus() prefixes every line of a firmware-first error
// record with "{%u}" HW_ERR ("{1}[Hardware Error]: "); drivers/firmware/efi/cper.c
// cper_estatus_print() prints "event severity: %s" once per record with cper_severity_str():
// "recoverable", "fatal", "corrected", "info". Servers that handle errors in firmware (many
// Dell, HPE, Lenovo) report memory and PCIe errors this way instead of through EDAC or AER.
std::optional<KernelEvent> matchGhes(std::string_view m) {
  if (m.size() < 3 || m[0] != '{' || !isDigit(m[1])) return std::nullopt;
  const std::size_t p = m.find("[Hardware Error]: event severity: ");
  if (p == std::string_view::npos || p > 16) return std::nullopt;
  const std::string_view sev = tokenAt(m, p + 34, " \\");
  for (std::string_view known : {"corrected", "recoverable", "fatal", "info"}) {
    if (sev == known) return event(KernelEventClass::kFirmwareError, "", std::string(sev));
  }
  return std::nullopt;
}

void add(std::vector<KernelEvent>* out, std::optional<KernelEvent> e) {
  if (e) out->push_back(std::move(*e));
}

}  // namespace

Result<KmsgRecord> parseKmsgRecord(std::string_view bytes) {
  const std::size_t nl = bytes.find('\n');
  const std::string_view header = bytes.substr(0, nl);
  const std::size_t semi = header.find(';');
  if (semi == std::string_view::npos) {
    return makeError("kmsg record without ';' between prefix and message");
  }
  const std::string_view fields = header.substr(0, semi);
  KmsgRecord r;
  std::size_t pos = 0;
  std::array<std::string_view, 4> f{};
  for (std::size_t k = 0; k < 4; ++k) {
    const std::size_t comma = fields.find(',', pos);
    if (comma == std::string_view::npos && k < 3) {
      return makeError("kmsg record header '" + std::string(fields.substr(0, 64)) +
                       "' has fewer than 4 fields (prefix,seq,timestamp,flags)");
    }
    f[k] =
        fields.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? fields.size() : comma + 1;
  }
  const auto prefix = parseUint(f[0]);
  const auto seq = parseUint(f[1]);
  const auto ts = parseUint(f[2]);
  if (!prefix || *prefix > 1023 || f[0].empty() || f[0][0] == '+' || f[0][0] == '-') {
    return makeError("kmsg record prefix '" + std::string(f[0].substr(0, 16)) +
                     "' is not a facility*8+level number");
  }
  if (!seq || !ts) return makeError("kmsg record sequence or timestamp is not a number");
  r.facility = static_cast<int>(*prefix >> 3);
  r.level = static_cast<int>(*prefix & 7);
  r.seq = *seq;
  r.timestamp_usec = *ts;
  r.message = header.substr(semi + 1);
  if (!r.message.empty() && r.message.back() == '\r') r.message.remove_suffix(1);
  // Continuation lines: " KEY=value".
  std::size_t line = nl == std::string_view::npos ? bytes.size() : nl + 1;
  while (line < bytes.size()) {
    std::size_t end = bytes.find('\n', line);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view l = bytes.substr(line, end - line);
    if (!l.empty() && l[0] == ' ') {
      l.remove_prefix(1);
      if (startsWith(l, "SUBSYSTEM=")) r.subsystem = l.substr(10);
      if (startsWith(l, "DEVICE=")) r.device = l.substr(7);
    }
    line = end + 1;
  }
  return r;
}

std::vector<KernelEvent> classifyKernelMessage(std::string_view m) {
  std::vector<KernelEvent> out;
  if (m.size() < 6) return out;
  // Dispatch on the first byte: each class's messages start with a fixed prefix, except the
  // block-layer and AER ones, which may follow a device or function prefix.
  switch (m[0]) {
    case 'E':
      add(&out, matchExt(m));
      if (out.empty()) add(&out, matchEdac(m));
      break;
    case 'X': add(&out, matchXfs(m)); break;
    case 'B': add(&out, matchBtrfs(m)); break;
    case 'm':
      add(&out, matchMce(m));
      if (out.empty()) add(&out, matchMd(m));
      break;
    case 'M': add(&out, matchMce(m)); break;
    case 'a': add(&out, matchAta(m)); break;
    case 'n': out = matchNvme(m); break;
    case '{': add(&out, matchGhes(m)); break;
    default: break;
  }
  if (!out.empty()) return out;
  add(&out, matchBlock(m));
  if (out.empty()) add(&out, matchAer(m));
  return out;
}

std::vector<KernelEvent> classifyKmsgRecord(const KmsgRecord& record) {
  if (record.facility != 0) return {};
  return classifyKernelMessage(record.message);
}

}  // namespace foreshock
