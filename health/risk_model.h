// The disk failure risk model: a logistic regression trained offline on Backblaze data by
// tools/train_risk_model.py; its coefficients are compiled in (risk_model_coefficients.h).
#pragma once

#include <array>
#include <optional>

#include "health/history.h"
#include "health/observe.h"
#include "health/risk_model_coefficients.h"

namespace foreshock {

using RiskFeatures = std::array<double, risk_coefficients::kFeatureCount>;

// The history series names the model reads for an ATA disk (entity kind "disk", id serial).
std::string ataSeriesName(int id);  // "smart_197_raw"

// Features of an ATA disk now: raw counters from the observation, 7-day increases from the
// history (which must already hold the current point), age and temperature. nullopt when the
// disk is not ATA (the model was trained on ATA drives only).
std::optional<RiskFeatures> riskFeatures(const DiskObservation& disk, const HistoryStore& history,
                                         double now);
// 0..1.
double riskScore(const RiskFeatures& f);

}  // namespace foreshock
