#include "services/dispatch/classifier.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/csv.h"
#include "services/common/text.h"

namespace hotline::dispatch {
namespace {

constexpr char kMagic[] = "hotline-text-classifier 1";

uint32_t Fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

void Softmax(std::vector<double>* v) {
  double m = *std::max_element(v->begin(), v->end());
  double sum = 0;
  for (double& x : *v) sum += (x = std::exp(x - m));
  for (double& x : *v) x /= sum;
}

}  // namespace

TextClassifier::Features TextClassifier::Featurize(const std::string& text) const {
  std::string norm = NormalizeText(text);
  std::vector<std::string> grams = CharNgrams(norm);
  // Character trigrams add phrase context ("违章停", "公积金") that bigrams miss.
  auto cps = DecodeUtf8(norm);
  for (size_t i = 0; i + 2 < cps.size(); ++i) {
    if (cps[i] < 0x80 || cps[i + 1] < 0x80 || cps[i + 2] < 0x80) continue;
    std::string g;
    for (int k = 0; k < 3; ++k) AppendUtf8(cps[i + k], &g);
    grams.push_back(std::move(g));
  }
  const uint32_t mask = (1u << buckets_log2_) - 1;
  std::unordered_map<uint32_t, float> tf;
  for (const auto& g : grams) tf[Fnv1a(g) & mask] += 1;
  Features f;
  f.reserve(tf.size());
  double norm2 = 0;
  for (auto [b, c] : tf) {
    float w = std::log1p(c);
    f.emplace_back(b, w);
    norm2 += w * w;
  }
  float inv = norm2 > 0 ? static_cast<float>(1 / std::sqrt(norm2)) : 0;
  for (auto& [b, w] : f) w *= inv;
  return f;
}

std::vector<double> TextClassifier::Scores(const Features& f) const {
  size_t k = labels_.size();
  std::vector<double> s(bias_.begin(), bias_.end());
  for (auto [b, w] : f) {
    const float* row = &weights_[static_cast<size_t>(b) * k];
    for (size_t c = 0; c < k; ++c) s[c] += row[c] * w;
  }
  return s;
}

std::vector<TextClassifier::Prediction> TextClassifier::Predict(const std::string& text) const {
  auto s = Scores(Featurize(text));
  Softmax(&s);
  std::vector<Prediction> out;
  for (size_t c = 0; c < s.size(); ++c) out.push_back({labels_[c], s[c]});
  std::sort(out.begin(), out.end(),
            [](const Prediction& a, const Prediction& b) { return a.probability > b.probability; });
  return out;
}

absl::StatusOr<std::unique_ptr<TextClassifier>> TextClassifier::Train(
    const std::vector<LabeledText>& data, const TrainOptions& opts) {
  if (data.empty()) return absl::InvalidArgumentError("training data: no examples");
  std::unique_ptr<TextClassifier> m(new TextClassifier());
  m->buckets_log2_ = opts.buckets_log2;
  std::map<std::string, int> index;
  for (const auto& d : data) index.emplace(d.label, 0);
  if (index.size() < 2)
    return absl::InvalidArgumentError("training data: needs at least two labels");
  for (auto& [label, i] : index) {
    i = static_cast<int>(m->labels_.size());
    m->labels_.push_back(label);
  }
  const size_t k = m->labels_.size();
  const size_t buckets = size_t{1} << opts.buckets_log2;
  m->weights_.assign(buckets * k, 0.f);
  m->bias_.assign(k, 0.f);
  std::vector<float> g2(buckets * k, 0.f), gb2(k, 0.f);

  std::vector<Features> feats;
  std::vector<int> y;
  for (const auto& d : data) {
    feats.push_back(m->Featurize(d.text));
    y.push_back(index[d.label]);
  }
  std::vector<size_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(opts.seed);
  for (int epoch = 0; epoch < opts.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i : order) {
      auto p = m->Scores(feats[i]);
      Softmax(&p);
      for (size_t c = 0; c < k; ++c) {
        double grad = p[c] - (static_cast<int>(c) == y[i] ? 1.0 : 0.0);
        if (std::abs(grad) < 1e-7) continue;
        gb2[c] += grad * grad;
        m->bias_[c] -= opts.learning_rate * grad / std::sqrt(gb2[c] + 1e-8);
        for (auto [b, w] : feats[i]) {
          size_t j = static_cast<size_t>(b) * k + c;
          double g = grad * w + opts.l2 * m->weights_[j];
          g2[j] += g * g;
          m->weights_[j] -= opts.learning_rate * g / std::sqrt(g2[j] + 1e-8);
        }
      }
    }
  }
  return m;
}

absl::Status TextClassifier::Save(const std::string& path) const {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return absl::UnavailableError(absl::StrCat(path, ": cannot write"));
    out << kMagic << "\n"
        << "version " << version_ << "\n"
        << "threshold " << threshold_ << "\n"
        << "buckets_log2 " << buckets_log2_ << "\n"
        << "labels " << absl::StrJoin(labels_, "\t") << "\n"
        << "weights\n";
    out.write(reinterpret_cast<const char*>(bias_.data()), bias_.size() * sizeof(float));
    out.write(reinterpret_cast<const char*>(weights_.data()), weights_.size() * sizeof(float));
    if (!out) return absl::UnavailableError(absl::StrCat(path, ": write failed"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot rename into place"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TextClassifier>> TextClassifier::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the model"));
  std::unique_ptr<TextClassifier> m(new TextClassifier());
  std::string line;
  std::getline(in, line);
  if (line != kMagic)
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a hotline model (", kMagic, ")"));
  // Header values are checked here, not trusted: a bad file (a hot reload of a half-written or
  // foreign model) must come back as an error while the service keeps its current model.
  while (std::getline(in, line) && line != "weights") {
    auto sp = line.find(' ');
    std::string key = line.substr(0, sp),
                value = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (key == "version") {
      m->version_ = value;
    } else if (key == "threshold") {
      if (!absl::SimpleAtod(value, &m->threshold_) || !(m->threshold_ >= 0 && m->threshold_ <= 1)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": threshold: '", value, "' is not a number in [0, 1]"));
      }
    } else if (key == "buckets_log2") {
      if (!absl::SimpleAtoi(value, &m->buckets_log2_) || m->buckets_log2_ < 8 ||
          m->buckets_log2_ > 24) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": buckets_log2: '", value, "' is not an integer in [8, 24]"));
      }
    } else if (key == "labels") {
      m->labels_ = absl::StrSplit(value, '\t');
    }
  }
  if (line != "weights" || m->labels_.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": malformed model header"));
  }
  size_t k = m->labels_.size();
  // The weights' size follows from the header; check it against the file before allocating, so
  // a wrong header cannot ask for gigabytes.
  const size_t want = (k + (size_t{1} << m->buckets_log2_) * k) * sizeof(float);
  const std::streamoff at = in.tellg();
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  in.seekg(at);
  if (at < 0 || end < at || static_cast<size_t>(end - at) != want) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": weights: ", end - at,
                                                   " bytes, the header needs ", want,
                                                   " (truncated or foreign)"));
  }
  m->bias_.resize(k);
  m->weights_.resize((size_t{1} << m->buckets_log2_) * k);
  in.read(reinterpret_cast<char*>(m->bias_.data()), k * sizeof(float));
  in.read(reinterpret_cast<char*>(m->weights_.data()), m->weights_.size() * sizeof(float));
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": truncated model"));
  return m;
}

Evaluation Evaluate(const TextClassifier& model, const std::vector<LabeledText>& data) {
  Evaluation e;
  e.n = data.size();
  std::map<std::string, int> tp, fp, fn;
  std::vector<std::pair<double, bool>> conf;  // (top probability, correct)
  size_t correct = 0;
  for (const auto& d : data) {
    auto p = model.Predict(d.text);
    bool ok = p[0].label == d.label;
    correct += ok;
    conf.emplace_back(p[0].probability, ok);
    if (ok) {
      ++tp[d.label];
    } else {
      ++fp[p[0].label];
      ++fn[d.label];
    }
  }
  e.accuracy = data.empty() ? 0 : static_cast<double>(correct) / data.size();
  double f1_sum = 0;
  for (const auto& label : model.labels()) {
    double t = tp[label], prec = t + fp[label] > 0 ? t / (t + fp[label]) : 0,
           rec = t + fn[label] > 0 ? t / (t + fn[label]) : 0;
    double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
    e.per_class_f1.emplace_back(label, f1);
    f1_sum += f1;
  }
  e.macro_f1 = model.labels().empty() ? 0 : f1_sum / model.labels().size();
  for (double th : {0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99}) {
    size_t n = 0, ok = 0;
    for (auto [p, c] : conf) {
      if (p >= th) {
        ++n;
        ok += c;
      }
    }
    e.curve.push_back({th, data.empty() ? 0 : static_cast<double>(n) / data.size(),
                       n ? static_cast<double>(ok) / n : 0});
  }
  return e;
}

double ThresholdForPrecision(const TextClassifier& model, const std::vector<LabeledText>& data,
                             double precision, size_t min_support) {
  std::vector<std::pair<double, bool>> conf;
  for (const auto& d : data) {
    auto p = model.Predict(d.text);
    conf.emplace_back(p[0].probability, p[0].label == d.label);
  }
  // Most confident first; the threshold is the lowest confidence at which the precision of
  // everything at or above it still reaches the target.
  std::sort(conf.begin(), conf.end(), [](auto& a, auto& b) { return a.first > b.first; });
  double best = 1.0;
  size_t ok = 0;
  for (size_t i = 0; i < conf.size(); ++i) {
    ok += conf[i].second;
    size_t n = i + 1;
    bool tie_next = i + 1 < conf.size() && conf[i + 1].first == conf[i].first;
    if (!tie_next && n >= min_support && static_cast<double>(ok) / n >= precision)
      best = conf[i].first;
  }
  return best;
}

absl::StatusOr<std::vector<LabeledText>> ReadLabeledCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<std::string> header, row;
  if (!ReadCsvRecord(in, &header)) return absl::InvalidArgumentError(absl::StrCat(path, ": empty"));
  if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0] = header[0].substr(3);
  int text_col = -1, label_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "text") text_col = static_cast<int>(i);
    if (header[i] == "label") label_col = static_cast<int>(i);
  }
  if (text_col < 0 || label_col < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": header needs 'text' and 'label' columns"));
  }
  std::vector<LabeledText> out;
  size_t record = 1;
  while (ReadCsvRecord(in, &row)) {
    ++record;
    if (row.size() == 1 && row[0].empty()) continue;
    if (row.size() <= static_cast<size_t>(std::max(text_col, label_col))) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": record ", record, " has ", row.size(),
                                                     " fields, expected ", header.size()));
    }
    if (!IsValidUtf8(row[text_col]) || row[label_col].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": record ", record, ": bad text or empty label"));
    }
    out.push_back({row[text_col], row[label_col]});
  }
  return out;
}

}  // namespace hotline::dispatch
