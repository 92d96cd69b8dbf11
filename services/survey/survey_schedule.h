#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/common.pb.h"
#include "services/common/calendar.h"
#include "services/survey/survey_lifecycle.h"
#include "services/survey/survey_policy.h"

// When and how to call a citizen back (回访), as plain functions of the policy, the department's
// calendar and the times passed in. No clock of its own: the service passes "now", tests pass
// the times they want.
namespace hotline::survey {

// What the survey needs to know about the replied (or closed) ticket. The type comes from the
// ticket's own events (TicketClosed carries it); `replied_at` is when the department replied
// (the TicketReplied's occurred_at), or the closing time when only TicketClosed is known.
struct RepliedTicket {
  std::string ticket_id;
  v1::TicketType type = v1::TICKET_TYPE_UNSPECIFIED;
  std::string department_id;
  absl::Time replied_at;
};

// What the citizen allows, as plain flags. Never an address or a phone number: the survey asks
// intake for those at the moment of contact and keeps nothing.
struct CitizenContact {
  bool opted_out = false;  // 拒绝回访: never contacted
  // Channels the citizen can be reached on (has a mobile for sms/ivr, a bound WeChat, an e-mail
  // address); the policy's preference order decides among them.
  std::vector<ContactChannel> reachable;
};

// Why a ticket is or is not surveyed.
enum class SurveyDecision {
  kSurveyed,
  kNotSurveyedType,  // no policy row for the type, or a 0% share
  kNotSampled,       // outside the type's sampled share
  kOptedOut,         // a survey in OPTED_OUT, so the refusal is counted
  kNoChannel,        // a survey in UNREACHABLE at once: nothing to try, counted as such
};
const char* SurveyDecisionName(SurveyDecision d);

// One survey as the service stores it.
struct SurveyRecord {
  std::string ticket_id;
  v1::TicketType type = v1::TICKET_TYPE_UNSPECIFIED;
  std::string department_id;
  absl::Time replied_at;
  SurveyState state = SurveyState::kScheduled;
  absl::Time due_at;        // reply + `within` working time on the department's calendar
  absl::Time next_contact;  // when the next attempt may start (meaningful while SCHEDULED)
  int attempts_made = 0;
  int max_attempts = 0;
  std::vector<ContactChannel> channels;  // the citizen's reachable ones, in policy order
  std::vector<absl::Time> attempt_times;
};

struct SurveyPlan {
  SurveyDecision decision = SurveyDecision::kNotSurveyedType;
  std::string reason;   // for logs and the operator: why, in words
  bool create = false;  // a record is kept (surveyed, opted out, no channel)
  SurveyRecord record;
  bool late = false;  // the first contact falls after due_at (quiet hours, working days)
};

class SurveyScheduler {
 public:
  // Both must outlive the scheduler.
  SurveyScheduler(const SurveyPolicyTable& policies, const CalendarSet& calendars)
      : policies_(policies), calendars_(calendars) {}

  // Decides whether the ticket is surveyed and, if so, its first contact: the earliest instant
  // at or after the reply at which a whole contact (`contact_time`) fits inside the contact
  // window (on a working day when the policy says so). A reply at 20:55 with a 08:00–21:00
  // window and 10-minute contacts is first contacted at 08:00 the next (working) morning.
  SurveyPlan Plan(const RepliedTicket& ticket, const CitizenContact& citizen) const;

  // The earliest instant >= t at which a contact may start under `policy` for `department`.
  absl::Time NextContactTime(const SurveyPolicy& policy, const std::string& department,
                             absl::Time t) const;

  // SCHEDULED → CONTACTING at `now` (not before next_contact: FAILED_PRECONDITION). Returns the
  // channel of this attempt: attempts rotate through the reachable channels in order.
  absl::StatusOr<ContactChannel> StartAttempt(SurveyRecord* r, absl::Time now) const;
  // The attempt in progress failed (no answer, undeliverable) at `now`: SCHEDULED again with
  // next_contact = now + spacing moved out of the quiet hours, or UNREACHABLE after the last.
  absl::Status AttemptFailed(SurveyRecord* r, absl::Time now) const;
  // An answer arrived: → ANSWERED.
  absl::Status Answered(SurveyRecord* r) const;
  // The citizen asked not to be contacted again: → OPTED_OUT.
  absl::Status OptOut(SurveyRecord* r) const;
  // The ticket was reopened or withdrawn before the survey ended: → CANCELLED.
  absl::Status Cancel(SurveyRecord* r) const;

 private:
  const SurveyPolicy* PolicyFor(const SurveyRecord& r) const;

  const SurveyPolicyTable& policies_;
  const CalendarSet& calendars_;
};

}  // namespace hotline::survey
