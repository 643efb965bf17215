// The one table of metric names the health engine reads from a snapshot. The collectors
// produce these names; when a collector renames a series, this is the only file to change.
#pragma once

#include <string_view>

namespace foreshock::signals {

// Disks (smart collector). Identity labels: device (the node, a location), serial (identity).
inline constexpr std::string_view kDiskInfo = "foreshock_disk_info";
inline constexpr std::string_view kDiskUp = "foreshock_disk_up";
inline constexpr std::string_view kDiskSmartHealthy = "foreshock_disk_smart_healthy";
inline constexpr std::string_view kAtaRaw = "foreshock_disk_ata_attribute_raw";
inline constexpr std::string_view kAtaValue = "foreshock_disk_ata_attribute_value";
inline constexpr std::string_view kAtaThreshold = "foreshock_disk_ata_attribute_threshold";
inline constexpr std::string_view kAtaWorst = "foreshock_disk_ata_attribute_worst";
inline constexpr std::string_view kAtaPrefail = "foreshock_disk_ata_attribute_prefailure";
inline constexpr std::string_view kNvmeCriticalWarning = "foreshock_disk_nvme_critical_warning";
inline constexpr std::string_view kNvmeSpare = "foreshock_disk_nvme_available_spare_ratio";
inline constexpr std::string_view kNvmeSpareThreshold =
    "foreshock_disk_nvme_available_spare_threshold_ratio";
inline constexpr std::string_view kNvmePercentageUsed = "foreshock_disk_nvme_percentage_used_ratio";
inline constexpr std::string_view kDiskMediaErrors = "foreshock_disk_media_errors_total";
inline constexpr std::string_view kScsiGrownDefects = "foreshock_disk_scsi_grown_defects";
inline constexpr std::string_view kScsiUncorrected = "foreshock_disk_scsi_uncorrected_errors_total";
inline constexpr std::string_view kScsiNonMedium = "foreshock_disk_scsi_non_medium_errors_total";
inline constexpr std::string_view kDiskTemperature = "foreshock_disk_temperature_celsius";
inline constexpr std::string_view kDiskTemperatureTrip = "foreshock_disk_temperature_trip_celsius";
inline constexpr std::string_view kDiskPowerOn = "foreshock_disk_power_on_seconds_total";
// ATA self-test execution status code (smart collector): 0 passed or never run, 1 aborted,
// 2 interrupted, 3 fatal error, 4-8 a failed test element, 15 in progress.
inline constexpr std::string_view kAtaSelfTestStatus = "foreshock_disk_ata_self_test_status";

// Sensors. Identity: chip + sensor.
inline constexpr std::string_view kSensorTemp = "foreshock_sensor_temperature_celsius";
inline constexpr std::string_view kSensorTempMax = "foreshock_sensor_temperature_max_celsius";
inline constexpr std::string_view kSensorTempCrit = "foreshock_sensor_temperature_crit_celsius";
inline constexpr std::string_view kSensorFan = "foreshock_sensor_fan_rpm";

// Network. Identity: interface name + permanent MAC (from foreshock_network_info).
inline constexpr std::string_view kNetErrors = "foreshock_network_errors_total";
inline constexpr std::string_view kNetRxPackets = "foreshock_network_receive_packets_total";
inline constexpr std::string_view kNetFlaps = "foreshock_network_link_flaps_total";
inline constexpr std::string_view kNetCarrier = "foreshock_network_carrier";
inline constexpr std::string_view kNetInfo = "foreshock_network_info";

// Probes. Identity: target (+ probe kind).
inline constexpr std::string_view kProbeLoss = "foreshock_probe_loss_ratio";
inline constexpr std::string_view kProbeLastRtt = "foreshock_probe_last_rtt_seconds";
inline constexpr std::string_view kProbeUp = "foreshock_probe_up";

// LLDP.
inline constexpr std::string_view kLldpNeighbor = "foreshock_lldp_neighbor_info";

// ATA attribute ids the rules and the risk model use.
inline constexpr int kAtaReallocated = 5;
inline constexpr int kAtaPowerOnHours = 9;
inline constexpr int kAtaReportedUncorrect = 187;
inline constexpr int kAtaCommandTimeout = 188;
inline constexpr int kAtaTemperature = 194;
inline constexpr int kAtaPending = 197;
inline constexpr int kAtaOfflineUncorrectable = 198;
inline constexpr int kAtaCrcErrors = 199;

}  // namespace foreshock::signals
