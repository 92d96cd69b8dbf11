#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace hotline::dispatch {

// One labelled example: the citizen's words and the category they belong to.
struct LabeledText {
  std::string text;
  std::string label;
};

struct TrainOptions {
  int epochs = 30;
  double learning_rate = 0.5;  // AdaGrad base rate
  double l2 = 1e-6;
  uint32_t seed = 42;
  int buckets_log2 = 18;  // hashed feature space: 2^18 buckets
};

// A text classifier for ticket categories: normalised text (OpenCC t2s, width, case) →
// character unigrams, bigrams and trigrams and ASCII words, hashed into 2^k buckets, weighted
// log(1+tf) and L2-normalised → multinomial logistic regression (softmax), trained with
// AdaGrad. Gives a probability per class; ~O(text length) per prediction; immutable once built
// and safe to share between threads.
class TextClassifier {
 public:
  struct Prediction {
    std::string label;
    double probability;
  };

  static absl::StatusOr<std::unique_ptr<TextClassifier>> Train(const std::vector<LabeledText>& data,
                                                               const TrainOptions& opts);
  // Model file: a text header (format, version, threshold, labels) and the weights as float32.
  static absl::StatusOr<std::unique_ptr<TextClassifier>> Load(const std::string& path);
  absl::Status Save(const std::string& path) const;

  // Every class with its probability, most likely first.
  std::vector<Prediction> Predict(const std::string& text) const;

  const std::vector<std::string>& labels() const { return labels_; }
  const std::string& version() const { return version_; }
  void set_version(std::string v) { version_ = std::move(v); }
  // The confidence at or above which this model's auto-dispatches hit the target precision on
  // held-out data (chosen by the training tool); 1.0 means "never auto-dispatch".
  double recommended_threshold() const { return threshold_; }
  void set_recommended_threshold(double t) { threshold_ = t; }

 private:
  using Features = std::vector<std::pair<uint32_t, float>>;
  Features Featurize(const std::string& text) const;
  std::vector<double> Scores(const Features& f) const;

  std::vector<std::string> labels_;
  int buckets_log2_ = 18;
  std::vector<float> weights_;  // [bucket * classes + class]
  std::vector<float> bias_;
  std::string version_ = "untrained";
  double threshold_ = 1.0;
};

// Accuracy and macro-F1 of `model` on `data`, and the coverage/accuracy curve of auto-dispatch:
// for each threshold, the share of tickets whose top probability clears it and the accuracy on
// those.
struct Evaluation {
  double accuracy = 0;
  double macro_f1 = 0;
  size_t n = 0;
  struct Point {
    double threshold, coverage, accuracy;
  };
  std::vector<Point> curve;
  std::vector<std::pair<std::string, double>> per_class_f1;
};
Evaluation Evaluate(const TextClassifier& model, const std::vector<LabeledText>& data);

// The smallest threshold whose auto-dispatched share reaches `precision` on `data` (and at
// least `min_support` tickets), or 1.0 when none does.
double ThresholdForPrecision(const TextClassifier& model, const std::vector<LabeledText>& data,
                             double precision, size_t min_support = 20);

// Reads a CSV with a header naming a `text` column and a `label` column (other columns are
// ignored; quotes and embedded newlines per RFC 4180). Errors name the line.
absl::StatusOr<std::vector<LabeledText>> ReadLabeledCsv(const std::string& path);

}  // namespace hotline::dispatch
