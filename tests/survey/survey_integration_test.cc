// The survey service against real processes: two redis-servers, the dev broker, hotline-intake
// (the contact lookup, with real tokens) and hotline-survey, with tests/support's HttpReceiver as
// the city's SMS gateway. The policy's window is always open and its spacing tiny, so a survey
// is contacted as soon as its TicketReplied arrives.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "hotline/v1/intake.grpc.pb.h"
#include "hotline/v1/survey.grpc.pb.h"
#include "services/common/events.h"
#include "services/common/kafka_producer.h"
#include "tests/support/http_receiver.h"
#include "tests/support/kafka_reader.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;
using namespace std::chrono_literals;

namespace {

constexpr char kSecret[] = "gateway-secret-for-tests-0123456789";
constexpr char kSurveyToken[] = "survey-service-token-0001";
constexpr char kChannelToken[] = "web-form-channel-token-0001";

struct Stack {
  TempDir dir;
  RedisServer intake_redis;
  RedisServer survey_redis;
  DevBroker broker;
  HttpReceiver gateway{kSecret};
  std::string policy = Write(
      "policy.tsv", "*\t100%\t8h\tall\t00:00-24:00\t1s\tcalendar\t3\t0.2s\tsms,email\t不满意\n");
  std::string departments = Write("departments.tsv", "# id\tname\tcontact\tcalendar\n");
  std::string tokens = Write(
      "tokens", std::string(kSurveyToken) + " service survey\n" + kChannelToken + " channel web\n");
  ServiceProcess intake{
      HOTLINE_INTAKE_BIN,
      intake_redis.url(),
      broker.bootstrap(),
      {"INTAKE_KNOWLEDGE_BASE=" HOTLINE_REPO_DIR "/deploy/knowledge/knowledge_base.jsonl",
       "HOTLINE_AUTH_TOKENS_FILE=" + tokens}};
  ServiceProcess survey{
      HOTLINE_SURVEY_BIN,
      survey_redis.url(),
      broker.bootstrap(),
      {"SURVEY_POLICY=" + policy, "SURVEY_CALENDARS_DIR=" HOTLINE_REPO_DIR "/deploy/sla/calendars",
       "SURVEY_DEPARTMENTS=" + departments, "SURVEY_INTAKE_ADDR=" + intake.grpc_addr(),
       std::string("SURVEY_INTAKE_TOKEN=") + kSurveyToken,
       "SURVEY_GATEWAY_URL=" + gateway.Url("/sms"), std::string("SURVEY_GATEWAY_SECRET=") + kSecret,
       "SURVEY_GATEWAY_TRIES=3", "SURVEY_GATEWAY_BACKOFF_MS=50", "SURVEY_GATEWAY_TIMEOUT_MS=2000",
       "SURVEY_TICK_MS=50", "SURVEY_CLAIM_TIMEOUT_S=60"}};
  std::unique_ptr<v1::IntakeService::Stub> intake_stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(intake.grpc_addr(), grpc::InsecureChannelCredentials()));
  std::unique_ptr<v1::SurveyService::Stub> survey_stub = v1::SurveyService::NewStub(
      grpc::CreateChannel(survey.grpc_addr(), grpc::InsecureChannelCredentials()));
  std::unique_ptr<KafkaProducer> producer = [this] {
    KafkaProducerOptions o;
    o.brokers = broker.bootstrap();
    o.client_id = "survey-test";
    return *KafkaProducer::Create(o);
  }();
  bool assigned = WaitFor(
      [this] { return survey.Log().find("\"msg\":\"partitions assigned\"") != std::string::npos; },
      30s);

  std::string Write(const std::string& name, const std::string& text) {
    std::string p = dir.path() + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
};

Stack& S() {
  static Stack stack;
  REQUIRE(stack.assigned);
  return stack;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + 10s);
  if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
  return c;
}

// A ticket intake really has, filed through its gRPC as the web form would.
std::string Submit(const std::string& key, const std::string& text, const std::string& phone) {
  v1::SubmitRequestRequest r;
  r.set_channel(v1::CHANNEL_WEB);
  r.set_text(text);
  r.set_idempotency_key(key);
  if (phone.empty()) {
    r.set_anonymous(true);
  } else {
    r.mutable_contact()->set_phone(phone);
  }
  v1::SubmitRequestResponse resp;
  auto s = S().intake_stub->SubmitRequest(Ctx(kChannelToken).get(), r, &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return resp.ticket().ticket_id();
}

v1::EventEnvelope Replied(const std::string& ticket_id, int64_t version = 7) {
  auto e = NewEnvelope("dispatch", ticket_id, version);
  auto* p = e.mutable_ticket_replied();
  p->set_ticket_id(ticket_id);
  p->set_department_id("d-roads");
  p->set_resolution("已修复");
  return e;
}

void Publish(const v1::EventEnvelope& e) {
  REQUIRE(S().producer->PublishSync(kTicketsTopic, e.key(), e.SerializeAsString(), {}, 10s).ok());
}

// The gateway's requests about one ticket.
std::vector<HttpReceiver::Request> RequestsFor(const std::string& ticket_id) {
  std::vector<HttpReceiver::Request> out;
  for (auto& r : S().gateway.Requests()) {
    if (r.body.find(ticket_id) != std::string::npos) out.push_back(r);
  }
  return out;
}

bool WaitRequests(const std::string& ticket_id, size_t n, std::chrono::milliseconds t = 15s) {
  return WaitFor([&] { return RequestsFor(ticket_id).size() >= n; }, t, 50ms);
}

// The survey's state, UNSPECIFIED while there is none (for waiting).
v1::SurveyState StateOf(const std::string& ticket_id) {
  v1::GetSurveyRequest r;
  r.set_ticket_id(ticket_id);
  v1::GetSurveyResponse resp;
  if (!S().survey_stub->GetSurvey(Ctx().get(), r, &resp).ok()) return v1::SURVEY_STATE_UNSPECIFIED;
  return resp.survey().state();
}

v1::Survey GetSurvey(const std::string& ticket_id) {
  v1::GetSurveyRequest r;
  r.set_ticket_id(ticket_id);
  v1::GetSurveyResponse resp;
  auto s = S().survey_stub->GetSurvey(Ctx().get(), r, &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return resp.survey();
}

std::string Metrics() {
  return Run("curl -s http://127.0.0.1:" + std::to_string(S().survey.metrics_port()) + "/metrics");
}

double Metric(const std::string& series) {
  std::smatch m;
  std::string all = Metrics();
  std::regex re("\n" + std::regex_replace(series, std::regex(R"([{}\[\]()+.])"), R"(\$&)") +
                " ([0-9.e+]+)");
  if (!std::regex_search(all, m, re)) return 0;
  return std::stod(m[1]);
}

}  // namespace

TEST_CASE("a replied ticket is surveyed through the gateway; a negative answer is published once") {
  const std::string phone = "13800001111";
  const std::string canonical = "+86" + phone;  // intake keeps phones canonical
  const std::string id = Submit("sv-happy-1", "解放北路路口的红绿灯坏了三天，车辆乱行", phone);
  const auto replied = Replied(id);
  Publish(replied);

  REQUIRE(WaitRequests(id, 1));
  auto req = RequestsFor(id)[0];
  CHECK(req.signature.ok());  // HMAC over timestamp and body, checked by the receiver
  CHECK(req.answered == 200);
  CHECK(req.path == "/sms");
  auto body = nlohmann::json::parse(req.body);
  CHECK(body["to"] == canonical);  // the contact came from intake, not from an event
  CHECK(body["channel"] == "sms");
  CHECK(body["attempt"] == 1);
  const std::string survey_id = body["survey_id"];
  CHECK(req.Header("idempotency-key") == survey_id + ":1");

  WaitFor([&] { return StateOf(id) == v1::SURVEY_STATE_SENT; }, 5s);
  v1::Survey s = GetSurvey(id);
  CHECK(s.state() == v1::SURVEY_STATE_SENT);
  CHECK(s.survey_id() == survey_id);
  CHECK(s.attempts() == 1);
  CHECK(s.department_id() == "d-roads");
  CHECK(s.attempt_channels_size() == 1);

  // A redelivered TicketReplied plans nothing new and sends nothing again.
  Publish(replied);
  std::this_thread::sleep_for(1s);
  CHECK(RequestsFor(id).size() == 1);
  CHECK(GetSurvey(id).survey_id() == survey_id);

  // Bad answers name the field; nothing is stored.
  v1::RecordAnswerRequest ar;
  ar.set_ticket_id(id);
  ar.set_satisfaction(7);
  ar.set_resolution("no");
  v1::RecordAnswerResponse aresp;
  auto bad = S().survey_stub->RecordAnswer(Ctx().get(), ar, &aresp);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error_message().find("satisfaction") != std::string::npos);
  ar.set_satisfaction(3);
  ar.set_resolution("maybe");
  bad = S().survey_stub->RecordAnswer(Ctx().get(), ar, &aresp);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error_message().find("resolution") != std::string::npos);
  CHECK(GetSurvey(id).state() == v1::SURVEY_STATE_SENT);

  // "Not resolved" (一般): negative, so SurveyAnswered asks dispatch to reopen.
  ar.set_resolution("未解决");
  ar.set_comment("灯还是不亮");
  auto ok = S().survey_stub->RecordAnswer(Ctx().get(), ar, &aresp);
  INFO(ok.error_message());
  REQUIRE(ok.ok());
  CHECK(aresp.survey().state() == v1::SURVEY_STATE_ANSWERED);
  CHECK(aresp.survey().resolution() == "no");
  CHECK(aresp.survey().satisfaction() == 3);
  // One answer per survey.
  ar.set_resolution("yes");
  ar.set_satisfaction(5);
  CHECK(S().survey_stub->RecordAnswer(Ctx().get(), ar, &aresp).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(GetSurvey(id).resolution() == "no");

  std::vector<v1::EventEnvelope> answered;
  WaitFor(
      [&] {
        answered.clear();
        for (const auto& m : ReadTopic(S().broker.bootstrap(), kSurveysTopic, SIZE_MAX, 1500ms)) {
          v1::EventEnvelope e;
          REQUIRE(e.ParseFromString(m.value));
          if (m.key == id && e.has_survey_answered()) answered.push_back(e);
        }
        return !answered.empty();
      },
      15s, 200ms);
  REQUIRE(answered.size() == 1);
  const auto& a = answered[0].survey_answered();
  CHECK(a.ticket_id() == id);
  CHECK(a.department_id() == "d-roads");
  CHECK_FALSE(a.resolved());
  CHECK(a.satisfaction() == 3);
  CHECK(a.reopen_requested());
  CHECK(answered[0].source() == "survey");
  CHECK(answered[0].SerializeAsString().find(phone) == std::string::npos);

  CHECK(Metric("hotline_survey_outcomes_total{state=\"answered\"}") >= 1);
  CHECK(Metric("hotline_survey_attempts_total{channel=\"sms\",result=\"delivered\"}") >= 1);
  CHECK(Metric("hotline_survey_scheduled_total{type=\"complaint\"}") +
            Metric("hotline_survey_scheduled_total{type=\"report\"}") +
            Metric("hotline_survey_scheduled_total{type=\"help\"}") +
            Metric("hotline_survey_scheduled_total{type=\"consultation\"}") >=
        1);
  // The phone number is in no log line of the survey service (masked as 138****1111).
  CHECK(S().survey.Log().find(phone) == std::string::npos);
  CHECK(S().survey.Log().find("38000011") == std::string::npos);
  CHECK(S().survey.Log().find("138****1111") != std::string::npos);
}

TEST_CASE("a gateway answering 503 once: retried with the same key, delivered once") {
  S().gateway.FailNext(1, 503);
  const std::string id = Submit("sv-503-1", "人民公园东门外的垃圾桶满了两天没人清", "13800002222");
  Publish(Replied(id));
  REQUIRE(WaitRequests(id, 2));
  std::this_thread::sleep_for(1s);  // room for a wrong third request
  auto reqs = RequestsFor(id);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].answered == 503);
  CHECK(reqs[1].answered == 200);
  CHECK(reqs[0].Header("idempotency-key") == reqs[1].Header("idempotency-key"));
  CHECK(reqs[0].body == reqs[1].body);
  v1::Survey s = GetSurvey(id);
  CHECK(s.state() == v1::SURVEY_STATE_SENT);
  CHECK(s.attempts() == 1);  // one survey attempt, not a second survey
}

TEST_CASE("a gateway that always fails: three attempts, then UNREACHABLE, counted") {
  const double before = Metric("hotline_survey_outcomes_total{state=\"unreachable\"}");
  S().gateway.SetFallback({503, absl::ZeroDuration(), "{}"});
  const std::string id = Submit("sv-down-1", "中山路菜市场门口下水道堵塞污水外溢", "13800003333");
  Publish(Replied(id));
  REQUIRE(WaitFor([&] { return StateOf(id) == v1::SURVEY_STATE_UNREACHABLE; }, 20s, 100ms));
  S().gateway.SetFallback({});
  v1::Survey s = GetSurvey(id);
  CHECK(s.attempts() == 3);
  // Each survey attempt is SURVEY_GATEWAY_TRIES (3) HTTP requests under one idempotency key.
  auto reqs = RequestsFor(id);
  CHECK(reqs.size() == 9);
  std::set<std::string> keys;
  for (const auto& r : reqs) keys.insert(r.Header("idempotency-key"));
  CHECK(keys.size() == 3);
  CHECK(Metric("hotline_survey_outcomes_total{state=\"unreachable\"}") == before + 1);
  CHECK(Metric("hotline_survey_attempts_total{channel=\"sms\",result=\"failed\"}") >= 3);
  // Its record is final: an answer now is refused.
  v1::RecordAnswerRequest ar;
  ar.set_ticket_id(id);
  ar.set_resolution("yes");
  ar.set_satisfaction(5);
  v1::RecordAnswerResponse aresp;
  CHECK(S().survey_stub->RecordAnswer(Ctx().get(), ar, &aresp).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("an anonymous report is never called back, and that is counted") {
  const std::string id = Submit("sv-anon-1", "举报：某小区地下室有人违规住人，存在消防隐患", "");
  Publish(Replied(id));
  REQUIRE(WaitFor([&] { return StateOf(id) == v1::SURVEY_STATE_OPTED_OUT; }, 15s, 100ms));
  CHECK(RequestsFor(id).empty());
  CHECK(Metric("hotline_survey_outcomes_total{state=\"opted_out\"}") >= 1);
}

TEST_CASE("intake's contact lookup refuses a channel token; the survey's own token passes") {
  const std::string id = Submit("sv-authz-1", "滨河路的共享单车堆满了人行道", "13800004444");
  v1::GetCallbackContactRequest r;
  r.set_ticket_id(id);
  v1::GetCallbackContactResponse resp;
  CHECK(S().intake_stub->GetCallbackContact(Ctx(kChannelToken).get(), r, &resp).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(S().intake_stub->GetCallbackContact(Ctx().get(), r, &resp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(S().intake_stub->GetCallbackContact(Ctx(kSurveyToken).get(), r, &resp).ok());
  CHECK(resp.phone() == "+8613800004444");
}

TEST_CASE("a reopened ticket's survey is cancelled; its next reply is surveyed anew") {
  const std::string id =
      Submit("sv-reopen-1", "西湖路公交站的顶棚漏雨，候车的人全淋湿", "13800005555");
  Publish(Replied(id));
  REQUIRE(WaitRequests(id, 1));
  REQUIRE(WaitFor([&] { return StateOf(id) == v1::SURVEY_STATE_SENT; }, 5s, 50ms));
  const std::string first = GetSurvey(id).survey_id();
  const double before = Metric("hotline_survey_outcomes_total{state=\"cancelled\"}");

  auto reopened = NewEnvelope("dispatch", id, 8);
  reopened.mutable_ticket_reopened()->set_ticket_id(id);
  reopened.mutable_ticket_reopened()->set_department_id("d-roads");
  reopened.mutable_ticket_reopened()->set_reason("市民反映仍在漏雨");
  Publish(reopened);
  REQUIRE(WaitFor([&] { return StateOf(id) == v1::SURVEY_STATE_CANCELLED; }, 10s, 50ms));
  CHECK(Metric("hotline_survey_outcomes_total{state=\"cancelled\"}") == before + 1);
  v1::RecordAnswerRequest ar;
  ar.set_ticket_id(id);
  ar.set_resolution("yes");
  ar.set_satisfaction(5);
  v1::RecordAnswerResponse aresp;
  CHECK(S().survey_stub->RecordAnswer(Ctx().get(), ar, &aresp).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  Publish(Replied(id, 9));  // the department's second reply (dispatch's versions grow)
  REQUIRE(WaitRequests(id, 2));
  REQUIRE(WaitFor([&] { return StateOf(id) == v1::SURVEY_STATE_SENT; }, 5s, 50ms));
  v1::Survey second = GetSurvey(id);
  CHECK(second.survey_id() != first);
  CHECK(second.attempts() == 1);
  REQUIRE(S().survey_stub->RecordAnswer(Ctx().get(), ar, &aresp).ok());
  CHECK(aresp.survey().state() == v1::SURVEY_STATE_ANSWERED);
  CHECK(aresp.survey().survey_id() == second.survey_id());
}
