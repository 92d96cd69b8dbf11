#include "services/survey/survey_schedule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace hotline::survey {
namespace {

// A policy whose window never fits on any day of the next two years (e.g. working days only on
// a calendar without working days) yields "never" instead of a loop without end.
constexpr int kMaxDaysScanned = 731;

std::string ChannelList(const std::vector<ContactChannel>& cs) {
  std::string out;
  for (ContactChannel c : cs) absl::StrAppend(&out, out.empty() ? "" : ",", ChannelName(c));
  return out;
}

}  // namespace

const char* SurveyDecisionName(SurveyDecision d) {
  switch (d) {
    case SurveyDecision::kSurveyed:
      return "surveyed";
    case SurveyDecision::kNotSurveyedType:
      return "type not surveyed";
    case SurveyDecision::kNotSampled:
      return "not sampled";
    case SurveyDecision::kOptedOut:
      return "opted out";
    case SurveyDecision::kNoChannel:
      return "no reachable channel";
  }
  return "?";
}

absl::Time SurveyScheduler::NextContactTime(const SurveyPolicy& policy,
                                            const std::string& department, absl::Time t) const {
  const WorkCalendar& cal = calendars_.For(department);
  const absl::TimeZone zone = policy.zone ? *policy.zone : cal.zone();
  absl::CivilDay day = absl::ToCivilDay(t, zone);
  for (int n = 0; n < kMaxDaysScanned; ++n, ++day) {
    // The day is the local day of the contact window's zone: with an IANA zone other than the
    // calendar's, "working day" is judged by the citizen's date, which is what quiet hours are
    // about.
    if (policy.working_days_only && !cal.IsWorkingDay(day)) continue;
    const absl::CivilMinute midnight(day);
    const absl::Time open = absl::FromCivil(midnight + policy.window_start_minute, zone);
    const absl::Time close = absl::FromCivil(midnight + policy.window_end_minute, zone);
    const absl::Time start = std::max(t, open);
    if (start + policy.contact_time <= close) return start;
  }
  return absl::InfiniteFuture();
}

SurveyPlan SurveyScheduler::Plan(const RepliedTicket& ticket, const CitizenContact& citizen) const {
  SurveyPlan plan;
  const std::string type = SurveyTypeKey(ticket.type);
  const SurveyPolicy* p = policies_.Find(ticket.type);
  if (p == nullptr || p->share_bp == 0) {
    plan.decision = SurveyDecision::kNotSurveyedType;
    plan.reason = absl::StrCat("no survey for ", type, " tickets");
    return plan;
  }
  if (!IsSampled(ticket.ticket_id, p->share_bp)) {
    plan.decision = SurveyDecision::kNotSampled;
    plan.reason = absl::StrCat("outside the ", p->share_bp / 100.0, "% sample of ", type,
                               " tickets (bucket ", SampleBucket(ticket.ticket_id), ")");
    return plan;
  }
  plan.create = true;
  SurveyRecord& r = plan.record;
  r.ticket_id = ticket.ticket_id;
  r.type = ticket.type;
  r.department_id = ticket.department_id;
  r.replied_at = ticket.replied_at;
  r.max_attempts = p->max_attempts;
  r.due_at = calendars_.For(ticket.department_id).AddWorkingTime(ticket.replied_at, p->within);
  if (citizen.opted_out) {
    r.state = SurveyState::kOptedOut;
    plan.decision = SurveyDecision::kOptedOut;
    plan.reason = "the citizen refused callbacks";
    return plan;
  }
  for (ContactChannel c : p->channels) {
    if (std::find(citizen.reachable.begin(), citizen.reachable.end(), c) != citizen.reachable.end())
      r.channels.push_back(c);
  }
  if (r.channels.empty()) {
    r.state = SurveyState::kUnreachable;
    plan.decision = SurveyDecision::kNoChannel;
    plan.reason = absl::StrCat("the citizen has none of the channels ", ChannelList(p->channels));
    return plan;
  }
  r.state = SurveyState::kScheduled;
  r.next_contact = NextContactTime(*p, ticket.department_id, ticket.replied_at);
  plan.late = r.next_contact > r.due_at;
  plan.decision = SurveyDecision::kSurveyed;
  plan.reason = absl::StrCat(type, ": ", p->share_bp / 100.0, "% surveyed, by ",
                             ChannelList(r.channels), plan.late ? ", first contact late" : "");
  return plan;
}

const SurveyPolicy* SurveyScheduler::PolicyFor(const SurveyRecord& r) const {
  return policies_.Find(r.type);
}

absl::StatusOr<ContactChannel> SurveyScheduler::StartAttempt(SurveyRecord* r,
                                                             absl::Time now) const {
  auto next = NextSurveyState(r->state, SurveyAction::kStartAttempt);
  if (!next.ok()) return next.status();
  if (now < r->next_contact) {
    return absl::FailedPreconditionError(
        absl::StrCat("attempt ", r->attempts_made + 1, " is not due before ",
                     absl::FormatTime(absl::RFC3339_sec, r->next_contact, absl::UTCTimeZone())));
  }
  if (r->channels.empty() || r->attempts_made >= r->max_attempts) {
    return absl::FailedPreconditionError("no attempt left");  // broken record, not a race
  }
  const ContactChannel c = r->channels[r->attempts_made % r->channels.size()];
  r->state = *next;
  ++r->attempts_made;
  r->attempt_times.push_back(now);
  return c;
}

absl::Status SurveyScheduler::AttemptFailed(SurveyRecord* r, absl::Time now) const {
  const bool last = r->attempts_made >= r->max_attempts;
  auto next = NextSurveyState(r->state, last ? SurveyAction::kGiveUp : SurveyAction::kRetryLater);
  if (!next.ok()) return next.status();
  if (!last) {
    const SurveyPolicy* p = PolicyFor(*r);
    if (p == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("no survey policy for ", SurveyTypeKey(r->type), " tickets any more"));
    }
    r->next_contact = NextContactTime(*p, r->department_id, now + p->spacing);
  }
  r->state = *next;
  return absl::OkStatus();
}

absl::Status SurveyScheduler::Answered(SurveyRecord* r) const {
  auto next = NextSurveyState(r->state, SurveyAction::kAnswer);
  if (!next.ok()) return next.status();
  r->state = *next;
  return absl::OkStatus();
}

absl::Status SurveyScheduler::OptOut(SurveyRecord* r) const {
  auto next = NextSurveyState(r->state, SurveyAction::kOptOut);
  if (!next.ok()) return next.status();
  r->state = *next;
  return absl::OkStatus();
}

absl::Status SurveyScheduler::Cancel(SurveyRecord* r) const {
  auto next = NextSurveyState(r->state, SurveyAction::kCancel);
  if (!next.ok()) return next.status();
  r->state = *next;
  return absl::OkStatus();
}

}  // namespace hotline::survey
