#include "services/survey/survey_lifecycle.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"

namespace hotline::survey {

using S = SurveyState;

const char* SurveyStateName(SurveyState s) {
  switch (s) {
    case S::kScheduled:
      return "SCHEDULED";
    case S::kContacting:
      return "CONTACTING";
    case S::kAnswered:
      return "ANSWERED";
    case S::kUnreachable:
      return "UNREACHABLE";
    case S::kOptedOut:
      return "OPTED_OUT";
    case S::kCancelled:
      return "CANCELLED";
  }
  return "?";
}

const char* SurveyActionName(SurveyAction a) {
  switch (a) {
    case SurveyAction::kStartAttempt:
      return "start attempt";
    case SurveyAction::kRetryLater:
      return "retry later";
    case SurveyAction::kGiveUp:
      return "give up";
    case SurveyAction::kAnswer:
      return "answer";
    case SurveyAction::kOptOut:
      return "opt out";
    case SurveyAction::kCancel:
      return "cancel";
  }
  return "?";
}

bool IsFinal(SurveyState s) {
  return s == S::kAnswered || s == S::kUnreachable || s == S::kOptedOut || s == S::kCancelled;
}

absl::StatusOr<SurveyState> NextSurveyState(SurveyState from, SurveyAction a) {
  struct Row {
    SurveyAction action;
    std::initializer_list<S> from;
    S to;
  };
  static const Row kTable[] = {
      {SurveyAction::kStartAttempt, {S::kScheduled}, S::kContacting},
      {SurveyAction::kRetryLater, {S::kContacting}, S::kScheduled},
      {SurveyAction::kGiveUp, {S::kContacting}, S::kUnreachable},
      {SurveyAction::kAnswer, {S::kScheduled, S::kContacting}, S::kAnswered},
      {SurveyAction::kOptOut, {S::kScheduled, S::kContacting}, S::kOptedOut},
      {SurveyAction::kCancel, {S::kScheduled, S::kContacting}, S::kCancelled},
  };
  for (const Row& r : kTable) {
    if (r.action != a) continue;
    for (S s : r.from) {
      if (s == from) return r.to;
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("a survey in state ", SurveyStateName(from), " cannot ", SurveyActionName(a)));
}

}  // namespace hotline::survey
