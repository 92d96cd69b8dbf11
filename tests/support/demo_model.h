#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/dispatch/classifier.h"

namespace hotline::testing {

// The project's demo training data (deploy/demo/training_tickets.csv).
absl::StatusOr<std::vector<dispatch::LabeledText>> DemoTrainingData();

// Trains a classifier on `data` and saves it to `path` with `version` and `threshold` (the
// auto-dispatch threshold written into the model file). Returns `path`.
absl::StatusOr<std::string> TrainModel(const std::vector<dispatch::LabeledText>& data, int epochs,
                                       const std::string& version, double threshold,
                                       const std::string& path);

}  // namespace hotline::testing
