// The call gate from outside, against all six real services started with a tokens file (one
// redis-server each, one dev broker): the authorization matrix over every RPC × every role,
// input limits, malformed requests, page tokens, department scoping of SLA data, and readiness
// when Redis freezes or the broker goes away.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <map>

#include "hotline/v1/analytics.pb.h"
#include "hotline/v1/dispatch.grpc.pb.h"
#include "hotline/v1/intake.grpc.pb.h"
#include "hotline/v1/ivr_routing.pb.h"
#include "hotline/v1/sla_timer.grpc.pb.h"
#include "hotline/v1/survey.pb.h"
#include "services/analytics/analytics_api.h"
#include "services/common/redis_client.h"
#include "services/dispatch/classifier.h"
#include "services/dispatch/dispatch_api.h"
#include "services/intake/intake_api.h"
#include "services/ivr_routing/ivr_routing_api.h"
#include "services/sla_timer/sla_api.h"
#include "services/survey/survey_api.h"
#include "tests/support/demo_model.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;
using namespace std::chrono_literals;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

namespace {

constexpr char kDeptA[] = "d-urban";
constexpr char kDeptB[] = "d-cityops";

// One token per role, and a second department.
const std::map<std::string, std::pair<Role, std::string>>& Tokens() {
  static const auto* t = new std::map<std::string, std::pair<Role, std::string>>{
      {"tok-channel-0123456789abcdef", {Role::kChannel, ""}},
      {"tok-calltaker-0123456789abcdef", {Role::kCallTaker, ""}},
      {"tok-dispatcher-0123456789abcdef", {Role::kDispatcher, ""}},
      {"tok-dept-a-0123456789abcdef", {Role::kDepartment, kDeptA}},
      {"tok-supervisor-0123456789abcdef", {Role::kSupervisor, ""}},
      {"tok-analyst-0123456789abcdef", {Role::kAnalyst, ""}},
      {"tok-service-0123456789abcdef", {Role::kService, ""}},
      {"tok-dept-b-0123456789abcdef", {Role::kDepartment, kDeptB}},
  };
  return *t;
}

std::string WriteTokens(const std::string& dir) {
  std::string path = dir + "/tokens";
  std::ofstream f(path);
  for (const auto& [token, who] : Tokens()) {
    f << token << " " << RoleName(who.first);
    if (!who.second.empty()) f << " " << who.second;
    f << "\n";
  }
  return path;
}

std::string TrainModel(const std::string& dir) {
  auto data = DemoTrainingData();
  REQUIRE(data.ok());
  // Threshold 0: dispatch everything, the test needs clocks.
  auto path = hotline::testing::TrainModel(*data, 5, "gate-test", 0.0, dir + "/model.bin");
  REQUIRE(path.ok());
  return *path;
}

struct Suite {
  TempDir dir;
  DevBroker broker;
  std::string tokens = WriteTokens(dir.path());
  std::string auth = "HOTLINE_AUTH_TOKENS_FILE=" + tokens;
  RedisServer intake_redis, dispatch_redis, sla_redis, ivr_redis, survey_redis, analytics_redis;
  ServiceProcess intake{
      HOTLINE_INTAKE_BIN,
      intake_redis.url(),
      broker.bootstrap(),
      {auth, "INTAKE_KNOWLEDGE_BASE=" HOTLINE_REPO_DIR "/deploy/knowledge/knowledge_base.jsonl"}};
  ServiceProcess dispatch{
      HOTLINE_DISPATCH_BIN,
      dispatch_redis.url(),
      broker.bootstrap(),
      {auth, "DISPATCH_MODEL=" + TrainModel(dir.path()),
       "DISPATCH_DEPARTMENTS=" HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv",
       "DISPATCH_RESPONSIBILITY=" HOTLINE_REPO_DIR "/deploy/dispatch/responsibility.tsv"}};
  ServiceProcess sla{HOTLINE_SLA_BIN,
                     sla_redis.url(),
                     broker.bootstrap(),
                     {auth, "SLA_POLICIES=" HOTLINE_REPO_DIR "/deploy/sla/policies.tsv",
                      "SLA_CALENDARS_DIR=" HOTLINE_REPO_DIR "/deploy/sla/calendars",
                      "SLA_DEPARTMENTS=" HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv"}};
  ServiceProcess ivr{HOTLINE_IVR_BIN, ivr_redis.url(), broker.bootstrap(), {auth}};
  ServiceProcess survey{
      HOTLINE_SURVEY_BIN,
      survey_redis.url(),
      broker.bootstrap(),
      {auth, "SURVEY_POLICY=" HOTLINE_REPO_DIR "/deploy/survey/policy.tsv",
       "SURVEY_CALENDARS_DIR=" HOTLINE_REPO_DIR "/deploy/sla/calendars",
       "SURVEY_DEPARTMENTS=" HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv"}};
  ServiceProcess analytics{
      HOTLINE_ANALYTICS_BIN, analytics_redis.url(), broker.bootstrap(), {auth}};

  // Which process serves which gRPC service, under which policy.
  struct Host {
    std::string addr;
    const ApiPolicy* policy;
  };
  std::map<std::string, Host> hosts = {
      {"IntakeService", {intake.grpc_addr(), &intake::IntakeApi()}},
      {"TriageService", {dispatch.grpc_addr(), &dispatch::DispatchApi()}},
      {"DepartmentService", {dispatch.grpc_addr(), &dispatch::DispatchApi()}},
      {"SupervisionService", {dispatch.grpc_addr(), &dispatch::DispatchApi()}},
      {"SlaService", {sla.grpc_addr(), &sla::SlaApi()}},
      {"IvrRoutingService", {ivr.grpc_addr(), &ivr_routing::IvrRoutingApi()}},
      {"SurveyService", {survey.grpc_addr(), &survey::SurveyApi()}},
      {"AnalyticsService", {analytics.grpc_addr(), &analytics::AnalyticsApi()}},
  };
};

Suite& S() {
  static Suite s;
  return s;
}

std::vector<const google::protobuf::ServiceDescriptor*> OurServices() {
  std::vector<const google::protobuf::ServiceDescriptor*> out;
  // One message of each API file: referencing it links (and registers) the file's descriptors.
  for (const auto* fd :
       {v1::SubmitRequestRequest::descriptor()->file(),
        v1::AcceptTicketRequest::descriptor()->file(),
        v1::GetTicketClocksRequest::descriptor()->file(),
        v1::StartCallRequest::descriptor()->file(), v1::GetSurveyRequest::descriptor()->file(),
        v1::GetOverviewRequest::descriptor()->file()}) {
    for (int i = 0; i < fd->service_count(); ++i) out.push_back(fd->service(i));
  }
  return out;
}

grpc::Status RawCall(const std::string& addr, const std::string& path, const std::string& token,
                     const std::string& bytes, std::string* reply = nullptr) {
  auto channel = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer req(&slice, 1), resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, path, grpc::StubOptions(), &req, &resp,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  if (reply != nullptr) {
    std::vector<grpc::Slice> slices;
    reply->clear();
    if (resp.Valid() && resp.Dump(&slices).ok()) {
      for (auto& sl : slices) reply->append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
  }
  return s;
}

// A request with `field` (a top-level string) set to `value`, serialized.
std::string RequestBytes(const MethodDescriptor* m, const std::string& field,
                         const std::string& value) {
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> msg(factory.GetPrototype(m->input_type())->New());
  if (!field.empty()) {
    const FieldDescriptor* f = m->input_type()->FindFieldByName(field);
    REQUIRE(f != nullptr);
    msg->GetReflection()->SetString(msg.get(), f, value);
  }
  return msg->SerializeAsString();
}

std::unique_ptr<grpc::ClientContext> As(const std::string& token,
                                        std::chrono::seconds deadline = 10s) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + deadline);
  c->AddMetadata("authorization", "Bearer " + token);
  return c;
}

std::string Metrics(int port) {
  return Run("curl -s http://127.0.0.1:" + std::to_string(port) + "/metrics");
}

double Gauge(const std::string& metrics, const std::string& name) {
  auto at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + name.size() + 2));
}

v1::SubmitRequestRequest Request(const std::string& key, const std::string& text) {
  v1::SubmitRequestRequest r;
  r.set_channel(v1::CHANNEL_WEB);
  r.set_idempotency_key(key);
  r.set_text(text);
  r.mutable_contact()->set_phone("13812345678");
  r.mutable_location()->set_district("东湖区");
  r.mutable_location()->set_address("解放路 " + key + " 号");
  return r;
}

}  // namespace

TEST_CASE("every RPC has an authorization entry, and every declared limit names a real field") {
  std::map<std::string, const ApiPolicy*> policies = {
      {"IntakeService", &intake::IntakeApi()},
      {"TriageService", &dispatch::DispatchApi()},
      {"DepartmentService", &dispatch::DispatchApi()},
      {"SupervisionService", &dispatch::DispatchApi()},
      {"SlaService", &sla::SlaApi()},
      {"IvrRoutingService", &ivr_routing::IvrRoutingApi()},
      {"SurveyService", &survey::SurveyApi()},
      {"AnalyticsService", &analytics::AnalyticsApi()}};
  size_t methods = 0;
  for (const auto* svc : OurServices()) {
    INFO(svc->full_name());
    REQUIRE(policies.count(svc->name()));
    const ApiPolicy& p = *policies[svc->name()];
    for (int i = 0; i < svc->method_count(); ++i) {
      const auto* m = svc->method(i);
      const std::string key = svc->name() + "/" + m->name();
      INFO(key);
      auto rule = p.methods.find(key);
      REQUIRE(rule != p.methods.end());
      CHECK_FALSE(rule->second.roles.empty());
      if (!rule->second.department_field.empty()) {
        CHECK(m->input_type()->FindFieldByName(rule->second.department_field) != nullptr);
      }
      ++methods;
    }
    for (const auto& [field, max] : p.max_bytes) {
      INFO(field);
      CHECK(DescriptorPool::generated_pool()->FindFieldByName(field) != nullptr);
      CHECK(max > 0);
    }
    // No rule for a method that does not exist.
    for (const auto& [key, rule] : p.methods) {
      const std::string service = key.substr(0, key.find('/'));
      const auto* sd = DescriptorPool::generated_pool()->FindServiceByName("hotline.v1." + service);
      REQUIRE(sd != nullptr);
      CHECK(sd->FindMethodByName(key.substr(key.find('/') + 1)) != nullptr);
    }
  }
  CHECK(methods >= 32);
}

TEST_CASE(
    "authorization matrix: every RPC of every service × every role, enforced by the servers") {
  Suite& s = S();
  int calls = 0;
  for (const auto* svc : OurServices()) {
    const auto& host = s.hosts.at(svc->name());
    for (int i = 0; i < svc->method_count(); ++i) {
      const auto* m = svc->method(i);
      if (m->server_streaming() || m->client_streaming()) continue;  // see the stream case below
      const std::string key = svc->name() + "/" + m->name();
      const std::string path = "/" + svc->full_name() + "/" + m->name();
      const MethodRule& rule = host.policy->methods.at(key);
      INFO(key);
      // No token at all: UNAUTHENTICATED, for every RPC.
      CHECK(RawCall(host.addr, path, "", RequestBytes(m, "", "")).error_code() ==
            grpc::StatusCode::UNAUTHENTICATED);
      CHECK(RawCall(host.addr, path, "forged", RequestBytes(m, "", "")).error_code() ==
            grpc::StatusCode::UNAUTHENTICATED);
      for (const auto& [token, who] : Tokens()) {
        INFO(token);
        const bool allowed = rule.roles.count(who.first) > 0;
        grpc::Status st = RawCall(host.addr, path, token, RequestBytes(m, "", ""));
        ++calls;
        if (allowed) {
          CHECK(st.error_code() != grpc::StatusCode::PERMISSION_DENIED);
          CHECK(st.error_code() != grpc::StatusCode::UNAUTHENTICATED);
        } else {
          CHECK(st.error_code() == grpc::StatusCode::PERMISSION_DENIED);
        }
        if (allowed && who.first == Role::kDepartment && !rule.department_field.empty()) {
          // A department naming another department is refused; naming itself is not.
          const std::string other = who.second == kDeptA ? kDeptB : kDeptA;
          CHECK(RawCall(host.addr, path, token, RequestBytes(m, rule.department_field, other))
                    .error_code() == grpc::StatusCode::PERMISSION_DENIED);
          CHECK(RawCall(host.addr, path, token, RequestBytes(m, rule.department_field, who.second))
                    .error_code() != grpc::StatusCode::PERMISSION_DENIED);
        }
      }
    }
  }
  CHECK(calls >= 32 * 8);
}

TEST_CASE("the department stream passes the same table: roles and departments") {
  Suite& s = S();
  auto dept = v1::DepartmentService::NewStub(
      grpc::CreateChannel(s.dispatch.grpc_addr(), grpc::InsecureChannelCredentials()));
  auto open = [&](const std::string& token, const std::string& department) {
    v1::StreamAssignedTicketsRequest req;
    req.set_department_id(department);
    auto ctx = As(token, 3s);
    auto reader = dept->StreamAssignedTickets(ctx.get(), req);
    v1::StreamAssignedTicketsResponse msg;
    while (reader->Read(&msg)) {
    }
    return reader->Finish().error_code();
  };
  CHECK(open("tok-channel-0123456789abcdef", kDeptA) == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(open("tok-analyst-0123456789abcdef", kDeptA) == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(open("tok-dept-b-0123456789abcdef", kDeptA) == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(open("", kDeptA) == grpc::StatusCode::UNAUTHENTICATED);
  // Allowed: the stream stays open until the client's deadline.
  CHECK(open("tok-dept-a-0123456789abcdef", kDeptA) == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(open("tok-dept-a-0123456789abcdef", "") == grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_CASE("oversized input is refused naming the field, before anything is stored") {
  Suite& s = S();
  auto dept = v1::DepartmentService::NewStub(
      grpc::CreateChannel(s.dispatch.grpc_addr(), grpc::InsecureChannelCredentials()));
  RedisClient redis(RedisEndpoint{"127.0.0.1", s.dispatch_redis.port(), 0, ""});
  auto before = redis.Command({"LLEN", "dispatch:outbox"});
  REQUIRE(before.ok());

  v1::RequestExtensionRequest req;
  req.set_ticket_id("any");
  req.set_reason(std::string(3000, 'x'));
  v1::RequestExtensionResponse resp;
  auto st = dept->RequestExtension(As("tok-dept-a-0123456789abcdef").get(), req, &resp);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message() == "reason: is 3000 bytes long, at most 2000 allowed");

  // 1.5 MB: gRPC's own receive limit (HOTLINE_GRPC_MAX_MESSAGE_BYTES, 1 MiB) refuses it unread.
  req.set_reason(std::string(1500 * 1000, 'x'));
  st = dept->RequestExtension(As("tok-dept-a-0123456789abcdef").get(), req, &resp);
  CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);

  auto intake = v1::IntakeService::NewStub(
      grpc::CreateChannel(s.intake.grpc_addr(), grpc::InsecureChannelCredentials()));
  auto sub = Request("big-address", "路灯坏了");
  sub.mutable_location()->set_address(std::string(801, 'a'));
  v1::SubmitRequestResponse sresp;
  st = intake->SubmitRequest(As("tok-channel-0123456789abcdef").get(), sub, &sresp);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message() == "location.address: is 801 bytes long, at most 800 allowed");

  auto after = redis.Command({"LLEN", "dispatch:outbox"});
  REQUIRE(after.ok());
  CHECK(after->integer == before->integer);
}

TEST_CASE("undecodable requests and foreign page tokens are INVALID_ARGUMENT with a reason") {
  Suite& s = S();
  grpc::Status st =
      RawCall(s.intake.grpc_addr(), "/hotline.v1.IntakeService/SubmitRequest",
              "tok-channel-0123456789abcdef", std::string("\xff\xff\xff\xff\x0f garbage", 14));
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message() == "request: not a valid hotline.v1.SubmitRequestRequest message");
  // Garbage without a token is still UNAUTHENTICATED first.
  st = RawCall(s.intake.grpc_addr(), "/hotline.v1.IntakeService/SubmitRequest", "", "\xff\xff");
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);

  auto triage = v1::TriageService::NewStub(
      grpc::CreateChannel(s.dispatch.grpc_addr(), grpc::InsecureChannelCredentials()));
  v1::ListTriageRequest lt;
  lt.mutable_page()->set_page_token("999999999999999999999999");
  v1::ListTriageResponse lresp;
  st = triage->ListTriage(As("tok-dispatcher-0123456789abcdef").get(), lt, &lresp);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message() == "page.page_token: not a token this API issued");
  CHECK(st.error_message().find("redis") == std::string::npos);
}

TEST_CASE("a department sees only its own SLA clocks, at-risk list and cards") {
  Suite& s = S();
  auto intake = v1::IntakeService::NewStub(
      grpc::CreateChannel(s.intake.grpc_addr(), grpc::InsecureChannelCredentials()));
  auto triage = v1::TriageService::NewStub(
      grpc::CreateChannel(s.dispatch.grpc_addr(), grpc::InsecureChannelCredentials()));
  auto dept = v1::DepartmentService::NewStub(
      grpc::CreateChannel(s.dispatch.grpc_addr(), grpc::InsecureChannelCredentials()));
  auto sla = v1::SlaService::NewStub(
      grpc::CreateChannel(s.sla.grpc_addr(), grpc::InsecureChannelCredentials()));

  v1::SubmitRequestResponse sub;
  REQUIRE(intake
              ->SubmitRequest(As("tok-channel-0123456789abcdef").get(),
                              Request("sla-scope-1", "小区楼道的墙皮大面积脱落，存在安全隐患"),
                              &sub)
              .ok());
  REQUIRE(sub.outcome() == v1::SUBMIT_OUTCOME_CREATED);
  const std::string id = sub.ticket().ticket_id();

  // Wait for dispatch, then make sure it is department A's (a dispatcher re-assigns if needed).
  v1::GetDispatchedTicketRequest g;
  g.set_ticket_id(id);
  v1::GetDispatchedTicketResponse got;
  REQUIRE(WaitFor(
      [&] {
        return dept->GetDispatchedTicket(As("tok-supervisor-0123456789abcdef").get(), g, &got)
                   .ok() &&
               !got.ticket().department_id().empty();
      },
      30s));
  if (got.ticket().department_id() != kDeptA) {
    v1::ReturnTicketRequest r;
    r.set_ticket_id(id);
    r.set_department_id(got.ticket().department_id());
    r.set_reason("not ours");
    v1::ReturnTicketResponse rr;
    REQUIRE(dept->ReturnTicket(As("tok-supervisor-0123456789abcdef").get(), r, &rr).ok());
    v1::AssignTicketRequest a;
    a.set_ticket_id(id);
    a.set_department_id(kDeptA);
    v1::AssignTicketResponse ar;
    REQUIRE(triage->AssignTicket(As("tok-dispatcher-0123456789abcdef").get(), a, &ar).ok());
  }
  v1::GetTicketClocksRequest cr;
  cr.set_ticket_id(id);
  v1::GetTicketClocksResponse clocks;
  REQUIRE(WaitFor(
      [&] {
        clocks.Clear();
        if (!sla->GetTicketClocks(As("tok-supervisor-0123456789abcdef").get(), cr, &clocks).ok())
          return false;
        for (const auto& c : clocks.clocks()) {
          if (c.department_id() == kDeptA) return true;
        }
        return false;
      },
      30s));

  v1::GetTicketClocksResponse own, other;
  REQUIRE(sla->GetTicketClocks(As("tok-dept-a-0123456789abcdef").get(), cr, &own).ok());
  CHECK(own.clocks_size() > 0);
  for (const auto& c : own.clocks()) CHECK(c.department_id() == kDeptA);
  auto st = sla->GetTicketClocks(As("tok-dept-b-0123456789abcdef").get(), cr, &other);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(other.clocks_size() == 0);

  v1::ListAtRiskRequest ar;
  ar.set_department_id(kDeptA);
  ar.set_min_percent_elapsed(1);
  v1::ListAtRiskResponse arr;
  CHECK(sla->ListAtRisk(As("tok-dept-b-0123456789abcdef").get(), ar, &arr).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::ListCardsRequest lc;
  lc.set_department_id(kDeptA);
  v1::ListCardsResponse lcr;
  CHECK(sla->ListCards(As("tok-dept-b-0123456789abcdef").get(), lc, &lcr).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // Naming nothing, a department gets its own list, never everyone's.
  lc.clear_department_id();
  REQUIRE(sla->ListCards(As("tok-dept-b-0123456789abcdef").get(), lc, &lcr).ok());
  for (const auto& c : lcr.cards()) CHECK(c.department_id() == kDeptB);
}

TEST_CASE("a frozen Redis makes the service unready and calls fail fast with UNAVAILABLE") {
  Suite& s = S();
  auto intake = v1::IntakeService::NewStub(
      grpc::CreateChannel(s.intake.grpc_addr(), grpc::InsecureChannelCredentials()));
  REQUIRE(HealthCheck(s.intake.grpc_addr()) == 0);
  const std::string pid = Run("redis-cli -p " + std::to_string(s.intake_redis.port()) +
                              " info server | "
                              "sed -n 's/^process_id:\\([0-9]*\\).*/\\1/p'");
  const pid_t redis_pid = std::stoi(pid);
  REQUIRE(redis_pid > 0);
  kill(redis_pid, SIGSTOP);
  struct Cont {
    pid_t p;
    ~Cont() { kill(p, SIGCONT); }
  } cont{redis_pid};

  auto t0 = std::chrono::steady_clock::now();
  CHECK(WaitFor([&] { return HealthCheck(s.intake.grpc_addr()) != 0; }, 3s, 50ms));
  const auto unready_after = std::chrono::steady_clock::now() - t0;
  CHECK(unready_after < 3s);
  CHECK(Gauge(Metrics(s.intake.metrics_port()), "hotline_ready") == 0);

  v1::SubmitRequestResponse resp;
  t0 = std::chrono::steady_clock::now();
  auto st = intake->SubmitRequest(As("tok-channel-0123456789abcdef").get(),
                                  Request("frozen-1", "路灯不亮"), &resp);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(st.error_message().find("not ready") != std::string::npos);
  CHECK(took < 1s);  // refused at the gate, not after a Redis timeout

  kill(redis_pid, SIGCONT);
  CHECK(WaitFor([&] { return HealthCheck(s.intake.grpc_addr()) == 0; }, 10s));
  CHECK(intake
            ->SubmitRequest(As("tok-channel-0123456789abcdef").get(),
                            Request("frozen-2", "路灯不亮了"), &resp)
            .ok());
}

TEST_CASE(
    "with the broker down intake stays ready, keeps accepting, and the outbox gauge shows it") {
  Suite& s = S();
  auto intake = v1::IntakeService::NewStub(
      grpc::CreateChannel(s.intake.grpc_addr(), grpc::InsecureChannelCredentials()));
  s.broker.Down();
  struct Up {
    const DevBroker& b;
    ~Up() { b.Up(); }
  } up{s.broker};
  for (int i = 0; i < 20; ++i) {
    v1::SubmitRequestResponse resp;
    auto st = intake->SubmitRequest(
        As("tok-channel-0123456789abcdef").get(),
        Request("down-" + std::to_string(i), "第" + std::to_string(i) + "个井盖丢失"), &resp);
    REQUIRE(st.ok());
  }
  CHECK(HealthCheck(s.intake.grpc_addr()) == 0);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(WaitFor(
      [&] { return Gauge(Metrics(s.intake.metrics_port()), "hotline_outbox_pending") >= 1; }, 5s,
      50ms));
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  s.broker.Up();
  CHECK(WaitFor(
      [&] { return Gauge(Metrics(s.intake.metrics_port()), "hotline_outbox_pending") == 0; }, 60s,
      200ms));
}
