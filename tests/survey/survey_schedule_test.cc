#include "services/survey/survey_schedule.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_format.h"

using namespace hotline;
using namespace hotline::survey;

namespace {

const absl::TimeZone kBeijing = absl::FixedTimeZone(8 * 3600);

// The fake clock: every "now" is an instant the test names, in Beijing time.
absl::Time At(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), kBeijing);
}

const CalendarSet& Calendars() {
  static const CalendarSet set = [] {
    auto cals = LoadCalendarDirectory(HOTLINE_REPO_DIR "/deploy/sla/calendars");
    REQUIRE(cals.ok());
    return CalendarSet(std::move(*cals), "cn-mainland", {{"d-police", "cn-mainland-24x7"}});
  }();
  return set;
}

const SurveyPolicyTable& Shipped() {
  static const auto table = [] {
    auto t = SurveyPolicyTable::LoadFile(HOTLINE_REPO_DIR "/deploy/survey/policy.tsv");
    REQUIRE(t.ok());
    return std::move(*t);
  }();
  return *table;
}

// One complaint row, adjustable per test.
std::unique_ptr<SurveyPolicyTable> Table(SurveyPolicy p) {
  p.type = "complaint";
  if (p.channels.empty()) p.channels = {ContactChannel::kSms, ContactChannel::kIvr};
  auto t = SurveyPolicyTable::FromPolicies({p});
  REQUIRE(t.ok());
  return std::move(*t);
}

RepliedTicket Complaint(absl::Time replied, std::string dept = "d-urban") {
  return {"T-2026-000042", v1::TICKET_TYPE_COMPLAINT, std::move(dept), replied};
}

const CitizenContact kSmsAndIvr{false, {ContactChannel::kIvr, ContactChannel::kSms}};

}  // namespace

TEST_CASE("quiet hours: a contact must fit inside 08:00-21:00 local") {
  SurveyScheduler s(Shipped(), Calendars());
  // Tuesday 24 Nov 2026. A 10-minute contact that starts at 20:50 ends at 21:00: allowed.
  auto p = s.Plan(Complaint(At(2026, 11, 24, 20, 50)), kSmsAndIvr);
  REQUIRE(p.decision == SurveyDecision::kSurveyed);
  CHECK(p.record.next_contact == At(2026, 11, 24, 20, 50));
  // At 20:55 it would ring into the quiet hours: next morning 08:00, not 20:55.
  p = s.Plan(Complaint(At(2026, 11, 24, 20, 55)), kSmsAndIvr);
  CHECK(p.record.next_contact == At(2026, 11, 25, 8, 0));
  CHECK(p.record.state == SurveyState::kScheduled);
  // Replied at night: 08:00 the same morning, never before the reply.
  CHECK(s.Plan(Complaint(At(2026, 11, 24, 3, 0)), kSmsAndIvr).record.next_contact ==
        At(2026, 11, 24, 8, 0));
  CHECK(s.Plan(Complaint(At(2026, 11, 24, 10, 17)), kSmsAndIvr).record.next_contact ==
        At(2026, 11, 24, 10, 17));
  // Days "all" (the shipped policy): Saturday morning is a contact time like any other.
  CHECK(s.Plan(Complaint(At(2026, 11, 27, 21, 30)), kSmsAndIvr).record.next_contact ==
        At(2026, 11, 28, 8, 0));
}

TEST_CASE("quiet hours in the policy's own IANA zone") {
  SurveyPolicy p;
  p.zone = absl::UTCTimeZone();  // 08:00-21:00 UTC = 16:00-05:00 Beijing
  auto table = Table(p);
  SurveyScheduler s(*table, Calendars());
  // 21:00 Beijing is 13:00 UTC: inside the UTC window.
  CHECK(s.Plan(Complaint(At(2026, 11, 24, 21, 0)), kSmsAndIvr).record.next_contact ==
        At(2026, 11, 24, 21, 0));
  // 05:00 Beijing is 21:00 UTC: wait for 08:00 UTC = 16:00 Beijing.
  CHECK(s.Plan(Complaint(At(2026, 11, 25, 5, 0)), kSmsAndIvr).record.next_contact ==
        At(2026, 11, 25, 16, 0));
}

TEST_CASE("working-hours due time and working-day contacts across a weekend") {
  SurveyPolicy p;
  p.within = absl::Hours(8);
  p.working_days_only = true;
  auto table = Table(p);
  SurveyScheduler s(*table, Calendars());
  // Friday 27 Nov 16:00: 1 working hour left on Friday, 7 on Monday (09-12, 13-17).
  auto plan = s.Plan(Complaint(At(2026, 11, 27, 16, 0)), kSmsAndIvr);
  CHECK(plan.record.due_at == At(2026, 11, 30, 17, 0));
  CHECK(plan.record.next_contact == At(2026, 11, 27, 16, 0));
  CHECK_FALSE(plan.late);
  // Friday 20:55: no room on Friday, no contact on Saturday or Sunday: Monday 08:00.
  plan = s.Plan(Complaint(At(2026, 11, 27, 20, 55)), kSmsAndIvr);
  CHECK(plan.record.next_contact == At(2026, 11, 30, 8, 0));
  CHECK(plan.record.due_at == At(2026, 12, 1, 10, 0));  // Monday 7 h, Tuesday 09:00-10:00
  CHECK_FALSE(plan.late);
  // A 24×7 department's calendar counts every hour: 8 h after Friday 20:55.
  plan = s.Plan(Complaint(At(2026, 11, 27, 20, 55), "d-police"), kSmsAndIvr);
  CHECK(plan.record.due_at == At(2026, 11, 28, 4, 55));
}

TEST_CASE("working-hours due time across National Day 2026, and a late first contact") {
  SurveyPolicy p;
  p.within = absl::Hours(8);
  p.working_days_only = true;
  auto table = Table(p);
  SurveyScheduler s(*table, Calendars());
  // Wednesday 30 Sep 20:55; 1-7 Oct are public holidays (the shipped 2026 table).
  auto plan = s.Plan(Complaint(At(2026, 9, 30, 20, 55)), kSmsAndIvr);
  CHECK(plan.record.next_contact == At(2026, 10, 8, 8, 0));
  CHECK(plan.record.due_at == At(2026, 10, 9, 10, 0));  // 7 h on Thu 8 Oct, 1 h on Fri 9 Oct
  // Saturday 10 Oct is a make-up working day (调休): contacts happen on it.
  CHECK(s.Plan(Complaint(At(2026, 10, 9, 21, 0)), kSmsAndIvr).record.next_contact ==
        At(2026, 10, 10, 8, 0));

  // The window opens at noon and the first contact is due within 1 working hour: a reply on
  // Friday evening is first contacted Monday 12:00, after the due time (10:00). Still made,
  // flagged late.
  p.within = absl::Hours(1);
  p.window_start_minute = 12 * 60;
  auto late_table = Table(p);
  SurveyScheduler late(*late_table, Calendars());
  plan = late.Plan(Complaint(At(2026, 11, 27, 20, 55)), kSmsAndIvr);
  CHECK(plan.record.due_at == At(2026, 11, 30, 10, 0));
  CHECK(plan.record.next_contact == At(2026, 11, 30, 12, 0));
  CHECK(plan.late);
  CHECK(plan.decision == SurveyDecision::kSurveyed);
}

TEST_CASE(
    "three failed attempts: spaced, out of quiet hours, channels by preference, then "
    "UNREACHABLE") {
  SurveyScheduler s(Shipped(), Calendars());
  // The citizen has a mobile (sms, ivr) and no WeChat or e-mail; the policy prefers sms.
  auto plan = s.Plan(Complaint(At(2026, 11, 24, 10, 0)), kSmsAndIvr);
  REQUIRE(plan.create);
  SurveyRecord r = plan.record;
  CHECK(r.channels == std::vector<ContactChannel>{ContactChannel::kSms, ContactChannel::kIvr});
  CHECK(r.max_attempts == 3);

  // Too early is refused, not silently done.
  CHECK(absl::IsFailedPrecondition(s.StartAttempt(&r, At(2026, 11, 24, 9, 59)).status()));

  auto c = s.StartAttempt(&r, At(2026, 11, 24, 10, 0));
  REQUIRE(c.ok());
  CHECK(*c == ContactChannel::kSms);
  CHECK(r.state == SurveyState::kContacting);
  // A second start while one is in progress is illegal.
  CHECK(absl::IsFailedPrecondition(s.StartAttempt(&r, At(2026, 11, 24, 10, 1)).status()));
  REQUIRE(s.AttemptFailed(&r, At(2026, 11, 24, 10, 5)).ok());
  CHECK(r.state == SurveyState::kScheduled);
  CHECK(r.next_contact == At(2026, 11, 24, 14, 5));  // 4 h spacing

  c = s.StartAttempt(&r, r.next_contact);
  REQUIRE(c.ok());
  CHECK(*c == ContactChannel::kIvr);
  // Failing at 18:00: 22:00 is quiet, so the next morning at 08:00.
  REQUIRE(s.AttemptFailed(&r, At(2026, 11, 24, 18, 0)).ok());
  CHECK(r.next_contact == At(2026, 11, 25, 8, 0));

  c = s.StartAttempt(&r, r.next_contact);
  REQUIRE(c.ok());
  CHECK(*c == ContactChannel::kSms);  // rotates back
  REQUIRE(s.AttemptFailed(&r, At(2026, 11, 25, 8, 10)).ok());
  CHECK(r.state == SurveyState::kUnreachable);
  CHECK(r.attempts_made == 3);
  CHECK(r.attempt_times.size() == 3);
  // Final: no fourth attempt, no answer, no cancel.
  CHECK(absl::IsFailedPrecondition(s.StartAttempt(&r, At(2026, 11, 26, 10, 0)).status()));
  CHECK(absl::IsFailedPrecondition(s.Answered(&r)));
  CHECK(absl::IsFailedPrecondition(s.Cancel(&r)));
  CHECK(absl::IsFailedPrecondition(s.AttemptFailed(&r, At(2026, 11, 26, 10, 0))));
}

TEST_CASE("an opted-out citizen is never contacted, and counted") {
  SurveyScheduler s(Shipped(), Calendars());
  auto plan = s.Plan(Complaint(At(2026, 11, 24, 10, 0)),
                     {true, {ContactChannel::kSms, ContactChannel::kIvr}});
  CHECK(plan.decision == SurveyDecision::kOptedOut);
  CHECK(plan.create);  // kept, so the refusal shows in the counts
  SurveyRecord r = plan.record;
  CHECK(r.state == SurveyState::kOptedOut);
  CHECK(r.channels.empty());
  CHECK(absl::IsFailedPrecondition(s.StartAttempt(&r, At(2026, 11, 25, 10, 0)).status()));

  // Opting out between attempts stops the rest.
  r = s.Plan(Complaint(At(2026, 11, 24, 10, 0)), kSmsAndIvr).record;
  REQUIRE(s.StartAttempt(&r, At(2026, 11, 24, 10, 0)).ok());
  REQUIRE(s.OptOut(&r).ok());
  CHECK(r.state == SurveyState::kOptedOut);
  CHECK(absl::IsFailedPrecondition(s.StartAttempt(&r, At(2026, 11, 25, 10, 0)).status()));
}

TEST_CASE("a citizen on none of the policy's channels is UNREACHABLE at once") {
  SurveyPolicy p;
  p.channels = {ContactChannel::kSms, ContactChannel::kIvr};
  auto table = Table(p);
  SurveyScheduler s(*table, Calendars());
  auto plan = s.Plan(Complaint(At(2026, 11, 24, 10, 0)), {false, {ContactChannel::kEmail}});
  CHECK(plan.decision == SurveyDecision::kNoChannel);
  CHECK(plan.create);
  CHECK(plan.record.state == SurveyState::kUnreachable);
  CHECK_THAT(plan.reason, Catch::Contains("sms,ivr"));
}

TEST_CASE("which tickets are surveyed: by type and a deterministic sample") {
  SurveyScheduler s(Shipped(), Calendars());
  const absl::Time t = At(2026, 11, 24, 10, 0);
  auto praise = s.Plan({"T-1", v1::TICKET_TYPE_PRAISE, "d-urban", t}, kSmsAndIvr);
  CHECK(praise.decision == SurveyDecision::kNotSurveyedType);
  CHECK_FALSE(praise.create);

  int surveyed = 0, complaints = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = absl::StrFormat("T-2026-%06d", i);
    auto a = s.Plan({id, v1::TICKET_TYPE_CONSULTATION, "d-urban", t}, kSmsAndIvr);
    auto b = s.Plan({id, v1::TICKET_TYPE_CONSULTATION, "d-urban", t}, kSmsAndIvr);
    CHECK(a.decision == b.decision);  // a redelivered TicketReplied decides the same
    REQUIRE((a.decision == SurveyDecision::kSurveyed || a.decision == SurveyDecision::kNotSampled));
    surveyed += a.decision == SurveyDecision::kSurveyed;
    complaints += s.Plan({id, v1::TICKET_TYPE_COMPLAINT, "d-urban", t}, kSmsAndIvr).decision ==
                  SurveyDecision::kSurveyed;
  }
  INFO("consultations surveyed: " << surveyed << " of 10000 (policy 30%)");
  CHECK(std::abs(surveyed - 3000) <= 300);
  CHECK(complaints == 10000);
}

TEST_CASE("a reopened or withdrawn ticket cancels its survey; an answer ends it") {
  SurveyScheduler s(Shipped(), Calendars());
  SurveyRecord r = s.Plan(Complaint(At(2026, 11, 24, 10, 0)), kSmsAndIvr).record;
  REQUIRE(s.Cancel(&r).ok());
  CHECK(r.state == SurveyState::kCancelled);
  CHECK(absl::IsFailedPrecondition(s.OptOut(&r)));

  r = s.Plan(Complaint(At(2026, 11, 24, 10, 0)), kSmsAndIvr).record;
  REQUIRE(s.StartAttempt(&r, At(2026, 11, 24, 10, 0)).ok());
  REQUIRE(s.AttemptFailed(&r, At(2026, 11, 24, 10, 5)).ok());
  // The SMS link of the first attempt is answered while the second is only scheduled.
  REQUIRE(s.Answered(&r).ok());
  CHECK(r.state == SurveyState::kAnswered);
  CHECK(absl::IsFailedPrecondition(s.Answered(&r)));
}

TEST_CASE("the survey state machine is one table; illegal moves are FAILED_PRECONDITION") {
  using A = SurveyAction;
  using S = SurveyState;
  const S all[] = {S::kScheduled,   S::kContacting, S::kAnswered,
                   S::kUnreachable, S::kOptedOut,   S::kCancelled};
  const A actions[] = {A::kStartAttempt, A::kRetryLater, A::kGiveUp,
                       A::kAnswer,       A::kOptOut,     A::kCancel};
  int legal = 0;
  for (S from : all) {
    for (A a : actions) {
      auto to = NextSurveyState(from, a);
      if (to.ok()) {
        ++legal;
        CHECK_FALSE(IsFinal(from));
      } else {
        CHECK(absl::IsFailedPrecondition(to.status()));
        CHECK_THAT(std::string(to.status().message()),
                   Catch::Contains(SurveyStateName(from)) && Catch::Contains(SurveyActionName(a)));
      }
    }
  }
  CHECK(legal == 9);
  CHECK(*NextSurveyState(S::kScheduled, A::kStartAttempt) == S::kContacting);
  CHECK(*NextSurveyState(S::kContacting, A::kRetryLater) == S::kScheduled);
  CHECK(*NextSurveyState(S::kContacting, A::kGiveUp) == S::kUnreachable);
  CHECK(*NextSurveyState(S::kScheduled, A::kAnswer) == S::kAnswered);
  CHECK(*NextSurveyState(S::kContacting, A::kOptOut) == S::kOptedOut);
  CHECK(*NextSurveyState(S::kScheduled, A::kCancel) == S::kCancelled);
  CHECK_FALSE(NextSurveyState(S::kScheduled, A::kGiveUp).ok());
}
