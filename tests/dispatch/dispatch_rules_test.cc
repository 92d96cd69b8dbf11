// Dispatch's rules and the Dispatcher's wiring, without Redis: the pure functions of rules.h and
// the Dispatcher over tests/support's fake store.
#include <prometheus/registry.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "services/common/events.h"
#include "services/common/time_proto.h"
#include "services/dispatch/dispatcher.h"
#include "services/dispatch/rules.h"
#include "tests/support/fake_dispatch_store.h"
#include "tests/support/processes.h"

using namespace hotline;
using namespace hotline::dispatch;

namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);  // 2027-01-15

google::protobuf::Timestamp At(absl::Time t) { return ToTimestamp(t); }

// departments a, b, c; "roads" → a (b in the east), everything else → c only in the north.
std::unique_ptr<ResponsibilityMatrix> Matrix(const testing::TempDir& dir) {
  std::ofstream(dir.path() + "/d.tsv") << "a\tA\t1\tcn\nb\tB\t2\tcn\nc\tC\t3\tcn\n";
  std::ofstream(dir.path() + "/m.tsv") << "roads\t*\ta\nroads\teast\tb\n*\tnorth\tc\n";
  auto m = ResponsibilityMatrix::Load(dir.path() + "/d.tsv", dir.path() + "/m.tsv");
  REQUIRE(m.ok());
  return std::move(*m);
}

v1::DispatchedTicket Accepted(const std::string& dept = "a") {
  v1::DispatchedTicket t;
  t.set_ticket_id("t1");
  t.set_ticket_number("HL-1");
  t.set_department_id(dept);
  t.set_state(v1::TICKET_STATE_ACCEPTED);
  t.set_version(3);
  t.mutable_category()->set_code("roads");
  t.set_text("pothole");
  return t;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

TEST_CASE(
    "routing: confident and owned goes out automatically, everything else to triage with the "
    "reason") {
  testing::TempDir dir;
  auto m = Matrix(dir);
  std::vector<TextClassifier::Prediction> preds = {
      {"roads", 0.9}, {"noise", 0.07}, {"water", 0.02}, {"x", 0.01}};
  auto r = DecideRouting(preds, *m, "east", 0.8, 3);
  CHECK(r.automatic);
  REQUIRE(r.suggestions.size() == 3);
  CHECK(r.suggestions[0].department_id() == "b");   // the district's override
  CHECK(r.suggestions[1].department_id().empty());  // nobody owns noise in the east

  r = DecideRouting(preds, *m, "west", 0.95, 3);
  CHECK_FALSE(r.automatic);
  CHECK(r.triage_reason == "classifier confidence 90% below the auto-dispatch threshold 95%");

  preds[0].label = "noise";
  r = DecideRouting(preds, *m, "west", 0.5, 3);
  CHECK_FALSE(r.automatic);
  CHECK(r.triage_reason == "no department is responsible for the predicted category");
  CHECK_FALSE(DecideRouting({}, *m, "west", 0.5, 3).automatic);
}

TEST_CASE(
    "routing a TicketCreated: a dispatched ticket with its stream entry, or a triaged one in the "
    "queue") {
  testing::TempDir dir;
  auto m = Matrix(dir);
  auto created =
      NewEnvelope("intake", "t9", 1, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  created.mutable_ticket_created()->set_ticket_id("t9");
  created.mutable_ticket_created()->mutable_location()->set_district("east");
  auto n = RouteCreated(
      created, DecideRouting({{"roads", 0.9}, {"noise", 0.1}}, *m, "east", 0.8, 3), "m1", kNow);
  CHECK(n.ticket.state() == v1::TICKET_STATE_DISPATCHED);
  CHECK(n.change.assign_to == "b");
  CHECK_FALSE(n.change.enqueue_triage.has_value());
  REQUIRE(n.change.events.size() == 1);
  CHECK(n.change.events[0].ticket_dispatched().department_id() == "b");
  CHECK(n.change.events[0].traceparent() == created.traceparent());

  n = RouteCreated(created, DecideRouting({{"roads", 0.6}, {"noise", 0.4}}, *m, "east", 0.8, 3),
                   "m1", kNow);
  CHECK(n.ticket.state() == v1::TICKET_STATE_PENDING_TRIAGE);
  CHECK(n.change.assign_to.empty());
  CHECK(n.change.enqueue_triage == kNow);
  CHECK(n.change.events[0].ticket_triaged().suggested_departments_size() == 2);
}

TEST_CASE(
    "extension deadlines: required, in the future, later than the current one; errors name the "
    "field") {
  v1::RequestExtensionRequest req;
  req.set_ticket_id("t1");
  req.set_department_id("a");
  CHECK(Message(CheckExtensionRequest(req, kNow)) == "reason: is required for an extension");
  req.set_reason("needs a permit");
  CHECK(Message(CheckExtensionRequest(req, kNow)) == "requested_deadline: is required");
  *req.mutable_requested_deadline() = At(kNow - absl::Hours(1));
  auto past = CheckExtensionRequest(req, kNow);
  CHECK(absl::IsInvalidArgument(past));
  CHECK(Message(past).rfind("requested_deadline: 2027-01-15T07:00:00+00:00 is in the past", 0) ==
        0);
  *req.mutable_requested_deadline() = At(kNow);
  CHECK(absl::IsInvalidArgument(CheckExtensionRequest(req, kNow)));  // now is not later than now
  req.mutable_requested_deadline()->set_nanos(-1);
  CHECK(Message(CheckExtensionRequest(req, kNow)) == "requested_deadline: not a valid timestamp");
  *req.mutable_requested_deadline() = At(kNow + absl::Hours(48));
  CHECK(CheckExtensionRequest(req, kNow).ok());

  // Against a deadline an earlier extension granted.
  auto t = Accepted();
  *t.mutable_granted_deadline() = At(kNow + absl::Hours(72));
  auto s = CheckExtensionDeadline("requested_deadline", req.requested_deadline(), t, kNow);
  CHECK(absl::IsInvalidArgument(s));
  CHECK(Message(s).find("is not later than the current deadline 2027-01-18T08:00:00+00:00") !=
        std::string::npos);
  CHECK(ApplyRequestExtension(t, req, kNow).status() == s);
}

TEST_CASE(
    "a grant takes the centre's deadline or the requested one, and never one in the past or none") {
  auto t = Accepted();
  t.set_state(v1::TICKET_STATE_EXTENSION_REQUESTED);
  v1::DecideExtensionRequest req;
  req.set_approve(true);
  auto none = GrantedDeadline(req, t, kNow);
  CHECK(Message(none.status()) ==
        "new_deadline: is required (the pending request names no deadline)");

  *t.mutable_requested_deadline() = At(kNow + absl::Hours(24));
  auto granted = GrantedDeadline(req, t, kNow);
  REQUIRE(granted.ok());
  CHECK(granted->seconds() == absl::ToUnixSeconds(kNow + absl::Hours(24)));
  // The request waited until its deadline passed.
  auto stale = GrantedDeadline(req, t, kNow + absl::Hours(25));
  CHECK(absl::IsInvalidArgument(stale.status()));
  CHECK(Message(stale.status()).rfind("new_deadline: ", 0) == 0);
  CHECK(Message(stale.status()).find("give a new_deadline") != std::string::npos);

  *req.mutable_new_deadline() = At(kNow - absl::Minutes(1));
  CHECK(Message(GrantedDeadline(req, t, kNow).status())
            .rfind("new_deadline: 2027-01-15T07:59:00+00:00 is in the past", 0) == 0);
  *req.mutable_new_deadline() = At(kNow + absl::Hours(100));
  auto ch = ApplyDecideExtension(t, req, kNow);
  REQUIRE(ch.ok());
  CHECK(t.state() == v1::TICKET_STATE_EXTENSION_GRANTED);
  CHECK(t.granted_deadline().seconds() == req.new_deadline().seconds());
  CHECK_FALSE(t.has_requested_deadline());
  REQUIRE(ch->events.size() == 1);
  CHECK(ch->events[0].extension_granted().new_deadline().seconds() == req.new_deadline().seconds());
}

TEST_CASE("what transitions change and emit") {
  auto t = Accepted();
  t.set_state(v1::TICKET_STATE_DISPATCHED);
  CHECK(absl::IsPermissionDenied(ApplyAccept(t, "b").status()));
  auto ret = ApplyReturn(t, "a", "not ours", kNow);
  REQUIRE(ret.ok());
  CHECK(t.state() == v1::TICKET_STATE_RETURNED);
  CHECK(t.department_id().empty());
  CHECK(ret->enqueue_triage == kNow);
  REQUIRE(ret->labels.size() == 1);
  CHECK(ret->labels[0].label == "!roads");
  CHECK(ret->labels[0].source == "return:a");
  CHECK(ret->events.at(0).ticket_returned().reason() == "not ours");

  v1::AssignTicketRequest as;
  as.set_department_id("c");
  as.set_category_code("water");
  auto assign = ApplyAssign(t, as, kNow);
  REQUIRE(assign.ok());
  CHECK(assign->dequeue_triage);
  CHECK(assign->assign_to == "c");
  CHECK(assign->labels.at(0).label == "water");
  CHECK(assign->events.at(0).ticket_dispatched().department_id() == "c");
  CHECK_FALSE(assign->events.at(0).ticket_dispatched().automatic());

  auto closed = Accepted("c");
  closed.set_state(v1::TICKET_STATE_CLOSED);
  *closed.mutable_granted_deadline() = At(kNow);
  auto reopen = ApplyReopen(closed, "citizen unhappy", kNow);
  REQUIRE(reopen.ok());
  CHECK(reopen->assign_to == "c");  // the same department signs for it again
  CHECK_FALSE(closed.has_granted_deadline());
  CHECK(reopen->events.at(0).ticket_reopened().reason() == "citizen unhappy");

  v1::SurveyAnswered s;
  s.set_satisfaction(2);
  s.set_resolved(true);
  CHECK(IsNegativeSurvey(s, 2));
  s.set_satisfaction(4);
  CHECK_FALSE(IsNegativeSurvey(s, 2));
  s.set_resolved(false);
  CHECK(IsNegativeSurvey(s, 2));
  CHECK(SurveyReopenReason(s) == "citizen not satisfied (survey: 4/5, not resolved)");
}

TEST_CASE("the Dispatcher over a fake store: one write per change, nothing stored on refusal") {
  testing::TempDir dir;
  auto matrix = Matrix(dir);
  std::vector<LabeledText> data;
  for (int i = 0; i < 20; ++i) {
    data.push_back({"路面坑洼 道路破损 " + std::to_string(i), "roads"});
    data.push_back({"夜间噪音 施工扰民 " + std::to_string(i), "noise"});
  }
  auto model = TextClassifier::Train(data, TrainOptions{});
  REQUIRE(model.ok());
  ModelHolder models(std::shared_ptr<const TextClassifier>(std::move(*model)));
  prometheus::Registry registry;
  DispatchMetrics metrics(registry);
  testing::FakeDispatchStore store;
  DispatchOptions opts;
  opts.threshold = 0;  // always confident enough
  absl::Time now = kNow;
  Dispatcher d(&store, &models, matrix.get(), &metrics, opts, [&] { return now; });

  auto created = NewEnvelope("intake", "t1", 1);
  created.mutable_ticket_created()->set_ticket_id("t1");
  created.mutable_ticket_created()->set_text("道路破损 路面坑洼");
  created.mutable_ticket_created()->mutable_location()->set_district("west");
  REQUIRE(d.HandleEvent(created).ok());
  REQUIRE(d.HandleEvent(created).ok());  // redelivered: nothing more
  CHECK(store.writes == 1);
  CHECK(store.tickets["t1"].department_id() == "a");
  CHECK(store.streams["a"] == std::vector<std::string>{"t1"});

  REQUIRE(d.Accept("t1", "a").ok());
  v1::RequestExtensionRequest req;
  req.set_ticket_id("t1");
  req.set_department_id("a");
  req.set_reason("needs a permit");
  *req.mutable_requested_deadline() = At(kNow - absl::Hours(1));
  int writes = store.writes;
  auto past = d.RequestExtension(req);
  CHECK(absl::IsInvalidArgument(past.status()));
  CHECK(store.writes == writes);
  CHECK(store.tickets["t1"].state() == v1::TICKET_STATE_ACCEPTED);

  // A failing write stores neither the state nor the deadline.
  *req.mutable_requested_deadline() = At(kNow + absl::Hours(48));
  store.fail_writes = true;
  CHECK(absl::IsUnavailable(d.RequestExtension(req).status()));
  CHECK(store.tickets["t1"].state() == v1::TICKET_STATE_ACCEPTED);
  CHECK_FALSE(store.tickets["t1"].has_requested_deadline());
  store.fail_writes = false;

  auto r = d.RequestExtension(req);
  REQUIRE(r.ok());
  CHECK(store.writes == writes + 1);  // state, deadline and event in one transaction
  CHECK(r->state() == v1::TICKET_STATE_EXTENSION_REQUESTED);
  CHECK(r->requested_deadline().seconds() == req.requested_deadline().seconds());
  CHECK(store.outbox.back().has_extension_requested());
  CHECK(store.outbox.back().aggregate_version() == r->version());

  v1::DecideExtensionRequest dec;
  dec.set_ticket_id("t1");
  dec.set_approve(true);
  now = kNow + absl::Hours(49);  // the centre decides after the requested deadline passed
  auto late = d.DecideExtension(dec);
  CHECK(absl::IsInvalidArgument(late.status()));
  CHECK(store.tickets["t1"].state() == v1::TICKET_STATE_EXTENSION_REQUESTED);
  now = kNow + absl::Hours(1);
  auto granted = d.DecideExtension(dec);
  REQUIRE(granted.ok());
  CHECK(granted->granted_deadline().seconds() == req.requested_deadline().seconds());
  CHECK(store.outbox.back().extension_granted().new_deadline().seconds() ==
        req.requested_deadline().seconds());
}
