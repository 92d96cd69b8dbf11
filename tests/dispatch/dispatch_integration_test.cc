// dispatch against real processes: redis-server, the dev broker and the hotline-dispatch binary,
// fed TicketCreated events over Kafka as intake would publish them.
#include <dirent.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "absl/time/clock.h"
#include "hotline/v1/dispatch.grpc.pb.h"
#include "services/common/events.h"
#include "services/common/kafka_producer.h"
#include "services/common/redis_client.h"
#include "services/dispatch/classifier.h"
#include "tests/support/demo_model.h"
#include "tests/support/kafka_reader.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;
using namespace std::chrono_literals;

namespace {

std::string TrainDemoModel(const std::string& dir) {
  auto data = DemoTrainingData();
  REQUIRE(data.ok());
  auto path = TrainModel(*data, 10, "test-1", 0.5, dir + "/model.bin");
  REQUIRE(path.ok());
  return *path;
}

struct Stack {
  TempDir dir;
  RedisServer redis;
  DevBroker broker;
  std::string model = TrainDemoModel(dir.path());
  ServiceProcess dispatch{
      HOTLINE_DISPATCH_BIN,
      redis.url(),
      broker.bootstrap(),
      {"DISPATCH_MODEL=" + model,
       "DISPATCH_DEPARTMENTS=" HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv",
       "DISPATCH_RESPONSIBILITY=" HOTLINE_REPO_DIR "/deploy/dispatch/responsibility.tsv",
       "DISPATCH_MODEL_RELOAD_SECONDS=1", "DISPATCH_MAX_STREAMS=20"}};
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(dispatch.grpc_addr(), grpc::InsecureChannelCredentials());
  std::unique_ptr<v1::TriageService::Stub> triage = v1::TriageService::NewStub(channel);
  std::unique_ptr<v1::DepartmentService::Stub> dept = v1::DepartmentService::NewStub(channel);
  std::unique_ptr<v1::SupervisionService::Stub> centre = v1::SupervisionService::NewStub(channel);
  std::unique_ptr<KafkaProducer> producer = TestProducer(broker.bootstrap(), "dispatch-test");
  RedisClient redis_client{RedisEndpoint{"127.0.0.1", redis.port(), 0, ""}};
};

Stack& S() {
  static Stack s;
  return s;
}

std::unique_ptr<grpc::ClientContext> Ctx() { return CallContext(); }

// Publishes a TicketCreated as intake would and returns its envelope.
v1::EventEnvelope Created(const std::string& text, const std::string& district = "东湖区") {
  auto id = NewUuid();
  auto e = NewEnvelope("intake", id, 1);
  auto* c = e.mutable_ticket_created();
  c->set_ticket_id(id);
  c->set_ticket_number("T-" + id.substr(0, 8));
  c->set_text(text);
  c->set_type(v1::TICKET_TYPE_COMPLAINT);
  c->set_urgency(v1::URGENCY_NORMAL);
  c->set_channel(v1::CHANNEL_WEB);
  c->mutable_location()->set_district(district);
  REQUIRE(S().producer->PublishSync(kTicketsTopic, id, e.SerializeAsString(), {}, 10s).ok());
  return e;
}

std::vector<v1::EventEnvelope> DispatchEventsFor(const std::string& id, size_t at_least) {
  std::vector<v1::EventEnvelope> out;
  WaitFor(
      [&] {
        out.clear();
        for (const auto& m : ReadTopic(S().broker.bootstrap(), kTicketsTopic, SIZE_MAX, 1500ms)) {
          v1::EventEnvelope e;
          if (m.key == id && e.ParseFromString(m.value) && e.source() == "dispatch")
            out.push_back(e);
        }
        return out.size() >= at_least;
      },
      30s, 200ms);
  return out;
}

v1::DispatchedTicket Ticket(const std::string& id) {
  v1::GetDispatchedTicketRequest r;
  r.set_ticket_id(id);
  v1::GetDispatchedTicketResponse resp;
  REQUIRE(S().dept->GetDispatchedTicket(Ctx().get(), r, &resp).ok());
  return resp.ticket();
}

v1::DispatchedTicket WaitRouted(const std::string& id) {
  v1::DispatchedTicket t;
  REQUIRE(WaitFor(
      [&] {
        v1::GetDispatchedTicketRequest r;
        r.set_ticket_id(id);
        v1::GetDispatchedTicketResponse resp;
        if (!S().dept->GetDispatchedTicket(Ctx().get(), r, &resp).ok()) return false;
        t = resp.ticket();
        return true;
      },
      30s, 100ms));
  return t;
}

std::string Metrics() {
  int rc = 0;
  return Run("curl -s http://127.0.0.1:" + std::to_string(S().dispatch.metrics_port()) + "/metrics",
             &rc);
}

int Threads(pid_t pid) {
  int n = 0;
  if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str())) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

// A dispatched ticket, accepted by its department.
v1::DispatchedTicket AcceptedTicket(const std::string& text, const std::string& district) {
  auto e = Created(text, district);
  auto t = WaitRouted(e.key());
  if (t.department_id().empty()) {  // queued for triage by a less confident model
    v1::AssignTicketRequest a;
    a.set_ticket_id(t.ticket_id());
    a.set_department_id("d-eco");
    v1::AssignTicketResponse aresp;
    REQUIRE(S().triage->AssignTicket(Ctx().get(), a, &aresp).ok());
    t = aresp.ticket();
  }
  v1::AcceptTicketRequest ar;
  ar.set_ticket_id(t.ticket_id());
  ar.set_department_id(t.department_id());
  v1::AcceptTicketResponse aresp;
  REQUIRE(S().dept->AcceptTicket(Ctx().get(), ar, &aresp).ok());
  return aresp.ticket();
}

}  // namespace

TEST_CASE("a TicketCreated leads to exactly one TicketDispatched, even when redelivered") {
  auto e = Created("东湖路18号的化工厂偷排污水到河里，河水发黑发臭", "东湖区");
  // The same event again (a producer retry or a replay): applied once.
  REQUIRE(S().producer->PublishSync(kTicketsTopic, e.key(), e.SerializeAsString(), {}, 10s).ok());
  auto t = WaitRouted(e.key());
  CHECK(t.state() == v1::TICKET_STATE_DISPATCHED);
  CHECK(t.department_id() == "d-eco");
  CHECK(t.category().code() == "环境保护");
  CHECK(t.automatic());
  CHECK(t.model_version() == "test-1");
  auto events = DispatchEventsFor(e.key(), 1);
  std::this_thread::sleep_for(1s);
  events = DispatchEventsFor(e.key(), 1);
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].has_ticket_dispatched());
  CHECK(events[0].ticket_dispatched().department_id() == "d-eco");
  CHECK(events[0].ticket_dispatched().confidence() >= 0.5);
}

TEST_CASE("a district override routes a city-construction ticket to the district government") {
  auto e = Created("西山大道3号的路灯坏了好几天，晚上很黑", "西山区");
  auto t = WaitRouted(e.key());
  CHECK(t.category().code() == "城乡建设");
  CHECK(t.department_id() == "d-xishan");
}

TEST_CASE("accept, reply, close; other departments and illegal moves are refused") {
  auto e = Created("枫林路8号的烧烤店油烟很大，晚上噪音扰民", "西山区");
  auto t = WaitRouted(e.key());
  REQUIRE(t.state() == v1::TICKET_STATE_DISPATCHED);
  const std::string dept = t.department_id();

  v1::AcceptTicketRequest ar;
  ar.set_ticket_id(t.ticket_id());
  ar.set_department_id("d-edu");
  v1::AcceptTicketResponse aresp;
  CHECK(S().dept->AcceptTicket(Ctx().get(), ar, &aresp).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::GetDispatchedTicketRequest gr;
  gr.set_ticket_id(t.ticket_id());
  gr.set_department_id("d-edu");
  v1::GetDispatchedTicketResponse gresp;
  CHECK(S().dept->GetDispatchedTicket(Ctx().get(), gr, &gresp).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  v1::CloseTicketRequest cr;
  cr.set_ticket_id(t.ticket_id());
  v1::CloseTicketResponse cresp;
  auto s = S().centre->CloseTicket(Ctx().get(), cr, &cresp);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message().find("TICKET_STATE_DISPATCHED") != std::string::npos);

  ar.set_department_id(dept);
  REQUIRE(S().dept->AcceptTicket(Ctx().get(), ar, &aresp).ok());
  CHECK(aresp.ticket().state() == v1::TICKET_STATE_ACCEPTED);
  CHECK(S().dept->AcceptTicket(Ctx().get(), ar, &aresp).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  v1::ReplyTicketRequest rr;
  rr.set_ticket_id(t.ticket_id());
  rr.set_department_id(dept);
  v1::ReplyTicketResponse rresp;
  CHECK(S().dept->ReplyTicket(Ctx().get(), rr, &rresp).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  rr.set_resolution("已约谈店主，加装油烟净化器，22点后停止营业");
  REQUIRE(S().dept->ReplyTicket(Ctx().get(), rr, &rresp).ok());
  REQUIRE(S().centre->CloseTicket(Ctx().get(), cr, &cresp).ok());
  CHECK(cresp.ticket().state() == v1::TICKET_STATE_CLOSED);

  auto events = DispatchEventsFor(t.ticket_id(), 4);
  REQUIRE(events.size() == 4);
  CHECK(events[0].has_ticket_dispatched());
  CHECK(events[1].has_ticket_accepted());
  CHECK(events[2].has_ticket_replied());
  CHECK(events[3].has_ticket_closed());
  CHECK(events[3].aggregate_version() == 4);
}

TEST_CASE("return goes back to triage; a dispatcher re-dispatches and the label is kept") {
  auto e = Created("公司拖欠三个月工资，老板联系不上", "南港区");
  auto t = WaitRouted(e.key());
  v1::ReturnTicketRequest rr;
  rr.set_ticket_id(t.ticket_id());
  rr.set_department_id(t.department_id());
  v1::ReturnTicketResponse rresp;
  CHECK(S().dept->ReturnTicket(Ctx().get(), rr, &rresp).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  rr.set_reason("属于劳动仲裁，不是本单位职责");
  REQUIRE(S().dept->ReturnTicket(Ctx().get(), rr, &rresp).ok());
  CHECK(rresp.ticket().state() == v1::TICKET_STATE_RETURNED);

  v1::ListTriageRequest lr;
  v1::ListTriageResponse lresp;
  REQUIRE(S().triage->ListTriage(Ctx().get(), lr, &lresp).ok());
  bool queued = false;
  for (const auto& q : lresp.tickets()) queued |= q.ticket_id() == t.ticket_id();
  CHECK(queued);

  v1::AssignTicketRequest as;
  as.set_ticket_id(t.ticket_id());
  as.set_department_id("d-nangang");
  as.set_category_code("城乡建设");
  v1::AssignTicketResponse asresp;
  REQUIRE(S().triage->AssignTicket(Ctx().get(), as, &asresp).ok());
  CHECK(asresp.ticket().state() == v1::TICKET_STATE_DISPATCHED);
  CHECK(asresp.ticket().department_id() == "d-nangang");
  CHECK_FALSE(asresp.ticket().automatic());
  REQUIRE(S().triage->ListTriage(Ctx().get(), lr, &lresp).ok());
  for (const auto& q : lresp.tickets()) CHECK(q.ticket_id() != t.ticket_id());

  auto labels = S().redis_client.Command({"LRANGE", "dispatch:labels", "0", "-1"});
  REQUIRE(labels.ok());
  bool corrected = false, returned = false;
  for (const auto& l : labels->elements) {
    corrected |= l.str.rfind("城乡建设\t公司拖欠三个月工资", 0) == 0;
    returned |= l.str.find("\treturn:") != std::string::npos;
  }
  CHECK(corrected);
  CHECK(returned);
  // The old department can no longer act on it.
  v1::AcceptTicketRequest ar;
  ar.set_ticket_id(t.ticket_id());
  ar.set_department_id(t.department_id());
  v1::AcceptTicketResponse aresp;
  CHECK(S().dept->AcceptTicket(Ctx().get(), ar, &aresp).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("an extension is requested, then granted or refused by the centre") {
  auto e = Created("科技大道5号公交站没有遮雨棚，下雨天等车全身湿透", "东湖区");
  auto t = WaitRouted(e.key());
  v1::AcceptTicketRequest ar;
  ar.set_ticket_id(t.ticket_id());
  ar.set_department_id(t.department_id());
  v1::AcceptTicketResponse aresp;
  REQUIRE(S().dept->AcceptTicket(Ctx().get(), ar, &aresp).ok());

  v1::RequestExtensionRequest er;
  er.set_ticket_id(t.ticket_id());
  er.set_department_id(t.department_id());
  er.set_reason("需要规划部门审批选址");
  *er.mutable_requested_deadline() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1893456000);
  v1::RequestExtensionResponse eresp;
  REQUIRE(S().dept->RequestExtension(Ctx().get(), er, &eresp).ok());
  CHECK(eresp.ticket().state() == v1::TICKET_STATE_EXTENSION_REQUESTED);

  v1::DecideExtensionRequest dr;
  dr.set_ticket_id(t.ticket_id());
  dr.set_approve(true);
  v1::DecideExtensionResponse dresp;
  REQUIRE(S().centre->DecideExtension(Ctx().get(), dr, &dresp).ok());
  CHECK(dresp.ticket().state() == v1::TICKET_STATE_EXTENSION_GRANTED);
  CHECK(S().centre->DecideExtension(Ctx().get(), dr, &dresp).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  auto events = DispatchEventsFor(t.ticket_id(), 4);
  REQUIRE(events.size() >= 4);
  REQUIRE(events[3].has_extension_granted());
  CHECK(events[3].extension_granted().new_deadline().seconds() == 1893456000);
}

TEST_CASE("extension deadlines in the past are refused naming the field, and nothing is stored") {
  auto t = AcceptedTicket("东湖路20号的工厂夜里排放黑烟，气味刺鼻", "东湖区");
  v1::RequestExtensionRequest er;
  er.set_ticket_id(t.ticket_id());
  er.set_department_id(t.department_id());
  er.set_reason("需要环境监测报告");
  *er.mutable_requested_deadline() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1500000000);  // 2017
  v1::RequestExtensionResponse eresp;
  auto s = S().dept->RequestExtension(Ctx().get(), er, &eresp);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("requested_deadline: 2017-07-14T02:40:00+00:00 is in the past",
                                0) == 0);
  auto stored = Ticket(t.ticket_id());
  CHECK(stored.state() == v1::TICKET_STATE_ACCEPTED);
  CHECK_FALSE(stored.has_requested_deadline());

  // A request whose deadline passes before the centre decides cannot be granted as it stands.
  auto soon = std::chrono::system_clock::now() + 2s;
  *er.mutable_requested_deadline() = google::protobuf::util::TimeUtil::TimeTToTimestamp(
      std::chrono::system_clock::to_time_t(soon) + 1);
  REQUIRE(S().dept->RequestExtension(Ctx().get(), er, &eresp).ok());
  CHECK(eresp.ticket().requested_deadline().seconds() ==
        er.requested_deadline().seconds());  // stored with the state
  std::this_thread::sleep_for(std::chrono::seconds(er.requested_deadline().seconds()) -
                              std::chrono::system_clock::now().time_since_epoch() + 100ms);
  v1::DecideExtensionRequest dr;
  dr.set_ticket_id(t.ticket_id());
  dr.set_approve(true);
  v1::DecideExtensionResponse dresp;
  s = S().centre->DecideExtension(Ctx().get(), dr, &dresp);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("new_deadline: ", 0) == 0);
  *dr.mutable_new_deadline() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1500000000);
  s = S().centre->DecideExtension(Ctx().get(), dr, &dresp);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("new_deadline: 2017-07-14T02:40:00+00:00 is in the past", 0) == 0);
  CHECK(Ticket(t.ticket_id()).state() == v1::TICKET_STATE_EXTENSION_REQUESTED);
  *dr.mutable_new_deadline() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1893456000);
  REQUIRE(S().centre->DecideExtension(Ctx().get(), dr, &dresp).ok());
  CHECK(dresp.ticket().state() == v1::TICKET_STATE_EXTENSION_GRANTED);
  CHECK(dresp.ticket().granted_deadline().seconds() == 1893456000);
}

TEST_CASE(
    "a department's stream delivers its tickets, only its tickets, and resumes from a cursor") {
  // Open the stream first, then create one ticket for it and one for another department.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 30s);
  v1::StreamAssignedTicketsRequest req;
  req.set_department_id("d-hrss");
  auto reader = S().dept->StreamAssignedTickets(&ctx, req);
  auto mine = Created("单位不给员工买社保，也不签劳动合同", "北城区");
  auto other = Created("北城中路10号的化工厂有刺鼻气味，晚上更严重", "北城区");
  WaitRouted(other.key());
  v1::StreamAssignedTicketsResponse msg;
  std::vector<v1::StreamAssignedTicketsResponse> got;
  while (reader->Read(&msg)) {
    got.push_back(msg);
    CHECK(msg.ticket().department_id() == "d-hrss");
    CHECK(msg.ticket().ticket_id() != other.key());
    if (msg.ticket().ticket_id() == mine.key()) break;
  }
  ctx.TryCancel();
  REQUIRE_FALSE(got.empty());
  CHECK(got.back().ticket().ticket_id() == mine.key());

  // Resuming after the last cursor: nothing old is replayed; a new ticket arrives.
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + 30s);
  req.set_after_cursor(got.back().cursor());
  auto resumed = S().dept->StreamAssignedTickets(&ctx2, req);
  auto next = Created("工伤认定很久没有结果，单位不配合", "北城区");
  REQUIRE(resumed->Read(&msg));
  CHECK(msg.ticket().ticket_id() == next.key());
  ctx2.TryCancel();

  grpc::ClientContext ctx3;
  req.set_after_cursor("garbage");
  auto bad = S().dept->StreamAssignedTickets(&ctx3, req);
  CHECK_FALSE(bad->Read(&msg));
  CHECK(bad->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE(
    "department streams share one notifier thread, fan out, and are capped by "
    "DISPATCH_MAX_STREAMS") {
  // Earlier tests' streams are gone once the gauge says so.
  REQUIRE(
      WaitFor([] { return Metrics().find("hotline_dispatch_open_streams 0") != std::string::npos; },
              10s, 100ms));
  const pid_t pid = S().dispatch.process().pid();
  const int before = Threads(pid);
  constexpr int kStreams = 20;  // = DISPATCH_MAX_STREAMS of this stack
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::StreamAssignedTicketsResponse>>> readers;
  for (int i = 0; i < kStreams; ++i) {
    ctxs.push_back(std::make_unique<grpc::ClientContext>());
    ctxs.back()->set_deadline(std::chrono::system_clock::now() + 60s);
    v1::StreamAssignedTicketsRequest req;
    req.set_department_id(i % 2 ? "d-hrss" : "d-eco");
    // Resume from "now": only tickets assigned from here on.
    req.set_after_cursor(std::to_string(absl::ToUnixMillis(absl::Now())) + "-0");
    readers.push_back(S().dept->StreamAssignedTickets(ctxs.back().get(), req));
    readers.back()->WaitForInitialMetadata();  // the server has registered it
  }
  const int after = Threads(pid);
  WARN("dispatch threads: " << before << " before, " << after << " with " << kStreams
                            << " streams open");
  CHECK(after - before < kStreams / 4);  // one thread per stream would add 20
  CHECK(Metrics().find("hotline_dispatch_open_streams 20") != std::string::npos);

  // Past the cap: refused at once.
  grpc::ClientContext extra_ctx;
  extra_ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::StreamAssignedTicketsRequest req;
  req.set_department_id("d-eco");
  auto t0 = std::chrono::steady_clock::now();
  auto extra = S().dept->StreamAssignedTickets(&extra_ctx, req);
  v1::StreamAssignedTicketsResponse msg;
  CHECK_FALSE(extra->Read(&msg));
  auto refused = extra->Finish();
  CHECK(refused.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(refused.error_message().find("DISPATCH_MAX_STREAMS") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);

  // One new d-hrss ticket reaches every d-hrss stream.
  auto e = Created("公司拖欠加班费，也不给员工缴纳社保", "北城区");
  auto t = WaitRouted(e.key());
  if (t.department_id() == "d-hrss") {
    for (int i = 1; i < kStreams; i += 2) {
      REQUIRE(readers[i]->Read(&msg));
      CHECK(msg.ticket().ticket_id() == e.key());
    }
  } else {
    WARN("the model routed the test ticket to " << t.department_id() << "; fan-out not checked");
  }
  for (auto& c : ctxs) c->TryCancel();
  for (auto& r : readers) r->Finish();
  // Closed streams free their slots.
  CHECK(
      WaitFor([] { return Metrics().find("hotline_dispatch_open_streams 0") != std::string::npos; },
              10s, 100ms));
}

TEST_CASE("dispatch's metrics count decisions and name the model") {
  int rc = 0;
  std::string m = Run(
      "curl -s http://127.0.0.1:" + std::to_string(S().dispatch.metrics_port()) + "/metrics", &rc);
  CHECK(m.find("hotline_dispatch_decisions_total{mode=\"auto\"}") != std::string::npos);
  CHECK(m.find("hotline_dispatch_decisions_total{mode=\"manual\"}") != std::string::npos);
  CHECK(m.find("hotline_dispatch_model_info{version=\"test-1\"} 1") != std::string::npos);
  CHECK(m.find("hotline_dispatch_returns_total{department=") != std::string::npos);
  CHECK(m.find("hotline_dispatch_classification_seconds_count") != std::string::npos);
}

TEST_CASE("a new model file is picked up without a restart") {
  auto data = DemoTrainingData();
  REQUIRE(data.ok());
  // Written beside and renamed into place.
  REQUIRE(TrainModel(*data, 3, "test-2", 0.5, S().model).ok());
  CHECK(WaitFor(
      [] {
        int rc = 0;
        std::string metrics = Run(
            "curl -s http://127.0.0.1:" + std::to_string(S().dispatch.metrics_port()) + "/metrics",
            &rc);
        return metrics.find("hotline_dispatch_model_info{version=\"test-2\"} 1") !=
               std::string::npos;
      },
      15s, 250ms));
  auto e = Created("滨江东路的餐馆缺斤短两，投诉", "滨江区");
  auto t = WaitRouted(e.key());
  CHECK(t.model_version() == "test-2");
}

TEST_CASE(
    "a malformed model file written while dispatch runs is logged and the previous model kept") {
  std::string metrics = Metrics();
  auto at = metrics.find("hotline_dispatch_model_info{version=\"");
  REQUIRE(at != std::string::npos);
  at += std::string("hotline_dispatch_model_info{version=\"").size();
  std::string current = metrics.substr(at, metrics.find('"', at) - at);
  while (metrics.find("hotline_dispatch_model_info{version=\"" + current + "\"} 1") ==
         std::string::npos) {
    // the first match was a retired model (value 0); find the one in use
    at = metrics.find("hotline_dispatch_model_info{version=\"", at);
    REQUIRE(at != std::string::npos);
    at += std::string("hotline_dispatch_model_info{version=\"").size();
    current = metrics.substr(at, metrics.find('"', at) - at);
  }
  // Renamed into place, as a deployment would; the header's threshold is not a number.
  std::string tmp = S().model + ".bad";
  std::ofstream(tmp)
      << "hotline-text-classifier 1\nversion broken-1\nthreshold abc\nbuckets_log2 18\n"
         "labels a\tb\nweights\n";
  REQUIRE(std::rename(tmp.c_str(), S().model.c_str()) == 0);
  REQUIRE(
      WaitFor([] { return S().dispatch.Log().find("model reload failed") != std::string::npos; },
              15s, 200ms));
  std::string log = S().dispatch.Log();
  CHECK(log.find("threshold: 'abc' is not a number") != std::string::npos);
  CHECK(HealthCheck(S().dispatch.grpc_addr()) == 0);  // still SERVING
  CHECK(Metrics().find("hotline_dispatch_model_info{version=\"" + current + "\"} 1") !=
        std::string::npos);
  auto e = Created("南湖路的餐馆缺斤短两，投诉", "滨江区");
  CHECK(WaitRouted(e.key()).model_version() == current);

  // A truncated file (a header asking for more weights than there are) is refused the same way.
  std::ofstream(tmp)
      << "hotline-text-classifier 1\nversion broken-2\nthreshold 0.5\nbuckets_log2 24\n"
         "labels a\tb\tc\nweights\nxyz";
  REQUIRE(std::rename(tmp.c_str(), S().model.c_str()) == 0);
  REQUIRE(WaitFor([] { return S().dispatch.Log().find("the header needs") != std::string::npos; },
                  15s, 200ms));
  CHECK(HealthCheck(S().dispatch.grpc_addr()) == 0);
  CHECK(Metrics().find("hotline_dispatch_model_info{version=\"" + current + "\"} 1") !=
        std::string::npos);
  // The next test starts a second instance from this path: put a good model back.
  TrainDemoModel(S().dir.path());
}

TEST_CASE("with tokens on, a department acts only as itself and only the centre closes") {
  std::string tokens = S().dir.path() + "/tokens";
  std::ofstream(tokens) << "tok-eco-0123456789abcd department d-eco\n"
                           "tok-edu-0123456789abcd department d-edu\n"
                           "tok-centre-0123456789a supervisor\n";
  // A second instance with authentication on, in its own consumer group so it does not take
  // partitions from the first (routing is idempotent either way: one Redis, one record per event).
  ServiceProcess secured(
      HOTLINE_DISPATCH_BIN, S().redis.url(), S().broker.bootstrap(),
      {"DISPATCH_MODEL=" + S().model,
       "DISPATCH_DEPARTMENTS=" HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv",
       "DISPATCH_RESPONSIBILITY=" HOTLINE_REPO_DIR "/deploy/dispatch/responsibility.tsv",
       "KAFKA_GROUP_ID=hotline-dispatch-auth-test", "HOTLINE_AUTH_TOKENS_FILE=" + tokens});
  auto ch = grpc::CreateChannel(secured.grpc_addr(), grpc::InsecureChannelCredentials());
  auto dept = v1::DepartmentService::NewStub(ch);
  auto centre = v1::SupervisionService::NewStub(ch);
  auto e = Created("东湖路99号的工厂偷排污水，河水发黑发臭", "东湖区");
  auto t = WaitRouted(e.key());
  if (t.department_id().empty()) {  // the weaker model of the previous test may have queued it
    v1::AssignTicketRequest a;
    a.set_ticket_id(t.ticket_id());
    a.set_department_id("d-eco");
    v1::AssignTicketResponse aresp;
    REQUIRE(S().triage->AssignTicket(Ctx().get(), a, &aresp).ok());
    t = aresp.ticket();
  }
  REQUIRE(t.department_id() == "d-eco");
  auto as = [](const std::string& token) {
    auto c = Ctx();
    if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
    return c;
  };
  v1::AcceptTicketRequest ar;
  ar.set_ticket_id(t.ticket_id());
  v1::AcceptTicketResponse aresp;
  CHECK(dept->AcceptTicket(as("").get(), ar, &aresp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(dept->AcceptTicket(as("not-a-token-at-all-0000").get(), ar, &aresp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  ar.set_department_id("d-eco");  // d-edu claiming to be d-eco
  auto s = dept->AcceptTicket(as("tok-edu-0123456789abcd").get(), ar, &aresp);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message() == "department d-edu may not act for department d-eco");
  ar.clear_department_id();  // d-edu as itself: not its ticket
  CHECK(dept->AcceptTicket(as("tok-edu-0123456789abcd").get(), ar, &aresp).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(dept->AcceptTicket(as("tok-eco-0123456789abcd").get(), ar, &aresp).ok());
  CHECK(aresp.ticket().state() == v1::TICKET_STATE_ACCEPTED);

  v1::ReopenTicketRequest rr;
  rr.set_ticket_id(t.ticket_id());
  rr.set_reason("test");
  v1::ReopenTicketResponse rresp;
  CHECK(centre->ReopenTicket(as("tok-eco-0123456789abcd").get(), rr, &rresp).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // The supervisor passes authorisation and meets the state machine instead.
  CHECK(centre->ReopenTicket(as("tok-centre-0123456789a").get(), rr, &rresp).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
}
