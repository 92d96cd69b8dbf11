#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"

// The reply-quality check (答复质量): before a department's reply closes the loop with the
// citizen, compare the answer with the request. A template non-answer ("已转相关部门处理",
// "请咨询相关部门", "已收悉"), a reply too short to explain anything, one that shares no words
// with the request, or one that ignores the place the citizen named goes to the supervisors
// instead of to the citizen. Plain functions over text: no Redis, no clock, microseconds a reply.
namespace hotline::dispatch {

enum class ReplyVerdict {
  kOk,
  kTooShort,           // fewer explanatory characters than the minimum, and no template phrase
  kTemplateNonAnswer,  // acknowledges or forwards ("已收悉", "已转…处理") without explaining
  kOffTopic,           // shares (almost) no character bigrams with the request
  kMissingPlace,       // the request names a place, the reply names none of it
};

// "OK", "TOO_SHORT", "TEMPLATE_NON_ANSWER", "OFF_TOPIC", "MISSING_PLACE".
std::string_view ReplyVerdictName(ReplyVerdict v);

// The phrase lexicon (deploy/dispatch/reply_templates.txt). One phrase a line, '#' comments,
// sections:
//   [non-answer]  phrases that acknowledge or pass the matter on ("已收悉", "已转", "请咨询");
//   [courtesy]    greetings and thanks ("您好", "感谢您对我们工作的支持") — neither explain
//                 anything, so both are taken out before the explanation is measured;
//   [generic]     character bigrams too common in requests and replies to show a topic
//                 ("问题", "反映", "部门"); they do not count as shared words.
// Phrases are compared after NormalizeText, so width and Traditional/Simplified do not matter.
class ReplyTemplates {
 public:
  static absl::StatusOr<ReplyTemplates> Parse(std::string_view content,
                                              std::string_view source = "reply templates");
  static absl::StatusOr<ReplyTemplates> LoadFile(const std::string& path);

  const std::vector<std::string>& non_answer() const { return non_answer_; }
  const std::vector<std::string>& courtesy() const { return courtesy_; }
  const std::unordered_set<std::string>& generic() const { return generic_; }

 private:
  // Normalised, longest first, so "感谢您的留言" is taken out before "留言" would be.
  std::vector<std::string> non_answer_, courtesy_;
  std::unordered_set<std::string> generic_;
};

// Thresholds. The defaults were chosen on the 2,816 real replies of the Teddy Cup 2020 set
// (README, "Reply quality").
struct ReplyQualityOptions {
  // Below this many explanatory characters (CJK characters and ASCII words left once template
  // phrases, quoted echoes of the request, dates, numbers and ids are taken out) a reply is
  // TOO_SHORT, or TEMPLATE_NON_ANSWER when it consisted of template phrases.
  size_t min_explanation_chars = 20;
  // A reply with a non-answer phrase ("已转交…", "请咨询…") needs this much explanation besides.
  size_t min_explanation_with_non_answer = 40;
  // OFF_TOPIC when the reply shares fewer content bigrams with the request than this, or when
  // the shared ones are less than `min_overlap` of the smaller of the two bigram sets.
  size_t min_shared_bigrams = 1;
  double min_overlap = 0.015;
};

struct ReplyAssessment {
  ReplyVerdict verdict = ReplyVerdict::kOk;
  // 0..1, higher is better: 0.4 × length (explanation / 100 chars, capped) + 0.4 × topic
  // (overlap / 0.10, capped) + 0.2 × place (1 when named or none asked). For ranking and
  // dashboards; the verdict is what routes the reply.
  double score = 0;
  std::vector<std::string> reasons;  // human-readable, one per finding, for the supervisor
  size_t explanation_chars = 0;
  size_t shared_bigrams = 0;
  double overlap = 0;
  std::vector<std::string> matched_phrases;  // template phrases found (normalised)
  std::vector<std::string> missing_places;   // the request's places the reply does not name
};

// `request_place` is the ticket's location as text ("A2区 桂花坪街道", whitespace or punctuation
// between names); empty when the ticket has none, and then no place check is made.
ReplyAssessment AssessReply(std::string_view request_text, std::string_view request_place,
                            std::string_view reply_text, const ReplyTemplates& templates,
                            const ReplyQualityOptions& options = {});

// Place names in free text, for tickets without a structured location (and for the evaluation
// on messages whose title names the place): 2–4 character names ending in
// 街道/社区/小区/大道/路/街/镇/乡/村 (not districts: see the .cc). A heuristic:
// Chinese has no word boundaries, so it is meant for short texts such as a title.
std::vector<std::string> ExtractPlaces(std::string_view text);

// One row of a replies CSV (columns title, detail, reply; e.g. the Teddy Cup attachment 4).
struct ReplySample {
  std::string id;
  std::string title;
  std::string detail;
  std::string reply;
};
absl::StatusOr<std::vector<ReplySample>> ReadRepliesCsv(const std::string& path);

}  // namespace hotline::dispatch
