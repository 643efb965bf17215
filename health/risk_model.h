// The disk failure risk model: gradient-boosted trees trained offline on Backblaze data by
// tools/train_risk_model.py and compiled in as arrays (risk_model_coefficients.h, generated).
// Features are the ATA error counters 5, 187, 188, 197, 198 and their 7- and 30-day increases,
// computed from the agent's history exactly as tools/risk_features.py computes them
// (tests/unit/health/risk_model checks both on real drives).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "health/history.h"
#include "health/observe.h"
#include "health/risk_model_coefficients.h"

namespace foreshock {

using RiskFeatures = std::array<double, risk_coefficients::kFeatureCount>;

// The history series names the model reads for an ATA disk (entity kind "disk", id serial).
std::string ataSeriesName(int id);  // "smart_197_raw"

// Features of an ATA disk now, in kFeatureNames order: the raw counters from the observation
// (NaN when the disk does not report one), then their increases over 7 and 30 days from the
// history (which must already hold the current point; 0 without history). nullopt when the
// disk is not ATA (the model was trained on ATA drives only). Pure function of its inputs.
std::optional<RiskFeatures> riskFeatures(const DiskObservation& disk, const HistoryStore& history,
                                         double now);
// 0..1: the trees' sum through the logistic function. Pure function.
double riskScore(const RiskFeatures& f);

}  // namespace foreshock
