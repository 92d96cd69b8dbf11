// TimelineRules: dispatch's and survey's events → the citizen's timeline, without Redis.
#include "services/intake/timeline.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "services/common/events.h"
#include "services/common/time_proto.h"
#include "services/intake/intake_config.h"
#include "tests/support/processes.h"

using namespace hotline;
using namespace hotline::intake;

namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1795000000);  // 2026-11-18

v1::EventEnvelope Event(const std::string& source, int minute) {
  auto e = NewEnvelope(source, "t-1", minute);
  *e.mutable_occurred_at() = ToTimestamp(kT0 + absl::Minutes(minute));
  return e;
}

v1::EventEnvelope Dispatched(int minute, const std::string& dept) {
  auto e = Event("dispatch", minute);
  e.mutable_ticket_dispatched()->set_ticket_id("t-1");
  e.mutable_ticket_dispatched()->set_department_id(dept);
  return e;
}
v1::EventEnvelope Accepted(int minute) {
  auto e = Event("dispatch", minute);
  e.mutable_ticket_accepted()->set_ticket_id("t-1");
  e.mutable_ticket_accepted()->set_department_id("d-urban");
  return e;
}
v1::EventEnvelope Extended(int minute, absl::Time deadline) {
  auto e = Event("dispatch", minute);
  e.mutable_extension_granted()->set_ticket_id("t-1");
  e.mutable_extension_granted()->set_department_id("d-urban");
  *e.mutable_extension_granted()->mutable_new_deadline() = ToTimestamp(deadline);
  return e;
}
v1::EventEnvelope Replied(int minute, const std::string& answer) {
  auto e = Event("dispatch", minute);
  e.mutable_ticket_replied()->set_ticket_id("t-1");
  e.mutable_ticket_replied()->set_department_id("d-urban");
  e.mutable_ticket_replied()->set_resolution(answer);
  return e;
}
v1::EventEnvelope Closed(int minute) {
  auto e = Event("dispatch", minute);
  e.mutable_ticket_closed()->set_ticket_id("t-1");
  e.mutable_ticket_closed()->set_department_id("d-urban");
  return e;
}

v1::Ticket Stored() {
  v1::Ticket t;
  t.set_ticket_id("t-1");
  t.set_ticket_number("GZ-20261118-000001");
  t.set_state(v1::TICKET_STATE_CREATED);
  *t.mutable_created_at() = ToTimestamp(kT0 - absl::Minutes(5));
  return t;
}

std::vector<v1::TimelineKind> Kinds(const v1::Ticket& t) {
  std::vector<v1::TimelineKind> out;
  for (const auto& e : t.timeline()) out.push_back(e.kind());
  return out;
}

}  // namespace

TEST_CASE("timeline: dispatched, accepted, extended, replied, closed, each with its status") {
  TimelineRules rules({{"d-urban", "市住建局"}}, absl::UTCTimeZone());
  v1::Ticket p;
  REQUIRE(TimelineRules::Apply(Dispatched(1, "d-urban"), &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_WITH_DEPARTMENT);
  CHECK(p.state() == v1::TICKET_STATE_DISPATCHED);
  CHECK(p.department_id() == "d-urban");
  REQUIRE(TimelineRules::Apply(Accepted(2), &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_IN_PROGRESS);
  const absl::Time deadline = kT0 + absl::Hours(72);
  REQUIRE(TimelineRules::Apply(Extended(3, deadline), &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_IN_PROGRESS);
  CHECK(p.expected_at().seconds() == absl::ToUnixSeconds(deadline));
  REQUIRE(TimelineRules::Apply(Replied(4, "已修复路灯"), &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_REPLIED);
  REQUIRE(TimelineRules::Apply(Closed(5), &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_CLOSED);
  CHECK(p.updated_at().seconds() == absl::ToUnixSeconds(kT0 + absl::Minutes(5)));

  v1::Ticket view = rules.View(Stored(), p);
  CHECK(Kinds(view) ==
        std::vector<v1::TimelineKind>{v1::TIMELINE_KIND_RECEIVED, v1::TIMELINE_KIND_DISPATCHED,
                                      v1::TIMELINE_KIND_ACCEPTED, v1::TIMELINE_KIND_EXTENDED,
                                      v1::TIMELINE_KIND_REPLIED, v1::TIMELINE_KIND_CLOSED});
  CHECK(view.state() == v1::TICKET_STATE_CLOSED);
  CHECK(view.status() == v1::CITIZEN_STATUS_CLOSED);
  CHECK(view.department_name() == "市住建局");
  CHECK(view.timeline(0).text() == "Received as ticket GZ-20261118-000001");
  CHECK(view.timeline(1).text() == "Dispatched to 市住建局");
  CHECK(view.timeline(1).department_name() == "市住建局");
  CHECK(view.timeline(3).text() ==
        "Extension granted to 市住建局: new deadline " +
            absl::FormatTime("%Y-%m-%d %H:%M", deadline, absl::UTCTimeZone()));
  CHECK(view.timeline(4).text() == "市住建局 replied: 已修复路灯");
  CHECK(view.expected_at().seconds() == absl::ToUnixSeconds(deadline));
  CHECK(view.updated_at().seconds() == absl::ToUnixSeconds(kT0 + absl::Minutes(5)));
}

TEST_CASE("timeline: own events, untold events and replays change nothing") {
  v1::Ticket p;
  auto own = Event("intake", 1);
  own.mutable_ticket_created()->set_ticket_id("t-1");
  CHECK_FALSE(TimelineRules::Projects(own));
  CHECK_FALSE(TimelineRules::Apply(own, &p));
  auto asked = Event("dispatch", 1);
  asked.mutable_extension_requested()->set_ticket_id("t-1");
  CHECK_FALSE(TimelineRules::Apply(asked, &p));
  CHECK(p.timeline_size() == 0);

  auto d = Dispatched(1, "d-urban");
  REQUIRE(TimelineRules::Apply(d, &p));
  CHECK_FALSE(TimelineRules::Apply(d, &p));  // the same event again
  CHECK(p.timeline_size() == 1);
  CHECK(TimelineRules::TicketId(d) == "t-1");

  auto triaged = Event("dispatch", 2);
  triaged.mutable_ticket_triaged()->set_ticket_id("t-1");
  REQUIRE(TimelineRules::Apply(triaged, &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_ASSIGNING);
  CHECK(TimelineRules().View(Stored(), p).timeline(2).text() ==
        "A dispatcher is choosing the responsible department");
}

TEST_CASE("timeline: returned and triaged read as re-assignment; a reopen clears the deadline") {
  TimelineRules rules;
  v1::Ticket p;
  REQUIRE(TimelineRules::Apply(Dispatched(1, "d-urban"), &p));
  auto ret = Event("dispatch", 2);
  ret.mutable_ticket_returned()->set_ticket_id("t-1");
  ret.mutable_ticket_returned()->set_department_id("d-urban");
  ret.mutable_ticket_returned()->set_reason("not ours: internal note");
  REQUIRE(TimelineRules::Apply(ret, &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_ASSIGNING);
  CHECK(p.department_id().empty());
  REQUIRE(TimelineRules::Apply(Dispatched(3, "d-cityops"), &p));
  REQUIRE(TimelineRules::Apply(Extended(4, kT0 + absl::Hours(48)), &p));
  REQUIRE(TimelineRules::Apply(Replied(5, "done"), &p));
  auto reopen = Event("dispatch", 6);
  reopen.mutable_ticket_reopened()->set_ticket_id("t-1");
  reopen.mutable_ticket_reopened()->set_department_id("d-cityops");
  reopen.mutable_ticket_reopened()->set_reason("citizen: not resolved");
  REQUIRE(TimelineRules::Apply(reopen, &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_REOPENED);
  CHECK_FALSE(p.has_expected_at());
  CHECK(p.department_id() == "d-cityops");

  v1::Ticket view = rules.View(Stored(), p);
  // The department's internal reason is not shown to the citizen.
  CHECK(view.timeline(2).kind() == v1::TIMELINE_KIND_REASSIGNING);
  CHECK(view.timeline(2).text().find("internal") == std::string::npos);
  CHECK(view.timeline(2).text() == "Being re-assigned to the responsible department");
  CHECK(view.timeline(3).text() == "Dispatched to department d-cityops");  // no directory
  CHECK(view.timeline(6).text() ==
        "Reopened: sent back to department d-cityops to handle again (citizen: not resolved)");
  // Replied once: still past the point of withdrawal after the reopen.
  CHECK(absl::IsFailedPrecondition(TimelineRules::MayWithdraw(view)));
  CHECK(TimelineRules::MaySupplement(view).ok());
}

TEST_CASE("timeline: a survey answer that arrives late takes its place in time") {
  v1::Ticket p;
  REQUIRE(TimelineRules::Apply(Dispatched(1, "d-urban"), &p));
  REQUIRE(TimelineRules::Apply(Replied(4, "ok"), &p));
  REQUIRE(TimelineRules::Apply(Closed(6), &p));
  auto s = Event("survey", 5);
  s.set_aggregate_version(0);
  s.mutable_survey_answered()->set_ticket_id("t-1");
  s.mutable_survey_answered()->set_resolved(true);
  s.mutable_survey_answered()->set_satisfaction(4);
  REQUIRE(TimelineRules::Apply(s, &p));
  CHECK(p.status() == v1::CITIZEN_STATUS_CLOSED);  // a survey does not move the ticket
  REQUIRE(p.timeline_size() == 4);
  CHECK(p.timeline(2).kind() == v1::TIMELINE_KIND_SURVEYED);
  CHECK(p.timeline(2).text() == "resolved, satisfaction 4/5");
  CHECK(p.updated_at().seconds() == absl::ToUnixSeconds(kT0 + absl::Minutes(6)));
}

TEST_CASE("timeline: intake's own steps and end states win over the projection") {
  TimelineRules rules;
  v1::Ticket stored = Stored();
  auto* sup = stored.add_supplements();
  sup->set_text("路灯在3号楼旁");
  *sup->mutable_added_at() = ToTimestamp(kT0 + absl::Seconds(90));
  v1::Ticket p;
  REQUIRE(TimelineRules::Apply(Dispatched(1, "d-urban"), &p));
  REQUIRE(TimelineRules::Apply(Accepted(2), &p));

  v1::Ticket view = rules.View(stored, p);
  CHECK(Kinds(view) ==
        std::vector<v1::TimelineKind>{v1::TIMELINE_KIND_RECEIVED, v1::TIMELINE_KIND_DISPATCHED,
                                      v1::TIMELINE_KIND_SUPPLEMENTED, v1::TIMELINE_KIND_ACCEPTED});
  CHECK(view.state() == v1::TICKET_STATE_ACCEPTED);
  CHECK(TimelineRules::MayWithdraw(view).ok());
  CHECK(TimelineRules::IsOpen(view));

  stored.set_state(v1::TICKET_STATE_WITHDRAWN);
  auto* w = stored.add_timeline();
  w->set_kind(v1::TIMELINE_KIND_WITHDRAWN);
  *w->mutable_at() = ToTimestamp(kT0 + absl::Minutes(3));
  view = rules.View(stored, p);
  CHECK(view.state() == v1::TICKET_STATE_WITHDRAWN);
  CHECK(view.status() == v1::CITIZEN_STATUS_WITHDRAWN);
  CHECK(view.timeline(view.timeline_size() - 1).kind() == v1::TIMELINE_KIND_WITHDRAWN);
  CHECK(absl::IsFailedPrecondition(TimelineRules::MaySupplement(view)));

  // A ticket nobody has spoken about yet reads "received".
  view = rules.View(Stored(), v1::Ticket());
  CHECK(view.status() == v1::CITIZEN_STATUS_RECEIVED);
  CHECK(view.state() == v1::TICKET_STATE_CREATED);
  CHECK(view.timeline_size() == 1);
  CHECK(view.department_id().empty());
}

TEST_CASE("timeline: withdrawal and supplements after a reply or a close are refused") {
  TimelineRules rules;
  v1::Ticket p;
  REQUIRE(TimelineRules::Apply(Dispatched(1, "d-urban"), &p));
  REQUIRE(TimelineRules::Apply(Replied(2, "ok"), &p));
  v1::Ticket replied = rules.View(Stored(), p);
  auto w = TimelineRules::MayWithdraw(replied);
  CHECK(absl::IsFailedPrecondition(w));
  CHECK_THAT(std::string(w.message()), Catch::Contains("TICKET_STATE_REPLIED"));
  CHECK(TimelineRules::MaySupplement(replied).ok());  // the department may still need it

  REQUIRE(TimelineRules::Apply(Closed(3), &p));
  v1::Ticket closed = rules.View(Stored(), p);
  auto s = TimelineRules::MaySupplement(closed);
  CHECK(absl::IsFailedPrecondition(s));
  CHECK_THAT(std::string(s.message()), Catch::Contains("TICKET_STATE_CLOSED"));
  CHECK(absl::IsFailedPrecondition(TimelineRules::MayWithdraw(closed)));
  CHECK_FALSE(TimelineRules::IsOpen(closed));
}

TEST_CASE("timeline: a merged report follows the original's progress") {
  TimelineRules rules;
  v1::Ticket merged = Stored();
  merged.set_state(v1::TICKET_STATE_MERGED);
  merged.set_merged_into_ticket_id("t-0");
  *merged.mutable_created_at() = ToTimestamp(kT0 + absl::Seconds(150));
  v1::Ticket view = rules.View(merged, v1::Ticket());
  CHECK(view.status() == v1::CITIZEN_STATUS_MERGED);
  CHECK(Kinds(view) ==
        std::vector<v1::TimelineKind>{v1::TIMELINE_KIND_RECEIVED, v1::TIMELINE_KIND_MERGED});

  v1::Ticket original;  // the original's progress
  REQUIRE(TimelineRules::Apply(Dispatched(1, "d-urban"), &original));
  REQUIRE(TimelineRules::Apply(Replied(4, "fixed"), &original));
  view = rules.View(merged, original);
  CHECK(view.state() == v1::TICKET_STATE_MERGED);
  CHECK(view.status() == v1::CITIZEN_STATUS_REPLIED);
  CHECK(view.department_id() == "d-urban");
  CHECK(Kinds(view) ==
        std::vector<v1::TimelineKind>{v1::TIMELINE_KIND_DISPATCHED, v1::TIMELINE_KIND_RECEIVED,
                                      v1::TIMELINE_KIND_MERGED, v1::TIMELINE_KIND_REPLIED});
}

TEST_CASE("INTAKE_DEPARTMENTS: the city's directory names departments; bad files are named") {
  auto names = LoadDepartmentNames(HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv");
  REQUIRE(names.ok());
  CHECK(names->at("d-urban").rfind("市住房和城乡建设局", 0) == 0);
  CHECK(names->count("#") == 0);  // comments are skipped

  auto missing = LoadDepartmentNames("/nonexistent/departments.tsv");
  CHECK(absl::IsInvalidArgument(missing.status()));
  CHECK(missing.status().message().rfind("INTAKE_DEPARTMENTS: cannot read", 0) == 0);

  testing::TempDir dir;
  const std::string path = dir.path() + "/bad.tsv";
  std::ofstream(path) << "# id\tname\nd-a\tA\nd-b-without-name\n";
  auto bad = LoadDepartmentNames(path);
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("bad.tsv:3: want id<TAB>name"));
}
