#include "services/survey/survey_answer.h"

#include "absl/strings/str_cat.h"
#include "services/common/text.h"
#include "services/survey/survey_policy.h"

namespace hotline::survey {

const char* ResolvedName(Resolved r) {
  switch (r) {
    case Resolved::kYes:
      return "yes";
    case Resolved::kPartly:
      return "partly";
    case Resolved::kNo:
      return "no";
  }
  return "?";
}

absl::StatusOr<Resolved> ParseResolved(absl::string_view s) {
  if (s == "yes" || s == "已解决") return Resolved::kYes;
  if (s == "partly" || s == "部分解决") return Resolved::kPartly;
  if (s == "no" || s == "未解决") return Resolved::kNo;
  return absl::InvalidArgumentError(
      absl::StrCat("resolved: '", s, "' is not yes, partly or no (已解决, 部分解决, 未解决)"));
}

absl::StatusOr<SurveyAnswer> MakeAnswer(Resolved resolved, int satisfaction, std::string comment) {
  if (satisfaction < kGradeMin || satisfaction > kGradeMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("satisfaction: ", satisfaction, " is outside 1..5 (很不满意 = 1 … 满意 = 5)"));
  }
  if (!IsValidUtf8(comment)) return absl::InvalidArgumentError("comment: not valid UTF-8");
  if (Utf8Length(comment) > kMaxCommentChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("comment: longer than ", kMaxCommentChars, " characters"));
  }
  return SurveyAnswer{resolved, satisfaction, std::move(comment)};
}

bool IsNegative(const SurveyAnswer& a, int negative_at_or_below) {
  return a.resolved == Resolved::kNo || a.satisfaction <= negative_at_or_below;
}

const char* ConsequenceName(Consequence c) {
  switch (c) {
    case Consequence::kCloseLoop:
      return "close loop";
    case Consequence::kReopen:
      return "reopen";
    case Consequence::kEscalate:
      return "escalate";
  }
  return "?";
}

Consequence ConsequenceOf(const SurveyAnswer& a, int negative_at_or_below, int earlier_negatives) {
  if (!IsNegative(a, negative_at_or_below)) return Consequence::kCloseLoop;
  return earlier_negatives <= 0 ? Consequence::kReopen : Consequence::kEscalate;
}

}  // namespace hotline::survey
