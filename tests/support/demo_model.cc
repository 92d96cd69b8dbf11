#include "tests/support/demo_model.h"

namespace hotline::testing {

absl::StatusOr<std::vector<dispatch::LabeledText>> DemoTrainingData() {
  return dispatch::ReadLabeledCsv(HOTLINE_REPO_DIR "/deploy/demo/training_tickets.csv");
}

absl::StatusOr<std::string> TrainModel(const std::vector<dispatch::LabeledText>& data, int epochs,
                                       const std::string& version, double threshold,
                                       const std::string& path) {
  dispatch::TrainOptions opts;
  opts.epochs = epochs;
  auto m = dispatch::TextClassifier::Train(data, opts);
  if (!m.ok()) return m.status();
  (*m)->set_version(version);
  (*m)->set_recommended_threshold(threshold);
  if (auto s = (*m)->Save(path); !s.ok()) return s;
  return path;
}

}  // namespace hotline::testing
