// Renders health findings for people (text, grouped by Disks, Temperatures, Network,
// Upstream) and for programs (JSON, schema in docs/check-report.schema.json).
#pragma once

#include <string>
#include <vector>

#include "health/engine.h"

namespace foreshock {

struct ReportContext {
  std::string host;
  double time = 0;
  std::vector<std::string> notes;             // e.g. "history: loaded 12 entities from ..."
  std::vector<std::string> collector_errors;  // "smart: ..." for collectors that failed
};

// The exit code (Nagios plugin convention): 0 ok, 1 warning, 2 critical, 3 unknown (no data).
int reportExitCode(const HealthResult& result, const ReportContext& ctx);

// Text: one verdict line per component (its worst check), then the evidence and action of
// every check that is not ok. `color` adds ANSI colours (only when stdout is a TTY).
std::string renderReportText(const HealthResult& result, const ReportContext& ctx, bool color);
std::string renderReportJson(const HealthResult& result, const ReportContext& ctx);

}  // namespace foreshock
