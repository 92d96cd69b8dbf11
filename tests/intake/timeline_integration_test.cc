// The citizen-facing timeline against real processes: redis-server, the dev broker and the
// hotline-intake binary, fed dispatch's and survey's events over Kafka as those services
// publish them.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>

#include "hotline/v1/intake.grpc.pb.h"
#include "services/common/events.h"
#include "services/common/kafka_producer.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"
#include "services/common/time_proto.h"
#include "services/intake/redis_ticket_store.h"
#include "services/intake/timeline.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;
using namespace std::chrono_literals;

namespace {

// One stack for the file; every case files its own tickets.
struct Stack {
  RedisServer redis;
  DevBroker broker;
  int open311_port = FreePort();
  ServiceProcess intake{
      HOTLINE_INTAKE_BIN,
      redis.url(),
      broker.bootstrap(),
      {"INTAKE_KNOWLEDGE_BASE=" HOTLINE_REPO_DIR "/deploy/knowledge/knowledge_base.jsonl",
       "INTAKE_DEPARTMENTS=" HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv",
       "INTAKE_OPEN311_ADDR=127.0.0.1:" + std::to_string(open311_port), "INTAKE_CITY_CODE=GZ"}};
  std::unique_ptr<v1::IntakeService::Stub> stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(intake.grpc_addr(), grpc::InsecureChannelCredentials()));
  std::unique_ptr<KafkaProducer> producer = TestProducer(broker.bootstrap(), "timeline-test");
  RedisClient redis_client{RedisEndpoint{"127.0.0.1", redis.port(), 0, ""}};
};

Stack& S() {
  static Stack s;
  return s;
}

std::unique_ptr<grpc::ClientContext> Ctx() { return CallContext(); }

v1::SubmitRequestResponse Submit(const std::string& key, const std::string& text,
                                 const std::string& phone) {
  v1::SubmitRequestRequest r;
  r.set_channel(v1::CHANNEL_WEB);
  r.set_text(text);
  r.set_idempotency_key(key);
  r.mutable_contact()->set_phone(phone);
  v1::SubmitRequestResponse resp;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), r, &resp).ok());
  REQUIRE(resp.outcome() == v1::SUBMIT_OUTCOME_CREATED);
  return resp;
}

// dispatch's events for one ticket, versioned like TicketRepository versions them.
struct DispatchFeed {
  std::string ticket_id;
  int64_t version = 0;
  absl::Time at = absl::Now();

  v1::EventEnvelope Next() {
    auto e = NewEnvelope("dispatch", ticket_id, ++version);
    at = std::max(absl::Now(), at + absl::Milliseconds(1));  // distinct and ordered
    *e.mutable_occurred_at() = ToTimestamp(at);
    return e;
  }
  v1::EventEnvelope Dispatched(const std::string& dept) {
    auto e = Next();
    e.mutable_ticket_dispatched()->set_ticket_id(ticket_id);
    e.mutable_ticket_dispatched()->set_department_id(dept);
    e.mutable_ticket_dispatched()->set_automatic(true);
    return e;
  }
  v1::EventEnvelope Accepted(const std::string& dept) {
    auto e = Next();
    e.mutable_ticket_accepted()->set_ticket_id(ticket_id);
    e.mutable_ticket_accepted()->set_department_id(dept);
    return e;
  }
  v1::EventEnvelope Extended(const std::string& dept, absl::Time deadline) {
    auto e = Next();
    e.mutable_extension_granted()->set_ticket_id(ticket_id);
    e.mutable_extension_granted()->set_department_id(dept);
    *e.mutable_extension_granted()->mutable_new_deadline() = ToTimestamp(deadline);
    return e;
  }
  v1::EventEnvelope Replied(const std::string& dept, const std::string& answer) {
    auto e = Next();
    e.mutable_ticket_replied()->set_ticket_id(ticket_id);
    e.mutable_ticket_replied()->set_department_id(dept);
    e.mutable_ticket_replied()->set_resolution(answer);
    return e;
  }
  v1::EventEnvelope Closed(const std::string& dept) {
    auto e = Next();
    e.mutable_ticket_closed()->set_ticket_id(ticket_id);
    e.mutable_ticket_closed()->set_department_id(dept);
    return e;
  }
};

void Publish(const v1::EventEnvelope& e, const char* topic = kTicketsTopic) {
  REQUIRE(S().producer->PublishSync(topic, e.key(), e.SerializeAsString(), {}, 10s).ok());
}

v1::Ticket Track(const v1::SubmitRequestResponse& r) {
  v1::TrackTicketRequest req;
  req.set_ticket_number(r.ticket().ticket_number());
  req.set_verification_code(r.verification_code());
  v1::TrackTicketResponse resp;
  auto s = S().stub->TrackTicket(Ctx().get(), req, &resp);
  REQUIRE(s.ok());
  return resp.ticket();
}

// Tracks until `done` holds (the consumer applies asynchronously; its first group join takes a
// few seconds).
v1::Ticket TrackUntil(const v1::SubmitRequestResponse& r,
                      const std::function<bool(const v1::Ticket&)>& done) {
  v1::Ticket t;
  bool ok = WaitFor(
      [&] {
        t = Track(r);
        return done(t);
      },
      30s, 100ms);
  INFO(t.DebugString());
  REQUIRE(ok);
  return t;
}

std::vector<v1::TimelineKind> Kinds(const v1::Ticket& t) {
  std::vector<v1::TimelineKind> out;
  for (const auto& e : t.timeline()) out.push_back(e.kind());
  return out;
}

}  // namespace

TEST_CASE("the citizen tracks every step: dispatched, accepted, extended, replied, closed") {
  auto sub = Submit("tl-life-1", "滨江路22号路灯不亮已经一周了，晚上很危险", "13811110001");
  CHECK(sub.ticket().status() == v1::CITIZEN_STATUS_RECEIVED);
  REQUIRE(sub.ticket().timeline_size() == 1);

  // An event for a ticket intake never filed is skipped, and recorded as applied.
  DispatchFeed stranger{NewUuid()};
  auto unknown = stranger.Dispatched("d-urban");
  Publish(unknown);

  DispatchFeed feed{sub.ticket().ticket_id()};
  const absl::Time deadline =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())) + absl::Hours(24 * 10);
  std::vector<v1::EventEnvelope> events = {feed.Dispatched("d-urban")};
  auto accepted = feed.Accepted("d-urban");
  events.push_back(accepted);
  events.push_back(feed.Extended("d-urban", deadline));
  auto replied = feed.Replied("d-urban", "路灯已于今日修复。如有问题请联系13900002222");
  events.push_back(replied);
  events.push_back(accepted);  // redelivered, late (an older version, after the marker too)
  events.push_back(replied);   // redelivered
  events.push_back(feed.Closed("d-urban"));
  for (const auto& e : events) Publish(e);

  v1::Ticket t =
      TrackUntil(sub, [](const v1::Ticket& t) { return t.state() == v1::TICKET_STATE_CLOSED; });
  INFO(t.DebugString());
  CHECK(Kinds(t) ==
        std::vector<v1::TimelineKind>{v1::TIMELINE_KIND_RECEIVED, v1::TIMELINE_KIND_DISPATCHED,
                                      v1::TIMELINE_KIND_ACCEPTED, v1::TIMELINE_KIND_EXTENDED,
                                      v1::TIMELINE_KIND_REPLIED, v1::TIMELINE_KIND_CLOSED});
  CHECK(t.status() == v1::CITIZEN_STATUS_CLOSED);
  CHECK(t.department_id() == "d-urban");
  CHECK(t.department_name().find("Housing") != std::string::npos);  // from INTAKE_DEPARTMENTS
  CHECK(t.expected_at().seconds() == absl::ToUnixSeconds(deadline));
  CHECK(t.timeline(1).text().rfind("Dispatched to 市住房和城乡建设局", 0) == 0);
  // The citizen reads the department's answer in full (it is their own ticket).
  CHECK(t.timeline(4).text().find("路灯已于今日修复") != std::string::npos);
  CHECK(t.updated_at().seconds() > t.created_at().seconds());

  // GetTicket shows the same.
  v1::GetTicketRequest get;
  get.set_ticket_id(sub.ticket().ticket_id());
  v1::GetTicketResponse got;
  REQUIRE(S().stub->GetTicket(Ctx().get(), get, &got).ok());
  CHECK(got.ticket().timeline_size() == 6);
  CHECK(got.ticket().status() == v1::CITIZEN_STATUS_CLOSED);

  // A survey answer arrives on its own topic.
  auto survey = NewEnvelope("survey", sub.ticket().ticket_id(), 0);
  survey.mutable_survey_answered()->set_ticket_id(sub.ticket().ticket_id());
  survey.mutable_survey_answered()->set_department_id("d-urban");
  survey.mutable_survey_answered()->set_resolved(true);
  survey.mutable_survey_answered()->set_satisfaction(5);
  Publish(survey, kSurveysTopic);
  t = TrackUntil(sub, [](const v1::Ticket& t) { return t.timeline_size() == 7; });
  CHECK(t.timeline(6).kind() == v1::TIMELINE_KIND_SURVEYED);
  CHECK(t.status() == v1::CITIZEN_STATUS_CLOSED);

  // The stranger's event was applied (recorded) and stored nothing.
  REQUIRE(WaitFor(
      [&] {
        auto r = S().redis_client.Command({"EXISTS", "intake:applied:" + unknown.event_id()});
        return r.ok() && r->integer == 1;
      },
      10s, 100ms));
  auto tl = S().redis_client.Command({"EXISTS", "intake:tl:" + stranger.ticket_id});
  REQUIRE(tl.ok());
  CHECK(tl->integer == 0);

  // Closed: no supplement, no withdrawal.
  v1::AddSupplementRequest ar;
  ar.set_ticket_id(sub.ticket().ticket_id());
  ar.set_verification_code(sub.verification_code());
  ar.set_text("补充：灯又坏了");
  ar.set_idempotency_key("tl-life-1-supp");
  v1::AddSupplementResponse aresp;
  auto s = S().stub->AddSupplement(Ctx().get(), ar, &aresp);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message().find("TICKET_STATE_CLOSED") != std::string::npos);
  v1::WithdrawTicketRequest wr;
  wr.set_ticket_id(sub.ticket().ticket_id());
  wr.set_verification_code(sub.verification_code());
  v1::WithdrawTicketResponse wresp;
  s = S().stub->WithdrawTicket(Ctx().get(), wr, &wresp);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);

  // Open311 tells the same story, without personal data.
  int rc = 0;
  std::string one = Run("curl -s http://127.0.0.1:" + std::to_string(S().open311_port) +
                            "/open311/v2/requests/" + sub.ticket().ticket_number() + ".json",
                        &rc);
  INFO(one);
  REQUIRE(rc == 0);
  CHECK(one.find("\"status\":\"closed\"") != std::string::npos);
  CHECK(one.find("\"agency_responsible\":\"市住房和城乡建设局") != std::string::npos);
  CHECK(one.find("路灯已于今日修复") != std::string::npos);  // the reply is the latest note
  CHECK(one.find("13900002222") == std::string::npos);
  CHECK(one.find("139****2222") != std::string::npos);
  CHECK(one.find("\"expected_datetime\":\"" +
                 absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", deadline, absl::FixedTimeZone(8 * 3600)) +
                 "\"") != std::string::npos);
  CHECK(one.find("\"updated_datetime\":null") == std::string::npos);
  // hotlinectl track prints the steps, one a line, in order.
  std::string out =
      Run(std::string(HOTLINECTL_BIN) + " --plaintext --addr " + S().intake.grpc_addr() +
              " track " + sub.ticket().ticket_number() + " " + sub.verification_code(),
          &rc);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("status     closed") != std::string::npos);
  CHECK(out.find("department d-urban  市住房和城乡建设局") != std::string::npos);
  CHECK(out.find("expected   ") != std::string::npos);
  auto at = [&](const std::string& s) { return out.find(s); };
  CHECK(at("received") < at("dispatched"));
  CHECK(at("dispatched") < at("accepted"));
  CHECK(at("accepted") < at("extended"));
  CHECK(at("extended") < at("replied"));
  CHECK(at("replied") < at("closed   "));
  CHECK(at("closed   ") < at("surveyed"));
  CHECK(at("surveyed") != std::string::npos);

  std::string closed = Run("curl -s 'http://127.0.0.1:" + std::to_string(S().open311_port) +
                               "/open311/v2/requests.json?status=closed'",
                           &rc);
  CHECK(closed.find(sub.ticket().ticket_number()) != std::string::npos);
}

TEST_CASE("after a reply the citizen cannot withdraw, but can still add information") {
  auto sub = Submit("tl-reply-1", "河西路5号下水道井盖缺失，行人容易掉下去", "13811110002");
  DispatchFeed feed{sub.ticket().ticket_id()};
  Publish(feed.Dispatched("d-cityops"));
  Publish(feed.Accepted("d-cityops"));
  // Before the reply: a withdrawal would be allowed (not tried, it would end the story).
  v1::Ticket t = TrackUntil(
      sub, [](const v1::Ticket& t) { return t.status() == v1::CITIZEN_STATUS_IN_PROGRESS; });
  CHECK(t.state() == v1::TICKET_STATE_ACCEPTED);
  Publish(feed.Replied("d-cityops", "已安排补装井盖"));
  t = TrackUntil(sub, [](const v1::Ticket& t) { return t.status() == v1::CITIZEN_STATUS_REPLIED; });

  v1::WithdrawTicketRequest wr;
  wr.set_ticket_id(sub.ticket().ticket_id());
  wr.set_verification_code(sub.verification_code());
  wr.set_reason("不需要了");
  v1::WithdrawTicketResponse wresp;
  auto s = S().stub->WithdrawTicket(Ctx().get(), wr, &wresp);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message().find("TICKET_STATE_REPLIED") != std::string::npos);

  v1::AddSupplementRequest ar;
  ar.set_ticket_id(sub.ticket().ticket_id());
  ar.set_verification_code(sub.verification_code());
  ar.set_text("补充：井盖在公交站旁边");
  ar.set_idempotency_key("tl-reply-1-supp");
  v1::AddSupplementResponse aresp;
  REQUIRE(S().stub->AddSupplement(Ctx().get(), ar, &aresp).ok());
  CHECK(aresp.ticket().status() == v1::CITIZEN_STATUS_REPLIED);
  CHECK(aresp.ticket().timeline(aresp.ticket().timeline_size() - 1).kind() ==
        v1::TIMELINE_KIND_SUPPLEMENTED);
}

TEST_CASE("a withdrawn ticket keeps its withdrawal on the timeline") {
  auto sub = Submit("tl-withdraw-1", "朝阳街8号楼道灯坏了", "13811110003");
  DispatchFeed feed{sub.ticket().ticket_id()};
  Publish(feed.Dispatched("d-urban"));
  TrackUntil(sub,
             [](const v1::Ticket& t) { return t.status() == v1::CITIZEN_STATUS_WITH_DEPARTMENT; });
  v1::WithdrawTicketRequest wr;
  wr.set_ticket_id(sub.ticket().ticket_id());
  wr.set_verification_code(sub.verification_code());
  v1::WithdrawTicketResponse wresp;
  REQUIRE(S().stub->WithdrawTicket(Ctx().get(), wr, &wresp).ok());
  CHECK(wresp.ticket().status() == v1::CITIZEN_STATUS_WITHDRAWN);
  v1::Ticket t = Track(sub);
  CHECK(Kinds(t) == std::vector<v1::TimelineKind>{v1::TIMELINE_KIND_RECEIVED,
                                                  v1::TIMELINE_KIND_DISPATCHED,
                                                  v1::TIMELINE_KIND_WITHDRAWN});
  CHECK(t.state() == v1::TICKET_STATE_WITHDRAWN);
}

TEST_CASE("a citizen whose report was merged sees the original's timeline") {
  auto original =
      Submit("tl-merge-1", "光明路66号小区门口污水横流，臭气熏天，多日无人处理", "13811110004");
  DispatchFeed feed{original.ticket().ticket_id()};
  Publish(feed.Dispatched("d-cityops"));
  Publish(feed.Replied("d-cityops", "已疏通管道"));
  TrackUntil(original,
             [](const v1::Ticket& t) { return t.status() == v1::CITIZEN_STATUS_REPLIED; });

  v1::SubmitRequestRequest r;
  r.set_channel(v1::CHANNEL_WECHAT);
  r.set_text("光明路66号小区门口污水横流，臭气熏天，多日没人处理");
  r.set_idempotency_key("tl-merge-2");
  r.mutable_contact()->set_phone("13811110004");
  v1::SubmitRequestResponse dup;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), r, &dup).ok());
  REQUIRE(dup.outcome() == v1::SUBMIT_OUTCOME_MERGED);
  v1::Ticket t = Track(dup);
  CHECK(t.state() == v1::TICKET_STATE_MERGED);
  CHECK(t.status() == v1::CITIZEN_STATUS_REPLIED);
  CHECK(t.department_id() == "d-cityops");
  std::vector<v1::TimelineKind> kinds = Kinds(t);
  CHECK(std::count(kinds.begin(), kinds.end(), v1::TIMELINE_KIND_REPLIED) == 1);
  CHECK(std::count(kinds.begin(), kinds.end(), v1::TIMELINE_KIND_MERGED) == 1);
}

// The store against the real redis-server (its own database, apart from the running intake's).
TEST_CASE("a withdrawal read before a reply cannot commit after it; events apply once") {
  RedisClient redis{RedisEndpoint{"127.0.0.1", S().redis.port(), 1, ""}};
  Outbox outbox(&redis, "intake:outbox");
  IdempotentApplier applier(&redis, "intake");
  intake::RedisTicketStore store(&redis, &outbox, &applier);
  intake::TicketRecord rec;
  rec.ticket.set_ticket_id(NewUuid());
  rec.ticket.set_ticket_number("GZ-20261125-900001");
  rec.ticket.set_state(v1::TICKET_STATE_CREATED);
  *rec.ticket.mutable_created_at() = ToTimestamp(absl::Now());
  rec.version = 1;
  REQUIRE(store.Create(rec, "tl-store-1", {}, {}).ok());

  auto read = store.Get(rec.ticket.ticket_id());
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  intake::TicketRecord before_reply = **read;
  CHECK(before_reply.progress.timeline_size() == 0);

  DispatchFeed feed{rec.ticket.ticket_id()};
  auto replied = feed.Replied("d-urban", "done");
  auto apply = [&](const v1::EventEnvelope& e, const std::string& id) {
    return store.ApplyProgress(e, id,
                               [&](v1::Ticket* p) { return intake::TimelineRules::Apply(e, p); });
  };
  auto r = apply(replied, rec.ticket.ticket_id());
  REQUIRE(r.ok());
  CHECK(*r == intake::TicketStore::ProgressOutcome::kApplied);
  r = apply(replied, rec.ticket.ticket_id());
  REQUIRE(r.ok());
  CHECK(*r == intake::TicketStore::ProgressOutcome::kDuplicate);
  auto stranger = DispatchFeed{NewUuid()}.Dispatched("d-urban");
  r = apply(stranger, stranger.key());
  REQUIRE(r.ok());
  CHECK(*r == intake::TicketStore::ProgressOutcome::kUnknownTicket);

  // The withdrawal checked "not replied" on what it read; the reply came in between.
  intake::TicketRecord withdrawn = before_reply;
  withdrawn.ticket.set_state(v1::TICKET_STATE_WITHDRAWN);
  withdrawn.version = 2;
  CHECK(absl::IsAborted(store.Update(withdrawn, 1, {})));
  read = store.Get(rec.ticket.ticket_id());
  REQUIRE(read.ok());
  CHECK((**read).ticket.state() == v1::TICKET_STATE_CREATED);
  REQUIRE((**read).progress.timeline_size() == 1);
  CHECK((**read).progress.status() == v1::CITIZEN_STATUS_REPLIED);
  // Read again, the rules see the reply (IntakeCore::Withdraw refuses) and a change that
  // respects them commits.
  intake::TicketRecord supplemented = **read;
  supplemented.version = 2;
  CHECK(store.Update(supplemented, 1, {}).ok());
}
