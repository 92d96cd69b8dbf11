// intake against real processes: redis-server, the dev broker, and the hotline-intake binary.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "hotline/v1/events.pb.h"
#include "hotline/v1/intake.grpc.pb.h"
#include "services/common/api_policy.h"
#include "services/common/redis_client.h"
#include "services/intake/intake_api.h"
#include "tests/support/kafka_reader.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;

namespace {

// One stack for the whole file (starting the broker and a service costs seconds); every test
// uses its own texts, places and keys so they do not see each other's tickets.
struct Stack {
  RedisServer redis;
  DevBroker broker;
  int open311_port = FreePort();
  ServiceProcess intake{
      HOTLINE_INTAKE_BIN,
      redis.url(),
      broker.bootstrap(),
      {"INTAKE_KNOWLEDGE_BASE=" HOTLINE_REPO_DIR "/deploy/knowledge/knowledge_base.jsonl",
       "INTAKE_OPEN311_ADDR=127.0.0.1:" + std::to_string(open311_port), "INTAKE_CITY_CODE=GZ"}};
  std::unique_ptr<v1::IntakeService::Stub> stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(intake.grpc_addr(), grpc::InsecureChannelCredentials()));
  RedisClient redis_client{RedisEndpoint{"127.0.0.1", redis.port(), 0, ""}};
};

Stack& S() {
  static Stack stack;
  return stack;
}

std::unique_ptr<grpc::ClientContext> Ctx() { return CallContext(); }

v1::SubmitRequestRequest Request(const std::string& key, const std::string& text,
                                 const std::string& phone = "13812345678") {
  v1::SubmitRequestRequest r;
  r.set_channel(v1::CHANNEL_WEB);
  r.set_text(text);
  r.set_idempotency_key(key);
  r.mutable_contact()->set_phone(phone);
  r.mutable_contact()->set_name("张三");
  return r;
}

// Every event on hotline.tickets.v1 whose key is `ticket_id`, after the relay had time to publish.
std::vector<v1::EventEnvelope> EventsFor(const std::string& ticket_id, size_t at_least = 1) {
  std::vector<v1::EventEnvelope> out;
  WaitFor(
      [&] {
        out.clear();
        for (const auto& m : ReadTopic(S().broker.bootstrap(), "hotline.tickets.v1", SIZE_MAX,
                                       std::chrono::milliseconds(1500))) {
          if (m.key != ticket_id) continue;
          v1::EventEnvelope e;
          REQUIRE(e.ParseFromString(m.value));
          out.push_back(e);
        }
        return out.size() >= at_least;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(200));
  // Give a duplicate a chance to show up too.
  return out;
}

int64_t CountKeys(const std::string& pattern) {
  auto r = S().redis_client.Command({"KEYS", pattern});
  REQUIRE(r.ok());
  return static_cast<int64_t>(r->elements.size());
}

}  // namespace

TEST_CASE("a submitted request yields one ticket and exactly one TicketCreated") {
  v1::SubmitRequestResponse resp;
  auto req = Request("it-created-1", "东湖路18号的路灯坏了一个多星期，晚上一片漆黑");
  req.mutable_location()->set_district("东湖区");
  req.mutable_location()->set_address("东湖路18号");
  auto ctx = Ctx();
  const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ctx->AddMetadata("traceparent", tp);
  auto s = S().stub->SubmitRequest(ctx.get(), req, &resp);
  REQUIRE(s.ok());
  CHECK(resp.outcome() == v1::SUBMIT_OUTCOME_CREATED);
  CHECK(resp.ticket().ticket_number().rfind("GZ-", 0) == 0);
  CHECK(resp.verification_code().size() == 6);
  CHECK(resp.ticket().type() == v1::TICKET_TYPE_COMPLAINT);
  CHECK(resp.ticket().contact().masked_phone().find("12345678") == std::string::npos);

  auto events = EventsFor(resp.ticket().ticket_id());
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].has_ticket_created());
  const auto& created = events[0].ticket_created();
  CHECK(created.ticket_number() == resp.ticket().ticket_number());
  CHECK(created.location().address() == "东湖路18号");
  CHECK(created.contact().citizen_id() == resp.ticket().contact().citizen_id());
  CHECK(events[0].source() == "intake");
  CHECK(events[0].aggregate_version() == 1);
  CHECK(events[0].traceparent() == tp);  // the request's trace travels with its event
  // No personal data in clear on Kafka.
  CHECK(events[0].SerializeAsString().find("13812345678") == std::string::npos);
  CHECK(events[0].SerializeAsString().find("张三") == std::string::npos);
}

TEST_CASE(
    "e-mail addresses and ID-card numbers in the text reach Kafka masked, intake keeps them") {
  auto req = Request("it-pii-1",
                     "我的邮箱是 zhang.san@example.com，身份证号 110105199003071234，"
                     "小区门口井盖松动，订单号 202403151234567890 与此无关");
  v1::SubmitRequestResponse resp;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), req, &resp).ok());
  auto events = EventsFor(resp.ticket().ticket_id());
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].has_ticket_created());
  const std::string& text = events[0].ticket_created().text();
  INFO(text);
  CHECK(text.find("zhang.san@example.com") == std::string::npos);
  CHECK(text.find("z***@example.com") != std::string::npos);
  CHECK(text.find("110105199003071234") == std::string::npos);
  CHECK(text.find("110***********1234") != std::string::npos);
  CHECK(text.find("202403151234567890") != std::string::npos);  // an order number is not personal
  CHECK(events[0].SerializeAsString().find("zhang.san") == std::string::npos);

  // The call-taker still reads what the citizen wrote.
  v1::GetTicketRequest get;
  get.set_ticket_id(resp.ticket().ticket_id());
  v1::GetTicketResponse got;
  REQUIRE(S().stub->GetTicket(Ctx().get(), get, &got).ok());
  CHECK(got.ticket().text() == req.text());

  // A supplement is masked the same way.
  v1::AddSupplementRequest ar;
  ar.set_ticket_id(resp.ticket().ticket_id());
  ar.set_verification_code(resp.verification_code());
  ar.set_text("补充：也可以发邮件到 li.si@example.org，身份证 11010519900307123X");
  ar.set_idempotency_key("it-pii-supp-1");
  v1::AddSupplementResponse aresp;
  REQUIRE(S().stub->AddSupplement(Ctx().get(), ar, &aresp).ok());
  events = EventsFor(resp.ticket().ticket_id(), 2);
  REQUIRE(events.size() == 2);
  REQUIRE(events[1].has_ticket_supplemented());
  CHECK(events[1].ticket_supplemented().text() ==
        "补充：也可以发邮件到 l***@example.org，身份证 110***********123X");
}

TEST_CASE("the same idempotency key twice yields one ticket and one event") {
  auto req = Request("it-idem-1", "西山大道12号小区垃圾桶满了好几天没人清运，臭味很大");
  v1::SubmitRequestResponse first, second;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), req, &first).ok());
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), req, &second).ok());
  CHECK_FALSE(first.replayed());
  CHECK(second.replayed());
  CHECK(second.ticket().ticket_id() == first.ticket().ticket_id());
  CHECK(second.verification_code() == first.verification_code());

  // Eight concurrent retries of a new request: still one ticket.
  auto req2 = Request("it-idem-2", "西山大道14号门口的排水沟堵了，下雨就积水");
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      v1::SubmitRequestResponse r;
      if (S().stub->SubmitRequest(Ctx().get(), req2, &r).ok()) ids[i] = r.ticket().ticket_id();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& id : ids) CHECK(id == ids[0]);
  CHECK(EventsFor(first.ticket().ticket_id()).size() == 1);
  CHECK(EventsFor(ids[0]).size() == 1);
}

TEST_CASE("a malformed request names the field and stores nothing") {
  int64_t tickets_before = CountKeys("intake:t:*");
  auto outbox_before = S().redis_client.Command({"LLEN", "intake:outbox"});
  auto req = Request("it-bad-1", "南港大道3号的路面塌了一个坑", "12345");
  v1::SubmitRequestResponse resp;
  auto s = S().stub->SubmitRequest(Ctx().get(), req, &resp);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("contact.phone:", 0) == 0);
  req = Request("it-bad-2", "");
  req.set_channel(v1::CHANNEL_EMAIL);
  req.set_text("南港大道3号的路面塌了一个坑");
  s = S().stub->SubmitRequest(Ctx().get(), req, &resp);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("contact.email:", 0) == 0);
  // Bytes that are not UTF-8 can only arrive over REST (gRPC's proto3 strings refuse them).
  int rc = 0;
  std::string bad =
      Run("curl -s -X POST --data 'service_code=complaint&email=a@example.org&"
          "description=%FF%FE%FD%20broken' http://127.0.0.1:" +
              std::to_string(S().open311_port) + "/open311/v2/requests.json",
          &rc);
  INFO(bad);
  CHECK(bad.find("\"code\":400") != std::string::npos);
  CHECK(bad.find("text: not valid UTF-8") != std::string::npos);
  CHECK(CountKeys("intake:t:*") == tickets_before);
  CHECK(CountKeys("intake:idem:it-bad-*") == 0);
  auto outbox_after = S().redis_client.Command({"LLEN", "intake:outbox"});
  CHECK(outbox_after->integer <= outbox_before->integer);
}

TEST_CASE("the same problem reported again on another channel is merged, not dispatched twice") {
  auto first = Request("it-dup-1", "北城中路66号工地夜间施工，晚上十一点以后还在打桩，噪音太吵");
  first.mutable_location()->set_district("北城区");
  first.mutable_location()->set_address("北城中路66号");
  v1::SubmitRequestResponse a, b, c;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), first, &a).ok());
  REQUIRE(a.outcome() == v1::SUBMIT_OUTCOME_CREATED);

  // A neighbour, by SMS, same address, nearly the same words.
  auto again =
      Request("it-dup-2", "北城中路66号工地夜间施工，晚上十一点以后还在打桩，噪音太吵了，投诉",
              "13987654321");
  again.set_channel(v1::CHANNEL_SMS);
  again.mutable_location()->set_district("北城区");
  again.mutable_location()->set_address("北城中路66号");
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), again, &b).ok());
  CHECK(b.outcome() == v1::SUBMIT_OUTCOME_MERGED);
  CHECK(b.ticket().merged_into_ticket_id() == a.ticket().ticket_id());
  auto events = EventsFor(b.ticket().ticket_id());
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].has_ticket_merged());
  CHECK(events[0].ticket_merged().original_ticket_id() == a.ticket().ticket_id());

  // Same place, a different problem: a new ticket.
  auto other = Request("it-dup-3", "北城中路66号门口的垃圾桶满了没人清运", "13987654321");
  other.mutable_location()->set_district("北城区");
  other.mutable_location()->set_address("北城中路66号");
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), other, &c).ok());
  CHECK(c.outcome() == v1::SUBMIT_OUTCOME_CREATED);
}

TEST_CASE("near-identical reports filed at the same instant: one original, the rest merged") {
  std::vector<v1::SubmitRequestResponse> out(6);
  std::vector<grpc::Status> status(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto r = Request("it-race-" + std::to_string(i),
                       "沿江大道88号的井盖丢失了，晚上很危险，请尽快处理",
                       "1390000" + std::to_string(1000 + i));
      r.mutable_location()->set_district("滨江区");
      r.mutable_location()->set_address("沿江大道88号");
      status[i] = S().stub->SubmitRequest(Ctx().get(), r, &out[i]);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& st : status) REQUIRE(st.error_message() == "");
  int created = 0, merged = 0;
  std::string original;
  for (const auto& o : out) {
    if (o.outcome() == v1::SUBMIT_OUTCOME_CREATED) {
      ++created;
      original = o.ticket().ticket_id();
    }
    merged += o.outcome() == v1::SUBMIT_OUTCOME_MERGED;
  }
  CHECK(created == 1);
  CHECK(merged == 5);
  for (const auto& o : out) {
    if (o.outcome() == v1::SUBMIT_OUTCOME_MERGED)
      CHECK(o.ticket().merged_into_ticket_id() == original);
  }
}

TEST_CASE("a consultation the knowledge base answers is closed at once") {
  auto req = Request("it-kb-1", "你好，我的社保卡丢了，请问怎么补办？");
  v1::SubmitRequestResponse resp;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), req, &resp).ok());
  CHECK(resp.outcome() == v1::SUBMIT_OUTCOME_DIRECT_ANSWERED);
  CHECK(resp.ticket().state() == v1::TICKET_STATE_DIRECT_ANSWERED);
  CHECK(resp.ticket().knowledge_code() == "SB-001");
  CHECK(resp.answer().find("补") != std::string::npos);
  auto events = EventsFor(resp.ticket().ticket_id());
  REQUIRE(events.size() == 1);
  CHECK(events[0].has_ticket_direct_answered());
  CHECK_FALSE(events[0].has_ticket_created());  // dispatch never sees it

  // An urgent request is never answered from the knowledge base.
  auto urgent = Request("it-kb-2", "请问楼道里闻到煤气味，燃气泄漏怎么办");
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), urgent, &resp).ok());
  CHECK(resp.ticket().urgency() == v1::URGENCY_URGENT);
  CHECK(resp.outcome() == v1::SUBMIT_OUTCOME_CREATED);
}

TEST_CASE("citizens track, supplement, list and withdraw their tickets") {
  auto req = Request("it-life-1", "滨江东路9号的人行道上长期有车辆违停，行人只能走机动车道",
                     "13700001111");
  v1::SubmitRequestResponse sub;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), req, &sub).ok());

  v1::TrackTicketRequest tr;
  tr.set_ticket_number(sub.ticket().ticket_number());
  tr.set_verification_code("000000" == sub.verification_code() ? "111111" : "000000");
  v1::TrackTicketResponse tresp;
  CHECK(S().stub->TrackTicket(Ctx().get(), tr, &tresp).error_code() == grpc::StatusCode::NOT_FOUND);
  tr.set_verification_code(sub.verification_code());
  REQUIRE(S().stub->TrackTicket(Ctx().get(), tr, &tresp).ok());
  CHECK(tresp.ticket().ticket_id() == sub.ticket().ticket_id());

  v1::AddSupplementRequest ar;
  ar.set_ticket_id(sub.ticket().ticket_id());
  ar.set_verification_code(sub.verification_code());
  ar.set_text("早上七点到九点最严重");
  ar.set_idempotency_key("supp-1");
  v1::AddSupplementResponse aresp;
  REQUIRE(S().stub->AddSupplement(Ctx().get(), ar, &aresp).ok());
  REQUIRE(S().stub->AddSupplement(Ctx().get(), ar, &aresp).ok());  // a retry adds nothing
  CHECK(aresp.ticket().supplements_size() == 1);

  v1::ListCitizenTicketsRequest lr;
  lr.set_phone("137-0000-1111");
  v1::ListCitizenTicketsResponse lresp;
  REQUIRE(S().stub->ListCitizenTickets(Ctx().get(), lr, &lresp).ok());
  REQUIRE(lresp.tickets_size() == 1);
  CHECK(lresp.tickets(0).ticket_id() == sub.ticket().ticket_id());

  v1::WithdrawTicketRequest wr;
  wr.set_ticket_id(sub.ticket().ticket_id());
  wr.set_verification_code(sub.verification_code());
  wr.set_reason("车已经挪走了");
  v1::WithdrawTicketResponse wresp;
  REQUIRE(S().stub->WithdrawTicket(Ctx().get(), wr, &wresp).ok());
  CHECK(wresp.ticket().state() == v1::TICKET_STATE_WITHDRAWN);
  ar.set_idempotency_key("supp-2");
  CHECK(S().stub->AddSupplement(Ctx().get(), ar, &aresp).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  auto events = EventsFor(sub.ticket().ticket_id(), 3);
  REQUIRE(events.size() == 3);
  CHECK(events[0].has_ticket_created());
  CHECK(events[1].has_ticket_supplemented());
  CHECK(events[2].has_ticket_withdrawn());
  CHECK(events[2].aggregate_version() == 3);
}

TEST_CASE("verification codes: the sixth wrong attempt locks the ticket, the right code too") {
  v1::SubmitRequestResponse a, b;
  REQUIRE(S().stub
              ->SubmitRequest(
                  Ctx().get(),
                  Request("it-lock-a", "滨河北路21号的护栏被撞坏了，很危险", "13700002222"), &a)
              .ok());
  REQUIRE(S().stub
              ->SubmitRequest(Ctx().get(),
                              Request("it-lock-b", "滨河北路40号的公交站牌倒了", "13700003333"), &b)
              .ok());
  auto wrong = [](const std::string& code) { return code == "000000" ? "111111" : "000000"; };
  v1::TrackTicketRequest tr;
  v1::TrackTicketResponse tresp;
  tr.set_ticket_number(a.ticket().ticket_number());
  tr.set_verification_code(wrong(a.verification_code()));
  for (int i = 0; i < 5; ++i) {
    CHECK(S().stub->TrackTicket(Ctx().get(), tr, &tresp).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
  auto sixth = S().stub->TrackTicket(Ctx().get(), tr, &tresp);
  CHECK(sixth.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(sixth.error_message().find("locked, retry after") != std::string::npos);
  tr.set_verification_code(a.verification_code());
  auto right = S().stub->TrackTicket(Ctx().get(), tr, &tresp);
  CHECK(right.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Naming the ticket by its id instead of its number does not open a second budget.
  tr.set_ticket_number(a.ticket().ticket_id());
  CHECK(S().stub->TrackTicket(Ctx().get(), tr, &tresp).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Supplements check the same lock.
  v1::AddSupplementRequest ar;
  ar.set_ticket_id(a.ticket().ticket_id());
  ar.set_verification_code(a.verification_code());
  ar.set_text("补充一下情况");
  ar.set_idempotency_key("it-lock-supp");
  v1::AddSupplementResponse aresp;
  CHECK(S().stub->AddSupplement(Ctx().get(), ar, &aresp).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Another ticket is unaffected.
  tr.set_ticket_number(b.ticket().ticket_number());
  tr.set_verification_code(b.verification_code());
  REQUIRE(S().stub->TrackTicket(Ctx().get(), tr, &tresp).ok());
  CHECK(tresp.ticket().ticket_id() == b.ticket().ticket_id());

  // The lock lives in Redis with a TTL, so it ends by itself and every instance sees it.
  auto ttl = S().redis_client.Command({"PTTL", "intake:vl:t:" + a.ticket().ticket_id()});
  REQUIRE(ttl.ok());
  CHECK(ttl->integer > 0);
  CHECK(ttl->integer <= 15 * 60 * 1000);
  int rc = 0;
  std::string metrics = Run(
      "curl -s http://127.0.0.1:" + std::to_string(S().intake.metrics_port()) + "/metrics", &rc);
  CHECK(metrics.find("hotline_intake_verification_lockouts_total{scope=\"ticket\"} 1") !=
        std::string::npos);
  std::string log = S().intake.Log();
  CHECK(log.find("verification code locked") != std::string::npos);
  CHECK(log.find(a.ticket().ticket_number()) != std::string::npos);
  CHECK(log.find("13700002222") == std::string::npos);
}

TEST_CASE("Open311 GeoReport v2: submit and query in the spec's JSON shape") {
  std::string base = "http://127.0.0.1:" + std::to_string(S().open311_port) + "/open311/v2";
  int rc = 0;
  std::string services = Run("curl -s " + base + "/services.json", &rc);
  REQUIRE(rc == 0);
  CHECK(services.find("\"service_code\":\"complaint\"") != std::string::npos);

  std::string posted =
      Run("curl -s -X POST -H 'Idempotency-Key: o311-1' "
          "--data-urlencode 'service_code=complaint' "
          "--data-urlencode 'description=高新区科技大道7号路灯不亮已经三天了' "
          "--data-urlencode 'address_string=科技大道7号' "
          "--data-urlencode 'lat=23.1291' --data-urlencode 'long=113.2644' "
          "--data-urlencode 'email=resident@example.org' " +
              base + "/requests.json",
          &rc);
  REQUIRE(rc == 0);
  INFO(posted);
  auto pos = posted.find("\"service_request_id\":\"GZ-");
  REQUIRE(pos != std::string::npos);
  CHECK(posted.front() == '[');
  std::string id = posted.substr(pos + 22, posted.find('"', pos + 22) - pos - 22);

  std::string one = Run("curl -s " + base + "/requests/" + id + ".json", &rc);
  INFO(one);
  CHECK(one.find("\"service_request_id\":\"" + id + "\"") != std::string::npos);
  CHECK(one.find("\"status\":\"open\"") != std::string::npos);
  CHECK(one.find("\"lat\":23.13") != std::string::npos);  // public view: to 0.01°
  CHECK(one.find("23.1291") == std::string::npos);
  std::string query =
      Run("curl -s '" + base + "/requests.json?service_request_id=" + id + "'", &rc);
  CHECK(query.find(id) != std::string::npos);
  std::string listed =
      Run("curl -s '" + base + "/requests.json?service_code=complaint&status=open'", &rc);
  CHECK(listed.find(id) != std::string::npos);

  std::string bad = Run(
      "curl -s -w ' %{http_code}' -X POST --data 'service_code=nope' " + base + "/requests.json",
      &rc);
  CHECK(bad.find("\"code\":400") != std::string::npos);
  CHECK(bad.find("service_code") != std::string::npos);
  CHECK(bad.substr(bad.size() - 3) == "400");
}

TEST_CASE("a Python client generated from our protos submits and reads a ticket") {
  int rc = 0;
  // Debian's python3 (where python3-grpcio lives), not whatever python3 is first on PATH.
  std::string python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  std::string out = Run(python + " " HOTLINE_REPO_DIR "/tests/intake/interop_client.py " +
                            S().intake.grpc_addr() + " " HOTLINE_REPO_DIR "/protos 2>&1",
                        &rc);
  INFO(out);
  if (rc != 0 && out.find("No module named") != std::string::npos) {
    WARN("python3-grpcio / python3-grpc-tools missing: interop not checked");
    return;
  }
  REQUIRE(rc == 0);
  CHECK(out.find("ticket GZ-") != std::string::npos);
  CHECK(out.find("TICKET_STATE_CREATED") != std::string::npos);
}

TEST_CASE("intake's metrics count outcomes and its logs never show a phone number") {
  int rc = 0;
  std::string metrics = Run(
      "curl -s http://127.0.0.1:" + std::to_string(S().intake.metrics_port()) + "/metrics", &rc);
  CHECK(metrics.find("hotline_intake_requests_total{channel=\"web\",outcome=\"direct_answered\"") !=
        std::string::npos);
  CHECK(metrics.find("outcome=\"merged\"") != std::string::npos);
  CHECK(metrics.find("outcome=\"rejected\"") != std::string::npos);
  CHECK(metrics.find("hotline_grpc_server_handling_seconds_bucket{grpc_method=\"SubmitRequest\"") !=
        std::string::npos);
  std::string log = S().intake.Log();
  CHECK(log.find("13812345678") == std::string::npos);
  CHECK(log.find("13700001111") == std::string::npos);
}

TEST_CASE("the survey's callback lookup: the contact in clear for service tokens only, audited") {
  auto req = Request("it-callback-1", "花城大道88号门口的井盖松动，车一压就响", "13900002222");
  req.mutable_contact()->set_email("li.si@example.com");
  req.mutable_contact()->set_wechat_openid("oWx-test-openid-1");
  v1::SubmitRequestResponse sub;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), req, &sub).ok());

  v1::GetCallbackContactRequest cr;
  cr.set_ticket_id(sub.ticket().ticket_id());
  v1::GetCallbackContactResponse contact;
  REQUIRE(S().stub->GetCallbackContact(Ctx().get(), cr, &contact).ok());
  CHECK(contact.ticket_id() == sub.ticket().ticket_id());
  CHECK(contact.type() == sub.ticket().type());
  CHECK_FALSE(contact.anonymous());
  CHECK_FALSE(contact.opted_out());
  CHECK(contact.phone() == "+8613900002222");  // canonical
  CHECK(contact.masked_phone() == sub.ticket().contact().masked_phone());
  CHECK(contact.masked_phone().find("00002222") == std::string::npos);
  CHECK(contact.email() == "li.si@example.com");
  CHECK(contact.masked_email().find("li.si") == std::string::npos);
  CHECK(contact.wechat_openid() == "oWx-test-openid-1");
  // By readable number too.
  cr.set_ticket_id(sub.ticket().ticket_number());
  REQUIRE(S().stub->GetCallbackContact(Ctx().get(), cr, &contact).ok());
  CHECK(contact.ticket_id() == sub.ticket().ticket_id());

  cr.set_ticket_id("no-such-ticket");
  CHECK(S().stub->GetCallbackContact(Ctx().get(), cr, &contact).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  cr.set_ticket_id("");
  CHECK(S().stub->GetCallbackContact(Ctx().get(), cr, &contact).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  cr.set_ticket_id(std::string(65, 'x'));
  CHECK(S().stub->GetCallbackContact(Ctx().get(), cr, &contact).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // An anonymous report has nothing to call back.
  v1::SubmitRequestRequest anon;
  anon.set_channel(v1::CHANNEL_WEB);
  anon.set_text("举报：白云区某工地夜间十二点后仍在打桩施工");
  anon.set_idempotency_key("it-callback-anon");
  anon.set_anonymous(true);
  v1::SubmitRequestResponse anon_sub;
  REQUIRE(S().stub->SubmitRequest(Ctx().get(), anon, &anon_sub).ok());
  cr.set_ticket_id(anon_sub.ticket().ticket_id());
  v1::GetCallbackContactResponse none;
  REQUIRE(S().stub->GetCallbackContact(Ctx().get(), cr, &none).ok());
  CHECK(none.anonymous());
  CHECK(none.opted_out());
  CHECK(none.phone().empty());
  CHECK(none.email().empty());
  CHECK(none.wechat_openid().empty());

  // Who may ask: the gate's table, checked as the running service checks it (this process runs
  // with authentication disabled, where every caller is a supervisor).
  const ApiPolicy& api = intake::IntakeApi();
  const std::string m = "IntakeService/GetCallbackContact";
  for (Role r : {Role::kService, Role::kSupervisor}) {
    CHECK(CheckAccess(api, m, Principal{"p", r, ""}, cr).ok());
  }
  for (Role r :
       {Role::kChannel, Role::kCallTaker, Role::kDispatcher, Role::kDepartment, Role::kAnalyst}) {
    CHECK(CheckAccess(api, m, Principal{"p", r, "d1"}, cr).status().code() ==
          absl::StatusCode::kPermissionDenied);
  }
  CHECK(api.methods.at(m).audit);
  // The lookup is in the audit log; the phone number is not in any log line.
  WaitFor([] { return S().intake.Log().find("GetCallbackContact") != std::string::npos; },
          std::chrono::seconds(5), std::chrono::milliseconds(100));
  CHECK(S().intake.Log().find("GetCallbackContact") != std::string::npos);
  CHECK(S().intake.Log().find("39000022") == std::string::npos);
}
