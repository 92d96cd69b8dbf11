// hotline-train: builds, evaluates and times dispatch's ticket classifier.
//
//   hotline-train train --input tickets.csv [--input corrections.csv] --output model.bin
//                       [--version V] [--target-precision 0.98] [--holdout 0.2] [--seed 42]
//   hotline-train evaluate --model model.bin --input test.csv [--threshold T]
//   hotline-train split --input all.csv --test-fraction 0.2 --seed 7 --train-out a.csv --test-out
//   b.csv hotline-train bench --model model.bin --input test.csv hotline-train export-corrections
//   --redis redis://dispatch-redis:6379/0 --output corrections.csv
//   hotline-train reply-quality --input replies.csv [--templates reply_templates.txt]
//                               [--examples 3]
//
// Unknown or malformed flags are refused naming the flag (exit 2); `hotline-train <command> --help`
// lists a command's flags.
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
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/redis_client.h"
#include "services/dispatch/classifier.h"
#include "services/dispatch/reply_quality.h"
#include "tools/common/flags.h"

using namespace hotline::dispatch;

namespace {

using hotline::flags::FlagParser;

// Every command's flags, with their defaults.
struct Args {
  std::vector<std::string> inputs;
  std::string output, model, version, redis = "redis://127.0.0.1:6379/0", train_out, test_out;
  std::string templates = "deploy/dispatch/reply_templates.txt";
  int64_t examples = 3;
  double target_precision = 0.98, holdout = 0.2, test_fraction = 0.2, threshold = -1;
  int64_t seed = 42;
};

constexpr int64_t kMaxSeed = 4294967295;  // uint32

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
  if (a.inputs.empty()) return absl::InvalidArgumentError("--input is required");
  for (const auto& input : a.inputs) {
    auto rows = ReadLabeledCsv(input);
    if (!rows.ok()) return rows.status();
    all.insert(all.end(), rows->begin(), rows->end());
  }
  return all;
}

int Train(const Args& a) {
  auto all = ReadAll(a);
  if (!all.ok()) return Die(std::string(all.status().message()));
  const std::string& output = a.output;
  double target = a.target_precision;
  double holdout = a.holdout;
  uint32_t seed = static_cast<uint32_t>(a.seed);
  std::vector<LabeledText> train, valid;
  Split(*all, holdout, seed, &train, &valid);
  TrainOptions opts;
  opts.seed = seed;
  auto t0 = std::chrono::steady_clock::now();
  auto model = TextClassifier::Train(train, opts);
  if (!model.ok()) return Die(std::string(model.status().message()));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string version = a.version.empty()
                            ? absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone())
                            : a.version;
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
  std::printf("model %s: %zu labels, trained on %zu texts in %.1f s, validated on %zu\n",
              version.c_str(), (*model)->labels().size(), train.size(), secs, valid.size());
  std::printf("validation accuracy %.3f, macro-F1 %.3f\n", ev.accuracy, ev.macro_f1);
  std::printf(
      "auto-dispatch threshold %.3f (target precision %.3f): covers %.1f%% at %.1f%% accuracy\n",
      th, target, valid.empty() ? 0 : 100.0 * auto_n / valid.size(),
      auto_n ? 100.0 * auto_ok / auto_n : 0);
  std::printf("written to %s\n", output.c_str());
  return 0;
}

int EvaluateCmd(const Args& a) {
  auto model = TextClassifier::Load(a.model);
  if (!model.ok()) return Die(std::string(model.status().message()));
  auto data = ReadAll(a);
  if (!data.ok()) return Die(std::string(data.status().message()));
  auto ev = Evaluate(**model, *data);
  double th = a.threshold < 0 ? (*model)->recommended_threshold() : a.threshold;
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
  for (const auto& p : ev.curve)
    std::printf("  %5.2f     %5.1f%%    %5.1f%%\n", p.threshold, 100 * p.coverage,
                100 * p.accuracy);
  return 0;
}

int SplitCmd(const Args& a) {
  auto all = ReadAll(a);
  if (!all.ok()) return Die(std::string(all.status().message()));
  std::vector<LabeledText> train, test;
  Split(*all, a.test_fraction, static_cast<uint32_t>(a.seed), &train, &test);
  if (!WriteCsv(a.train_out, train) || !WriteCsv(a.test_out, test)) {
    return Die("cannot write --train-out / --test-out");
  }
  std::printf("split %zu texts (duplicates dropped): %zu train, %zu test\n",
              train.size() + test.size(), train.size(), test.size());
  return 0;
}

int Bench(const Args& a) {
  auto model = TextClassifier::Load(a.model);
  if (!model.ok()) return Die(std::string(model.status().message()));
  auto data = ReadAll(a);
  if (!data.ok()) return Die(std::string(data.status().message()));
  std::vector<double> us;
  size_t chars = 0;
  for (int round = 0; round < 3; ++round) {
    for (const auto& r : *data) {
      auto t0 = std::chrono::steady_clock::now();
      auto p = (*model)->Predict(r.text);
      us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      chars += r.text.size() + p.size() * 0;
    }
  }
  std::sort(us.begin(), us.end());
  std::printf(
      "classification latency over %zu predictions (avg %zu bytes of text): median %.1f us, p99 "
      "%.1f us, max %.1f us\n",
      us.size(), chars / us.size(), us[us.size() / 2], us[us.size() * 99 / 100], us.back());
  return 0;
}

// The learning loop: dispatch keeps every dispatcher's category (and every return) in its Redis;
// this writes the corrected labels as training CSV. Returns ("!category") are counted, not written.
int ExportCorrections(const Args& a) {
  auto endpoint = hotline::ParseRedisUrl(a.redis);
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
  if (!WriteCsv(a.output, out)) return Die("cannot write --output");
  std::printf("%zu corrected labels written to %s (%zu returns recorded)\n", out.size(),
              a.output.c_str(), returns);
  return 0;
}

// First `max_bytes`-ish of `s`, cut on a UTF-8 boundary, newlines flattened.
std::string Shorten(const std::string& s, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size() && chars < max_chars; ++chars) {
    size_t len = 1;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) {
      len = 4;
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC0) {
      len = 2;
    }
    std::string piece = s.substr(i, len);
    out += (piece == "\n" || piece == "\r" || piece == "\t") ? " " : piece;
    i += len;
  }
  if (out.size() < s.size()) out += "…";
  return out;
}

// The reply-quality check over a replies CSV (title, detail, reply columns): how many replies get
// each verdict, the score distribution and real examples of each. The message's title stands in
// for the ticket's location: its places are what the reply should name.
int ReplyQuality(const Args& a) {
  auto templates = ReplyTemplates::LoadFile(a.templates);
  if (!templates.ok()) return Die(std::string(templates.status().message()));
  if (a.inputs.empty()) return Die("--input is required");
  std::vector<ReplySample> rows;
  for (const auto& input : a.inputs) {
    auto r = ReadRepliesCsv(input);
    if (!r.ok()) return Die(std::string(r.status().message()));
    rows.insert(rows.end(), r->begin(), r->end());
  }
  if (rows.empty()) return Die("--input: no rows");
  const ReplyQualityOptions options;
  std::map<ReplyVerdict, std::vector<size_t>> by_verdict;
  std::vector<ReplyAssessment> results;
  std::vector<double> us;
  for (const auto& r : rows) {
    const std::string request = r.title + "\n" + r.detail;
    const std::string place = absl::StrJoin(ExtractPlaces(r.title), " ");
    auto t0 = std::chrono::steady_clock::now();
    results.push_back(AssessReply(request, place, r.reply, *templates, options));
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    by_verdict[results.back().verdict].push_back(results.size() - 1);
  }
  const size_t n = rows.size();
  std::printf("reply quality on %zu replies (lexicon %s)\n\n", n, a.templates.c_str());
  std::printf("| verdict | replies | share |\n|---|---:|---:|\n");
  for (auto v : {ReplyVerdict::kOk, ReplyVerdict::kTemplateNonAnswer, ReplyVerdict::kTooShort,
                 ReplyVerdict::kOffTopic, ReplyVerdict::kMissingPlace}) {
    size_t c = by_verdict[v].size();
    std::printf("| %s | %zu | %.1f%% |\n", std::string(ReplyVerdictName(v)).c_str(), c,
                100.0 * c / n);
  }
  std::printf("\nscore   replies\n");
  std::vector<size_t> bins(10);
  std::vector<double> scores;
  for (const auto& r : results) {
    bins[std::min<size_t>(9, static_cast<size_t>(r.score * 10))]++;
    scores.push_back(r.score);
  }
  for (size_t b = 0; b < bins.size(); ++b) {
    std::printf("%.1f-%.1f %6zu %s\n", b / 10.0, (b + 1) / 10.0, bins[b],
                std::string(bins[b] * 60 / n, '#').c_str());
  }
  std::sort(scores.begin(), scores.end());
  std::sort(us.begin(), us.end());
  std::printf("quartiles %.2f %.2f %.2f; check time median %.1f us, p99 %.1f us\n", scores[n / 4],
              scores[n / 2], scores[n * 3 / 4], us[n / 2], us[n * 99 / 100]);
  for (const auto& [v, idx] : by_verdict) {
    std::printf("\n== %s: examples\n", std::string(ReplyVerdictName(v)).c_str());
    size_t k = std::min<size_t>(static_cast<size_t>(a.examples), idx.size());
    for (size_t e = 0; e < k; ++e) {
      size_t i = idx[e * idx.size() / k];  // spread over the file, not the first few
      const auto& r = rows[i];
      std::printf("- [%s] %s\n  reply: %s\n  score %.2f: %s\n", r.id.c_str(),
                  Shorten(r.title, 40).c_str(), Shorten(r.reply, 90).c_str(), results[i].score,
                  absl::StrJoin(results[i].reasons, "; ").c_str());
    }
  }
  return 0;
}

}  // namespace

constexpr char kCommands[] =
    "usage: hotline-train <command> [flags]   (hotline-train <command> --help lists its flags)\n"
    "  train               train a model from labelled CSV, choose its auto-dispatch threshold\n"
    "  evaluate            accuracy, macro-F1 and the coverage/accuracy curve of a model\n"
    "  split               stratified train/test split of labelled CSV\n"
    "  bench               time predictions\n"
    "  export-corrections  dispatch's corrected labels (the learning loop) as training CSV\n"
    "  reply-quality       run the reply-quality check over a replies CSV, verdicts and examples\n";

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kCommands, stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kCommands, stdout);
    return 0;
  }
  Args a;
  FlagParser p("hotline-train " + cmd + " [flags]");
  auto input = [&] {
    p.Strings("input", &a.inputs, "labelled CSV (text, label columns); repeatable");
  };
  int (*run)(const Args&) = nullptr;
  if (cmd == "train") {
    input();
    p.String("output", &a.output, "model file to write");
    p.String("version", &a.version, "model version (default: the UTC time)");
    p.Double("target-precision", &a.target_precision, 0, 1,
             "precision the auto-dispatch threshold must reach");
    p.Double("holdout", &a.holdout, 0, 0.9, "share held out to choose the threshold");
    p.Int("seed", &a.seed, 0, kMaxSeed, "random seed");
    p.Require("input");
    p.Require("output");
    run = Train;
  } else if (cmd == "evaluate") {
    p.String("model", &a.model, "model file");
    input();
    p.Double("threshold", &a.threshold, 0, 1, "auto-dispatch threshold (default: the model's)");
    p.Require("model");
    p.Require("input");
    run = EvaluateCmd;
  } else if (cmd == "split") {
    input();
    p.Double("test-fraction", &a.test_fraction, 0, 1, "share of each label on the test side");
    a.seed = 7;
    p.Int("seed", &a.seed, 0, kMaxSeed, "random seed");
    p.String("train-out", &a.train_out, "CSV to write the training side to");
    p.String("test-out", &a.test_out, "CSV to write the test side to");
    p.Require("input");
    p.Require("train-out");
    p.Require("test-out");
    run = SplitCmd;
  } else if (cmd == "bench") {
    p.String("model", &a.model, "model file");
    input();
    p.Require("model");
    p.Require("input");
    run = Bench;
  } else if (cmd == "export-corrections") {
    p.String("redis", &a.redis, "dispatch's REDIS_URL");
    a.output = "corrections.csv";
    p.String("output", &a.output, "CSV to write");
    run = ExportCorrections;
  } else if (cmd == "reply-quality") {
    p.Strings("input", &a.inputs, "replies CSV (title, detail, reply columns); repeatable");
    p.String("templates", &a.templates, "the reply-quality lexicon");
    p.Int("examples", &a.examples, 0, 50, "examples shown per verdict");
    p.Require("input");
    run = ReplyQuality;
  } else {
    std::fprintf(stderr, "hotline-train: unknown command '%s'\n%s", cmd.c_str(), kCommands);
    return 2;
  }
  hotline::flags::ParseOrExit(p, "hotline-train", argc, argv, 2);
  if (!p.positional().empty()) {
    std::fprintf(stderr, "hotline-train: unexpected argument '%s'\n", p.positional()[0].c_str());
    return 2;
  }
  return run(a);
}
