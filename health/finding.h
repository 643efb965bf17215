// A finding: one check of one component, with its severity, the numbers behind it and what a
// person should do. The unit of every health output (report, JSON, foreshock_health_status).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace foreshock {

enum class Severity { kOk = 0, kInfo = 1, kWarning = 2, kCritical = 3 };

std::string_view severityName(Severity s);  // "ok", "info", "warning", "critical"
// The value of foreshock_health_status: 0 ok/info, 1 warning, 2 critical.
int statusValue(Severity s);

struct Evidence {
  std::string name;  // snake_case, e.g. "smart_197_raw", "increase_7d"
  double value = 0;
};

struct Finding {
  std::string category;   // "disks", "temperatures", "network", "upstream"
  std::string component;  // "disk/sda", "sensor/coretemp-isa-0000/Core 0", "interface/eth0"
  std::string subject;    // what a person calls it: "sda (ST4000DM000, serial Z30...)"
  std::string check;      // snake_case check name, e.g. "pending_sectors"
  Severity severity = Severity::kOk;
  std::string summary;  // one line: what was seen
  std::vector<Evidence> evidence;
  std::string action;  // what to do ("" when ok)
  // Extra labels naming what the component is, exported with its status and evidence so an
  // alert keys on the hardware, not its slot: {"serial", "Z300ZV41"} for a disk whose serial
  // is known. A disk swapped under the same device name is then a different alert.
  std::vector<std::pair<std::string, std::string>> identity;
};

// The checks whose firing means "this disk will fail" (the replay's alarm, the
// ForeshockDiskWillFail alert).
bool isDiskFailureCheck(std::string_view check);

}  // namespace foreshock
