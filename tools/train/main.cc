// hotline-train: builds, evaluates and times dispatch's ticket classifier.
//
//   hotline-train train --input tickets.csv [--input corrections.csv] --output model.bin
//                       [--version V] [--target-precision 0.98] [--holdout 0.2] [--seed 42]
//   hotline-train evaluate --model model.bin --input test.csv [--threshold T]
//   hotline-train split --input all.csv --test-fraction 0.2 --seed 7 --train-out a.csv --test-out b.csv
//   hotline-train bench --model model.bin --input test.csv
//   hotline-train export-corrections --redis redis://dispatch-redis:6379/0 --output corrections.csv
//
// CSV files have a header with `text` and `label` columns (others are ignored). `train` holds out
// a stratified share of the input to choose the auto-dispatch threshold that reaches the target
// precision, and writes it into the model. Dispatch's corrected labels (returns, manual
// re-dispatches; `ExportCorrections`) are one more --input.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/strings/str_split.h"
#include "services/common/redis_client.h"
#include "services/dispatch/classifier.h"

using namespace hotline::dispatch;

namespace {

struct Args {
  std::string cmd;
  std::multimap<std::string, std::string> flags;
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  }
};

int Die(const std::string& msg) {
  std::fprintf(stderr, "hotline-train: %s\n", msg.c_str());
  return 1;
}

std::string CsvField(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool WriteCsv(const std::string& path, const std::vector<LabeledText>& rows) {
  std::ofstream out(path);
  out << "label,text\n";
  for (const auto& r : rows) out << CsvField(r.label) << "," << CsvField(r.text) << "\n";
  return static_cast<bool>(out);
}

// Stratified split: the same share of every label goes to the test side; duplicate texts are
// dropped first so no text is on both sides.
void Split(std::vector<LabeledText> all, double test_fraction, uint32_t seed,
           std::vector<LabeledText>* train, std::vector<LabeledText>* test) {
  std::set<std::string> seen;
  std::map<std::string, std::vector<LabeledText>> by_label;
  for (auto& r : all) {
    if (seen.insert(r.text).second) by_label[r.label].push_back(std::move(r));
  }
  std::mt19937 rng(seed);
  for (auto& [label, rows] : by_label) {
    std::shuffle(rows.begin(), rows.end(), rng);
    size_t n_test = static_cast<size_t>(rows.size() * test_fraction + 0.5);
    for (size_t i = 0; i < rows.size(); ++i) (i < n_test ? test : train)->push_back(rows[i]);
  }
}

absl::StatusOr<std::vector<LabeledText>> ReadAll(const Args& a) {
  std::vector<LabeledText> all;
  auto range = a.flags.equal_range("input");
  if (range.first == range.second) return absl::InvalidArgumentError("--input is required");
  for (auto it = range.first; it != range.second; ++it) {
    auto rows = ReadLabeledCsv(it->second);
    if (!rows.ok()) return rows.status();
    all.insert(all.end(), rows->begin(), rows->end());
  }
  return all;
}

int Train(const Args& a) {
  auto all = ReadAll(a);
  if (!all.ok()) return Die(std::string(all.status().message()));
  std::string output = a.Get("output");
  if (output.empty()) return Die("--output is required");
  double target = std::stod(a.Get("target-precision", "0.98"));
  double holdout = std::stod(a.Get("holdout", "0.2"));
  uint32_t seed = static_cast<uint32_t>(std::stoul(a.Get("seed", "42")));
  std::vector<LabeledText> train, valid;
  Split(*all, holdout, seed, &train, &valid);
  TrainOptions opts;
  opts.seed = seed;
  auto t0 = std::chrono::steady_clock::now();
  auto model = TextClassifier::Train(train, opts);
  if (!model.ok()) return Die(std::string(model.status().message()));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string version = a.Get("version", absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone()));
  (*model)->set_version(version);
  double th = valid.empty() ? 1.0 : ThresholdForPrecision(**model, valid, target);
  (*model)->set_recommended_threshold(th);
  if (auto s = (*model)->Save(output); !s.ok()) return Die(std::string(s.message()));
  auto ev = Evaluate(**model, valid);
  size_t auto_n = 0, auto_ok = 0;
  for (const auto& r : valid) {
    auto p = (*model)->Predict(r.text);
    if (p[0].probability >= th) {
      ++auto_n;
      auto_ok += p[0].label == r.label;
    }
  }
  std::printf("model %s: %zu labels, trained on %zu texts in %.1f s, validated on %zu\n", version.c_str(),
              (*model)->labels().size(), train.size(), secs, valid.size());
  std::printf("validation accuracy %.3f, macro-F1 %.3f\n", ev.accuracy, ev.macro_f1);
  std::printf("auto-dispatch threshold %.3f (target precision %.3f): covers %.1f%% at %.1f%% accuracy\n", th,
              target, valid.empty() ? 0 : 100.0 * auto_n / valid.size(), auto_n ? 100.0 * auto_ok / auto_n : 0);
  std::printf("written to %s\n", output.c_str());
  return 0;
}

int EvaluateCmd(const Args& a) {
  auto model = TextClassifier::Load(a.Get("model"));
  if (!model.ok()) return Die(std::string(model.status().message()));
  auto data = ReadAll(a);
  if (!data.ok()) return Die(std::string(data.status().message()));
  auto ev = Evaluate(**model, *data);
  double th = a.Get("threshold").empty() ? (*model)->recommended_threshold() : std::stod(a.Get("threshold"));
  size_t auto_n = 0, auto_ok = 0;
  for (const auto& r : *data) {
    auto p = (*model)->Predict(r.text);
    if (p[0].probability >= th) {
      ++auto_n;
      auto_ok += p[0].label == r.label;
    }
  }
  std::printf("model %s on %zu texts\n", (*model)->version().c_str(), ev.n);
  std::printf("accuracy %.4f\nmacro-F1 %.4f\n", ev.accuracy, ev.macro_f1);
  std::printf("auto-dispatch at threshold %.3f: %.1f%% of tickets, accuracy %.2f%%\n", th,
              ev.n ? 100.0 * auto_n / ev.n : 0, auto_n ? 100.0 * auto_ok / auto_n : 0);
  std::printf("\nper class F1:\n");
  for (const auto& [label, f1] : ev.per_class_f1) std::printf("  %-16s %.3f\n", label.c_str(), f1);
  std::printf("\nthreshold  coverage  accuracy\n");
  for (const auto& p : ev.curve) std::printf("  %5.2f     %5.1f%%    %5.1f%%\n", p.threshold, 100 * p.coverage, 100 * p.accuracy);
  return 0;
}

int SplitCmd(const Args& a) {
  auto all = ReadAll(a);
  if (!all.ok()) return Die(std::string(all.status().message()));
  std::vector<LabeledText> train, test;
  Split(*all, std::stod(a.Get("test-fraction", "0.2")), static_cast<uint32_t>(std::stoul(a.Get("seed", "7"))),
        &train, &test);
  if (!WriteCsv(a.Get("train-out"), train) || !WriteCsv(a.Get("test-out"), test)) {
    return Die("cannot write --train-out / --test-out");
  }
  std::printf("split %zu texts (duplicates dropped): %zu train, %zu test\n", train.size() + test.size(),
              train.size(), test.size());
  return 0;
}

int Bench(const Args& a) {
  auto model = TextClassifier::Load(a.Get("model"));
  if (!model.ok()) return Die(std::string(model.status().message()));
  auto data = ReadAll(a);
  if (!data.ok()) return Die(std::string(data.status().message()));
  std::vector<double> us;
  size_t chars = 0;
  for (int round = 0; round < 3; ++round) {
    for (const auto& r : *data) {
      auto t0 = std::chrono::steady_clock::now();
      auto p = (*model)->Predict(r.text);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      chars += r.text.size() + p.size() * 0;
    }
  }
  std::sort(us.begin(), us.end());
  std::printf("classification latency over %zu predictions (avg %zu bytes of text): median %.1f us, p99 %.1f us, max %.1f us\n",
              us.size(), chars / us.size(), us[us.size() / 2], us[us.size() * 99 / 100], us.back());
  return 0;
}

// The learning loop: dispatch keeps every dispatcher's category (and every return) in its Redis;
// this writes the corrected labels as training CSV. Returns ("!category") are counted, not written.
int ExportCorrections(const Args& a) {
  auto endpoint = hotline::ParseRedisUrl(a.Get("redis", "redis://127.0.0.1:6379/0"));
  if (!endpoint.ok()) return Die(std::string(endpoint.status().message()));
  hotline::RedisClient redis(*endpoint);
  auto rows = redis.Command({"LRANGE", "dispatch:labels", "0", "-1"});
  if (!rows.ok()) return Die(std::string(rows.status().message()));
  std::vector<LabeledText> out;
  size_t returns = 0;
  for (const auto& r : rows->elements) {
    std::vector<std::string> f = absl::StrSplit(r.str, '\t');
    if (f.size() < 2) continue;
    if (!f[0].empty() && f[0][0] == '!') {
      ++returns;
      continue;
    }
    out.push_back({f[1], f[0]});
  }
  if (!WriteCsv(a.Get("output", "corrections.csv"), out)) return Die("cannot write --output");
  std::printf("%zu corrected labels written to %s (%zu returns recorded)\n", out.size(),
              a.Get("output", "corrections.csv").c_str(), returns);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Die("usage: hotline-train train|evaluate|split|bench --flag value ... (see the source header)");
  Args a;
  a.cmd = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) return Die("expected --flag, got " + k);
    a.flags.emplace(k.substr(2), argv[i + 1]);
  }
  if (a.cmd == "train") return Train(a);
  if (a.cmd == "evaluate") return EvaluateCmd(a);
  if (a.cmd == "split") return SplitCmd(a);
  if (a.cmd == "bench") return Bench(a);
  if (a.cmd == "export-corrections") return ExportCorrections(a);
  return Die("unknown command " + a.cmd);
}
