// The typed results of the smart collector's parsers: one disk's identity (from sysfs or the
// device) and one SMART reading (from libatasmart, the NVMe health log or smartctl --json).
// Plain value types: no I/O, no sharing.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace foreshock::smart {

// Which reader a disk goes through.
enum class Backend { kAta, kNvme, kSmartctl };
const char* backendName(Backend b);

// The power state a disk reported before any SMART command was sent. kUnknown when the
// check is not possible (e.g. the disk does not support CHECK POWER MODE).
enum class PowerState { kUnknown, kActive, kIdle, kStandby, kSleep };
const char* powerStateName(PowerState s);
inline constexpr std::array<PowerState, 5> kAllPowerStates = {
    PowerState::kActive, PowerState::kIdle, PowerState::kStandby, PowerState::kSleep,
    PowerState::kUnknown};

// A whole disk as discovered (sysfs, config or replay file). `device` is the kernel name (sda,
// nvme0n1) or, for config entries and replay files, the configured/derived name.
struct DiskIdentity {
  std::string device;
  std::string model;
  std::string serial;
  std::string firmware;
  std::string wwn;
  std::string transport;  // ata, nvme, usb, sas, scsi, virtio, mmc, replay, unknown
  std::optional<std::uint64_t> capacity_bytes;
  std::optional<bool> rotational;
  std::optional<bool> runtime_suspended;  // <dev>/power/runtime_status == "suspended"
  Backend backend = Backend::kSmartctl;
  std::string node;           // device node path handed to the backend (devfs/<name>)
  std::string smartctl_type;  // smartctl -d value ("sat", "megaraid,0", ...), empty = auto
};

// One ATA SMART attribute as the drive reports it.
struct AtaAttribute {
  std::uint8_t id = 0;
  std::string name;
  std::optional<std::uint8_t> value;
  std::optional<std::uint8_t> worst;
  std::optional<std::uint8_t> threshold;
  std::uint64_t raw = 0;  // the 48-bit raw field, little-endian as the drive stores it
  bool prefailure = false;
  bool online = false;
  std::optional<bool> good_now;      // value above threshold now
  std::optional<bool> good_in_past;  // worst above threshold
  std::string when_failed;           // "", "now", "past" (smartctl's wording normalised)
};

// The NVMe SMART / Health Information log page (log identifier 02h, 512 bytes).
struct NvmeHealth {
  std::uint8_t critical_warning = 0;
  std::optional<double> composite_temperature_celsius;  // absent when the field is 0 K
  std::uint8_t available_spare_percent = 0;
  std::uint8_t available_spare_threshold_percent = 0;
  std::uint8_t percentage_used = 0;  // may exceed 100
  // 128-bit counters: values past 2^64 are saturated (they would take centuries to reach).
  std::uint64_t data_units_read = 0;  // units of 1000 * 512 bytes
  std::uint64_t data_units_written = 0;
  std::uint64_t host_read_commands = 0;
  std::uint64_t host_write_commands = 0;
  std::uint64_t controller_busy_minutes = 0;
  std::uint64_t power_cycles = 0;
  std::uint64_t power_on_hours = 0;
  std::uint64_t unsafe_shutdowns = 0;
  std::uint64_t media_errors = 0;
  std::uint64_t error_log_entries = 0;
  std::uint32_t warning_temperature_minutes = 0;
  std::uint32_t critical_temperature_minutes = 0;
  // Temperature sensors 1..8; nullopt where the controller does not implement the sensor.
  std::array<std::optional<double>, 8> sensor_celsius{};
};

// SCSI error counter log (read/write/verify pages) as smartctl reports it.
struct ScsiErrorCounters {
  std::uint64_t corrected = 0;
  std::uint64_t uncorrected = 0;
  std::optional<double> processed_bytes;
};

struct ScsiHealth {
  std::optional<std::uint64_t> grown_defects;
  std::optional<std::uint64_t> pending_defects;
  std::optional<ScsiErrorCounters> read, write, verify;
  // Non-Medium Error log page (0x06), parameter 0: errors not tied to the media (transport,
  // controller, firmware). smartctl prints it only as text, so it comes from the text lines
  // `--json=o` embeds (smartctl.output).
  std::optional<std::uint64_t> non_medium_errors;
};

// One SMART reading. Every field is optional: a backend fills in what it knows.
struct SmartReading {
  // Identity as the device reports it (IDENTIFY / Identify Controller / smartctl).
  std::string model;
  std::string serial;
  std::string firmware;
  std::string protocol;         // "ata", "nvme", "scsi"
  std::optional<bool> healthy;  // the drive's own overall self-assessment passed
  // libatasmart's overall verdict: good, bad_attribute_in_the_past, bad_sector,
  // bad_attribute_now, bad_sector_many, bad_status. Empty when not an ATA reading.
  std::string overall;
  std::optional<double> temperature_celsius;
  std::optional<double> temperature_trip_celsius;
  std::optional<double> power_on_seconds;
  std::optional<std::uint64_t> power_cycles;
  std::optional<std::uint64_t> bad_sectors;             // libatasmart: reallocated + pending
  std::optional<std::uint64_t> reallocated_sectors;     // attribute 5
  std::optional<std::uint64_t> reported_uncorrectable;  // attribute 187
  std::optional<std::uint64_t> pending_sectors;         // attribute 197
  std::optional<std::uint64_t> offline_uncorrectable;   // attribute 198
  std::optional<std::uint64_t> crc_errors;              // attribute 199
  std::optional<int> self_test_status;                  // ATA self-test execution status (0..15)
  std::vector<AtaAttribute> attributes;
  std::optional<NvmeHealth> nvme;
  std::optional<ScsiHealth> scsi;
  std::optional<int> smartctl_exit_status;
};

// Fills the key-counter fields (5, 187, 197, 198, 199) from `attributes`.
void deriveAtaCounters(SmartReading& r);

// True when attribute `id`'s raw value is known to be vendor-packed on this model and must not
// be read as a plain count. Seagate packs attributes 1, 7 and 195 (low 32 bits: operations,
// high 16 bits: errors) and 188 (three 16-bit counters).
bool isPackedRaw(std::string_view model, std::uint8_t id);

}  // namespace foreshock::smart
