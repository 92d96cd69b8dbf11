// Benchmark (not a test): submit → dispatch decision latency through the real services.
//
//   dispatch_latency_bench [--rate 100] [--seconds 20] [--fetch-wait-ms 10] [--threshold 0.5]
//
// Starts the dev broker, one redis-server each for intake and dispatch, the real hotline-intake
// and hotline-dispatch binaries (dispatch with a model trained here from
// deploy/demo/training_tickets.csv), then submits complaints through intake's gRPC API at a
// fixed rate (open loop: a slow answer does not delay the next submission), each with its own
// caller, address and text so that none is merged or answered from the knowledge base. It then
// reads hotline.tickets.v1 and pairs every TicketCreated with the TicketDispatched (or
// TicketTriaged) of the same ticket id. Latency = decision envelope's occurred_at − the
// TicketCreated envelope's occurred_at: the two events' own timestamps, taken by intake when it
// stored the ticket and by dispatch when it decided, so the bench's reading adds nothing. Both
// processes share the machine's clock. It also shows the time until dispatch's outbox relay
// produced the decision (the Kafka message's CreateTime), which adds dispatch's outbox hop. Prints
// a Markdown table; README.md "Measurements" quotes it. The project's goal is p99 ≤ 50 ms at 100
// req/s.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hotline/v1/events.pb.h"
#include "hotline/v1/intake.grpc.pb.h"
#include "services/common/events.h"
#include "services/dispatch/classifier.h"
#include "tests/support/demo_model.h"
#include "tests/support/kafka_reader.h"
#include "tests/support/service_process.h"
#include "tools/common/flags.h"

using namespace hotline;
using namespace hotline::testing;
using Clock = std::chrono::steady_clock;
using google::protobuf::util::TimeUtil;

namespace {

// The districts of the demo responsibility list; a district override applies to some of them.
const char* const kDistricts[] = {"东湖区", "西山区", "南港区", "北城区", "高新区", "滨江区"};

std::string LoadAverage() {
  std::string s = ReadFile("/proc/loadavg");
  return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

// Trains the demo model with `threshold` as its auto-dispatch threshold; exits on failure (a
// bench has no one to return an error to).
std::string TrainModel(const std::vector<dispatch::LabeledText>& data, double threshold,
                       const std::string& dir) {
  auto path = hotline::testing::TrainModel(data, 10, "bench-1", threshold, dir + "/model.bin");
  if (!path.ok()) {
    std::fprintf(stderr, "training: %s\n", std::string(path.status().message()).c_str());
    std::exit(1);
  }
  return *path;
}

// One submission in flight: gRPC's callback API needs the context and messages alive until
// the callback runs.
struct Call {
  grpc::ClientContext ctx;
  v1::SubmitRequestRequest req;
  v1::SubmitRequestResponse resp;
  Clock::time_point sent;
};

// What the submissions came back with, filled from gRPC's callback threads.
class Submissions {
 public:
  void Done(Call* call, const grpc::Status& st) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - call->sent).count();
    std::lock_guard<std::mutex> l(mu_);
    rpc_ms_.push_back(ms);
    if (!st.ok()) {
      ++errors_;
      if (first_error_.empty()) first_error_ = st.error_message();
    } else if (call->resp.outcome() == v1::SUBMIT_OUTCOME_CREATED) {
      created_.push_back(call->resp.ticket().ticket_id());
    } else {
      ++not_created_;
    }
    --in_flight_;
    cv_.notify_all();
  }
  void Sent() {
    std::lock_guard<std::mutex> l(mu_);
    ++in_flight_;
  }
  // Waits for every answer (each call has a deadline, so this ends).
  void Drain() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return in_flight_ == 0; });
  }
  std::vector<std::string> created() {
    std::lock_guard<std::mutex> l(mu_);
    return created_;
  }
  std::vector<double> rpc_ms() {
    std::lock_guard<std::mutex> l(mu_);
    return rpc_ms_;
  }
  int errors() {
    std::lock_guard<std::mutex> l(mu_);
    return errors_;
  }
  int not_created() {
    std::lock_guard<std::mutex> l(mu_);
    return not_created_;
  }
  std::string first_error() {
    std::lock_guard<std::mutex> l(mu_);
    return first_error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  int errors_ = 0;
  int not_created_ = 0;
  std::string first_error_;
  std::vector<std::string> created_;
  std::vector<double> rpc_ms_;
};

struct Decision {
  google::protobuf::Timestamp created_at;
  bool has_created = false;
  google::protobuf::Timestamp decided_at;
  int64_t decision_published_ms = -1;  // the decision message's Kafka timestamp
  enum Kind { kNone, kDispatched, kTriaged } kind = kNone;
};

// Reads the tickets topic from the start and indexes the created and first decision events by
// ticket id.
std::map<std::string, Decision> ReadDecisions(const std::string& bootstrap, size_t want) {
  std::map<std::string, Decision> by_id;
  for (const auto& m : ReadTopic(bootstrap, kTicketsTopic, want, std::chrono::seconds(10))) {
    v1::EventEnvelope e;
    if (!e.ParseFromString(m.value)) continue;
    Decision& d = by_id[e.key()];
    if (e.has_ticket_created()) {
      d.created_at = e.occurred_at();
      d.has_created = true;
    } else if (d.kind == Decision::kNone && (e.has_ticket_dispatched() || e.has_ticket_triaged())) {
      d.decided_at = e.occurred_at();
      d.kind = e.has_ticket_dispatched() ? Decision::kDispatched : Decision::kTriaged;
      d.decision_published_ms = m.timestamp_ms;
    }
  }
  return by_id;
}

}  // namespace

int main(int argc, char** argv) {
  double rate = 100, seconds = 20, threshold = 0.5;
  int64_t fetch_wait_ms = 10;
  flags::FlagParser parser("dispatch_latency_bench [flags]");
  parser.Double("rate", &rate, 1, 5000, "submissions per second, sent on a fixed schedule");
  parser.Double("seconds", &seconds, 1, 600, "how long to submit");
  parser.Int("fetch-wait-ms", &fetch_wait_ms, 1, 60000,
             "HOTLINE_KAFKA_FETCH_WAIT_MS for intake and dispatch");
  parser.Double("threshold", &threshold, 0, 1, "the model's auto-dispatch threshold");
  flags::ParseOrExit(parser, "dispatch_latency_bench", argc, argv);

  auto data = hotline::testing::DemoTrainingData();
  if (!data.ok() || data->empty()) {
    std::fprintf(stderr, "training data: %s\n",
                 data.ok() ? "empty" : std::string(data.status().message()).c_str());
    return 1;
  }
  TempDir dir;
  const std::string model = TrainModel(*data, threshold, dir.path());

  DevBroker broker;
  RedisServer intake_redis, dispatch_redis;
  const std::string fetch_wait = "HOTLINE_KAFKA_FETCH_WAIT_MS=" + std::to_string(fetch_wait_ms);
  ServiceProcess dispatch(
      HOTLINE_DISPATCH_BIN, dispatch_redis.url(), broker.bootstrap(),
      {"DISPATCH_MODEL=" + model,
       "DISPATCH_DEPARTMENTS=" HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv",
       "DISPATCH_RESPONSIBILITY=" HOTLINE_REPO_DIR "/deploy/dispatch/responsibility.tsv",
       "HOTLINE_LOG_LEVEL=warn", fetch_wait});
  ServiceProcess intake(
      HOTLINE_INTAKE_BIN, intake_redis.url(), broker.bootstrap(),
      {"INTAKE_KNOWLEDGE_BASE=" HOTLINE_REPO_DIR "/deploy/knowledge/knowledge_base.jsonl",
       // Open311 on a free loopback port: an empty value means the default, 0.0.0.0:8080,
       // which another run on the machine may hold.
       "INTAKE_OPEN311_ADDR=127.0.0.1:" + std::to_string(FreePort()), "HOTLINE_LOG_LEVEL=warn",
       fetch_wait});
  auto stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(intake.grpc_addr(), grpc::InsecureChannelCredentials()));

  Submissions subs;
  auto submit = [&](int i) {
    auto* call = new Call;
    const auto& sample = (*data)[static_cast<size_t>(i) * 7919 % data->size()];
    const char* district = kDistricts[i % 6];
    call->req.set_channel(v1::CHANNEL_WEB);
    call->req.set_type_hint(v1::TICKET_TYPE_COMPLAINT);  // never a knowledge-base answer
    call->req.set_idempotency_key("latency-" + std::to_string(i));
    // Its own caller, address and text: nothing to merge with.
    call->req.mutable_contact()->set_phone("139" + std::to_string(10000000 + i));
    call->req.mutable_location()->set_district(district);
    call->req.mutable_location()->set_address(std::string(district) + "测试路" +
                                              std::to_string(i + 1) + "号");
    call->req.set_text(sample.text + " 第" + std::to_string(i + 1) + "件");
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->sent = Clock::now();
    subs.Sent();
    stub->async()->SubmitRequest(&call->ctx, &call->req, &call->resp,
                                 [&subs, call](grpc::Status st) {
                                   subs.Done(call, st);
                                   delete call;
                                 });
  };

  // Warm-up, not measured: dispatch's consumer joins its group and intake's producer connects
  // after both report SERVING; wait until the warm-up tickets have gone all the way through.
  const int kWarmup = 5;
  for (int i = 0; i < kWarmup; ++i) submit(1000000 + i);
  subs.Drain();
  const auto warm = subs.created();
  bool through = false;
  auto warm_until = Clock::now() + std::chrono::seconds(60);
  while (!through && Clock::now() < warm_until) {
    auto seen = ReadDecisions(broker.bootstrap(), 2 * warm.size());
    through = !warm.empty() && std::all_of(warm.begin(), warm.end(), [&](const std::string& id) {
      auto it = seen.find(id);
      return it != seen.end() && it->second.kind != Decision::kNone;
    });
  }
  if (!through) {
    std::fprintf(stderr, "warm-up: no decision within 60 s (%d errors: %s)\ndispatch log:\n%s\n",
                 subs.errors(), subs.first_error().c_str(), dispatch.Log().c_str());
    return 1;
  }
  const std::vector<double> warm_rpc = subs.rpc_ms();

  // The measured run: submission i leaves at start + i / rate, whatever came back before.
  const std::string load_before = LoadAverage();
  const int total = static_cast<int>(rate * seconds);
  const auto start = Clock::now();
  for (int i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(i / rate)));
    submit(i);
  }
  const double send_s = std::chrono::duration<double>(Clock::now() - start).count();
  subs.Drain();

  std::vector<std::string> measured;
  for (const auto& id : subs.created()) {
    if (std::find(warm.begin(), warm.end(), id) == warm.end()) measured.push_back(id);
  }
  // Every created ticket has two events (created, decision); the warm-up's too.
  const size_t want = 2 * (measured.size() + warm.size());
  std::map<std::string, Decision> seen;
  auto read_until = Clock::now() + std::chrono::seconds(60);
  size_t decided = 0;
  do {
    seen = ReadDecisions(broker.bootstrap(), want);
    decided = std::count_if(measured.begin(), measured.end(), [&](const std::string& id) {
      auto it = seen.find(id);
      return it != seen.end() && it->second.has_created && it->second.kind != Decision::kNone;
    });
  } while (decided < measured.size() && Clock::now() < read_until);

  std::vector<double> all_ms, dispatched_ms, published_ms;
  int triaged = 0, missing = 0;
  for (const auto& id : measured) {
    auto it = seen.find(id);
    if (it == seen.end() || !it->second.has_created || it->second.kind == Decision::kNone) {
      ++missing;
      continue;
    }
    double ms =
        TimeUtil::DurationToMicroseconds(it->second.decided_at - it->second.created_at) / 1000.0;
    all_ms.push_back(ms);
    if (it->second.decision_published_ms >= 0) {
      published_ms.push_back(
          static_cast<double>(it->second.decision_published_ms -
                              TimeUtil::TimestampToMilliseconds(it->second.created_at)));
    }
    if (it->second.kind == Decision::kDispatched) {
      dispatched_ms.push_back(ms);
    } else {
      ++triaged;
    }
  }
  std::vector<double> rpc = subs.rpc_ms();
  rpc.erase(rpc.begin(), rpc.begin() + static_cast<long>(std::min(rpc.size(), warm_rpc.size())));

  std::printf(
      "\n%d submissions at %.0f/s for %.0f s (sent in %.1f s), fetch wait %lld ms, model "
      "threshold %.2f, %u cores, load average %s before and %s after\n\n",
      total, rate, seconds, send_s, static_cast<long long>(fetch_wait_ms), threshold,
      std::thread::hardware_concurrency(), load_before.c_str(), LoadAverage().c_str());
  std::printf(
      "| fetch wait | rate | created | dispatched | triaged | missing | p50 ms | p99 ms | "
      "max ms | SubmitRequest p50 / p99 ms | errors |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  double max_ms = all_ms.empty() ? 0 : *std::max_element(all_ms.begin(), all_ms.end());
  std::printf(
      "| %lld ms | %.0f/s | %zu | %zu | %d | %d | %.1f | %.1f | %.1f | %.1f / %.1f | %d |\n",
      static_cast<long long>(fetch_wait_ms), rate, measured.size(), dispatched_ms.size(), triaged,
      missing, Pct(all_ms, 0.50), Pct(all_ms, 0.99), max_ms, Pct(rpc, 0.50), Pct(rpc, 0.99),
      subs.errors());
  std::printf(
      "\nlatency = decision event's occurred_at - TicketCreated's occurred_at, over "
      "dispatched and triaged tickets; dispatched only: p50 %.1f ms, p99 %.1f ms; "
      "until dispatch's relay handed the decision to the producer (its Kafka timestamp, "
      "ms resolution): p50 %.0f ms, p99 %.0f ms over %zu; "
      "%d submissions not created (merged or answered)%s%s\n",
      Pct(dispatched_ms, 0.50), Pct(dispatched_ms, 0.99), Pct(published_ms, 0.50),
      Pct(published_ms, 0.99), published_ms.size(), subs.not_created(),
      subs.errors() ? "; first error: " : "", subs.first_error().c_str());
  return missing == 0 && subs.errors() == 0 ? 0 : 1;
}
