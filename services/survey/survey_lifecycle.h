#pragma once

#include "absl/status/statusor.h"

namespace hotline::survey {

// A callback survey's life:
//   SCHEDULED ──start attempt──▶ CONTACTING ──retry later──▶ SCHEDULED (next attempt)
//                                    │ └──give up (last attempt failed)──▶ UNREACHABLE
//   SCHEDULED | CONTACTING ──answer──▶ ANSWERED      (an SMS link may be answered between tries)
//   SCHEDULED | CONTACTING ──opt out──▶ OPTED_OUT    (also the initial state of an opted-out
//                                                      citizen's survey, so it is counted)
//   SCHEDULED | CONTACTING ──cancel──▶ CANCELLED     (ticket reopened or withdrawn meanwhile)
// ANSWERED, UNREACHABLE, OPTED_OUT and CANCELLED are final.
enum class SurveyState { kScheduled, kContacting, kAnswered, kUnreachable, kOptedOut, kCancelled };

enum class SurveyAction { kStartAttempt, kRetryLater, kGiveUp, kAnswer, kOptOut, kCancel };

const char* SurveyStateName(SurveyState s);
const char* SurveyActionName(SurveyAction a);
bool IsFinal(SurveyState s);

// The state after `action`, or FAILED_PRECONDITION naming both when the move is illegal.
// Pure: the whole state machine in one table, tested on its own.
absl::StatusOr<SurveyState> NextSurveyState(SurveyState from, SurveyAction action);

}  // namespace hotline::survey
