#include "services/intake/knowledge_base.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/text.h"

namespace hotline::intake {
namespace {

constexpr double kK1 = 1.2;
constexpr double kB = 0.75;

bool IsBigram(const std::string& g) {
  return Utf8Length(g) == 2 && static_cast<unsigned char>(g[0]) >= 0x80;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KnowledgeBase>> KnowledgeBase::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the knowledge base"));
  std::vector<v1::KnowledgeEntry> entries;
  std::string line;
  int n = 0;
  google::protobuf::util::JsonParseOptions opts;
  while (std::getline(in, line)) {
    ++n;
    auto trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    v1::KnowledgeEntry e;
    auto s = google::protobuf::util::JsonStringToMessage(std::string(trimmed), &e, opts);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": ", s.message().ToString()));
    }
    if (e.code().empty() || e.question().empty() || e.answer().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", n, ": code, question and answer are required"));
    }
    entries.push_back(std::move(e));
  }
  return Build(std::move(entries));
}

absl::StatusOr<std::unique_ptr<KnowledgeBase>> KnowledgeBase::Build(
    std::vector<v1::KnowledgeEntry> entries) {
  std::unique_ptr<KnowledgeBase> kb(new KnowledgeBase());
  kb->entries_ = std::move(entries);
  auto id_of = [&](const std::string& g) {
    auto [it, inserted] = kb->term_ids_.emplace(g, static_cast<int>(kb->term_ids_.size()));
    if (inserted) {
      kb->df_.push_back(0);
      kb->postings_.emplace_back();
    }
    return it->second;
  };
  double total = 0;
  for (size_t d = 0; d < kb->entries_.size(); ++d) {
    const auto& e = kb->entries_[d];
    std::string text = e.question();
    for (const auto& t : e.tags()) absl::StrAppend(&text, " ", t);
    Doc doc;
    for (const auto& g : CharNgrams(NormalizeText(text))) {
      ++doc.tf[id_of(g)];
      ++doc.length;
    }
    std::unordered_set<int> qb;
    for (const auto& g : CharNgrams(NormalizeText(e.question()), false)) qb.insert(id_of(g));
    doc.question_bigrams.assign(qb.begin(), qb.end());
    for (auto [term, count] : doc.tf) {
      ++kb->df_[term];
      kb->postings_[term].emplace_back(static_cast<int>(d), count);
    }
    total += doc.length;
    kb->docs_.push_back(std::move(doc));
  }
  kb->avg_length_ = kb->docs_.empty() ? 1 : total / kb->docs_.size();
  return kb;
}

double KnowledgeBase::Idf(int term) const {
  double n = static_cast<double>(docs_.size());
  double df = df_[term];
  return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

std::vector<KnowledgeBase::Match> KnowledgeBase::Search(const std::string& query,
                                                        size_t limit) const {
  std::string norm = NormalizeText(query);
  std::unordered_map<int, int> qtf;
  std::unordered_set<int> qbigrams;
  for (const auto& g : CharNgrams(norm)) {
    auto it = term_ids_.find(g);
    if (it == term_ids_.end()) continue;
    ++qtf[it->second];
    if (IsBigram(g) || g.find_first_of("abcdefghijklmnopqrstuvwxyz0123456789") == 0) {
      qbigrams.insert(it->second);
    }
  }
  std::vector<double> scores(docs_.size(), 0.0);
  for (auto [term, qcount] : qtf) {
    double idf = Idf(term);
    for (auto [d, tf] : postings_[term]) {
      double len_norm = kK1 * (1 - kB + kB * docs_[d].length / avg_length_);
      scores[d] += idf * (tf * (kK1 + 1)) / (tf + len_norm) * std::min(qcount, 3);
    }
  }
  std::vector<Match> out;
  for (size_t d = 0; d < docs_.size(); ++d) {
    if (scores[d] <= 0) continue;
    double have = 0, all = 0;
    for (int t : docs_[d].question_bigrams) {
      double w = Idf(t);
      all += w;
      if (qbigrams.count(t)) have += w;
    }
    out.push_back({&entries_[d], scores[d], all > 0 ? have / all : 0.0});
  }
  std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) {
    return a.score != b.score ? a.score > b.score : a.entry->code() < b.entry->code();
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::optional<KnowledgeBase::Match> KnowledgeBase::Answer(const std::string& query,
                                                          double min_coverage) const {
  std::optional<Match> best;
  for (const auto& m : Search(query, 5)) {
    if (m.coverage >= min_coverage && (!best || m.coverage > best->coverage)) best = m;
  }
  return best;
}

}  // namespace hotline::intake
