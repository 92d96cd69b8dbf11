#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// A citizen's answer to the callback survey and what it leads to, as plain functions.
namespace hotline::survey {

enum class Resolved { kYes, kPartly, kNo };  // 已解决 / 部分解决 / 未解决
const char* ResolvedName(Resolved r);
// "yes" | "partly" | "no", or 已解决 / 部分解决 / 未解决; INVALID_ARGUMENT otherwise.
absl::StatusOr<Resolved> ParseResolved(absl::string_view s);

// A free comment longer than this is refused, not cut (the citizen would lose the end of it).
inline constexpr size_t kMaxCommentChars = 500;  // characters (code points), not bytes

struct SurveyAnswer {
  Resolved resolved = Resolved::kYes;
  int satisfaction = 5;  // 5 = 满意 … 1 = 很不满意
  std::string comment;
};

// Validates an answer from any route (DTMF, SMS reply, web page, call-taker). Errors are
// INVALID_ARGUMENT "field: reason" (satisfaction outside 1..5, comment not UTF-8 or too long).
absl::StatusOr<SurveyAnswer> MakeAnswer(Resolved resolved, int satisfaction, std::string comment);

// Negative: not resolved, or satisfaction at or below `negative_at_or_below` (the policy's
// negative_at). "Partly" alone is not negative: the grade the citizen gives decides.
bool IsNegative(const SurveyAnswer& a, int negative_at_or_below);

enum class Consequence {
  kCloseLoop,  // positive: the ticket's loop is closed
  kReopen,     // first negative answer on the ticket: 重办, back to the department
  kEscalate,   // a later negative answer: to the supervisors' list instead of looping
};
const char* ConsequenceName(Consequence c);

// `earlier_negatives`: negative answers recorded before this one on the same ticket (by the
// same citizen; each citizen of a merged ticket counts on their own).
Consequence ConsequenceOf(const SurveyAnswer& a, int negative_at_or_below, int earlier_negatives);

}  // namespace hotline::survey
