// A parser of the Prometheus text exposition format (the subset foreshock and node_exporter
// write: HELP, TYPE, samples with labels and optional timestamps). For `foreshock check
// --from-metrics`, which evaluates the health rules on a saved scrape.
#pragma once

#include <prometheus/metric_family.h>

#include <string_view>
#include <vector>

#include "core/result.h"

namespace foreshock {

struct ParsedExposition {
  std::vector<prometheus::MetricFamily> families;  // sorted by name; histogram and summary
                                                   // parts are kept as untyped families
  double max_timestamp_seconds = 0;                // newest sample timestamp (0 if none)
};

// Pure: text -> families. The error names the line number and what is malformed.
Result<ParsedExposition> parseExposition(std::string_view text);

}  // namespace foreshock
