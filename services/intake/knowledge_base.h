#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "hotline/v1/intake.pb.h"

namespace hotline::intake {

// The hotline's knowledge base (知识库), searched with BM25 over Chinese character unigrams and
// bigrams (and ASCII words) of normalised text, so Traditional and Simplified, full- and
// half-width input all find the same entry. Immutable once built; shared across threads.
class KnowledgeBase {
 public:
  struct Match {
    const v1::KnowledgeEntry* entry;
    double score;     // BM25 of the query against question + tags
    double coverage;  // idf-weighted share of the entry's question bigrams found in the query
  };

  // One entry per line in proto JSON (see intake.proto KnowledgeEntry); blank lines and lines
  // starting with '#' are skipped. An error names the line.
  static absl::StatusOr<std::unique_ptr<KnowledgeBase>> LoadFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<KnowledgeBase>> Build(
      std::vector<v1::KnowledgeEntry> entries);

  // Best matches first.
  std::vector<Match> Search(const std::string& query, size_t limit) const;
  // The answer to give at once, if one entry clearly answers the query: of the top BM25 hits,
  // the one whose question the query covers best, when that coverage reaches min_coverage.
  std::optional<Match> Answer(const std::string& query, double min_coverage) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Doc {
    std::unordered_map<int, int> tf;  // term id → count (question + tags)
    int length = 0;
    std::vector<int> question_bigrams;  // distinct
  };
  KnowledgeBase() = default;
  double Idf(int term) const;

  std::vector<v1::KnowledgeEntry> entries_;
  std::vector<Doc> docs_;
  std::unordered_map<std::string, int> term_ids_;
  std::vector<int> df_;
  std::vector<std::vector<std::pair<int, int>>> postings_;  // term → (doc, tf)
  double avg_length_ = 0;
};

}  // namespace hotline::intake
