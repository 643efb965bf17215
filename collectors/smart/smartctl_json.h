// smartctl --json output (smartmontools 7.x) to a SmartReading. Pure: text in, typed result
// out. Used both for live smartctl runs and for replayed JSON files.
#pragma once

#include <string>
#include <string_view>

#include "collectors/smart/smart_types.h"
#include "core/result.h"

namespace foreshock::smart {

// smartctl's exit status is a bit mask (smartctl(8), "EXIT STATUS").
struct SmartctlExit {
  int status = 0;
  bool command_line_error = false;        // bit 0
  bool open_failed_or_low_power = false;  // bit 1: open failed, or skipped by --nocheck
  bool smart_command_failed = false;      // bit 2: a SMART/ATA command failed or checksum
  bool disk_failing = false;              // bit 3: SMART status says "disk failing"
  bool prefail_below_threshold = false;   // bit 4: pre-fail attribute at/below threshold
  bool attribute_failed_in_past = false;  // bit 5: attribute at/below threshold in the past
  bool error_log_has_entries = false;     // bit 6
  bool self_test_log_has_errors = false;  // bit 7
};
SmartctlExit decodeSmartctlExit(int status);

struct SmartctlOutcome {
  enum class Kind {
    kReading,  // device data was read (possibly with warning bits set)
    kSkipped,  // smartctl did not touch the disk because it is in a low-power mode
    kFailed    // smartctl could not read the device (reason/message say why)
  };
  Kind kind = Kind::kFailed;
  SmartReading reading;
  SmartctlExit exit;
  PowerState power = PowerState::kUnknown;  // from "power_mode" when present
  std::string reason;                       // kFailed: a label value (e.g. open_failed)
  std::string message;                      // smartctl's own error message, if any
};

// Parses one smartctl --json document. An Error means the text is not smartctl JSON at all
// (malformed JSON, no "smartctl" object); device-level failures are a kFailed outcome.
Result<SmartctlOutcome> parseSmartctlJson(std::string_view text);

}  // namespace foreshock::smart
