// Benchmark (not a test): SubmitRequest throughput and latency through the real hotline-intake
// binary (its own redis-server, the dev broker), against a bare gRPC echo server built from the
// same gRPC library, measured in the same run with the same clients and payload size.
//
//   intake_bench [--seconds 10] [--clients 8] [--requests deploy/demo/requests.jsonl]
//
// Prints a Markdown table; README.md "Measurements" quotes it.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include "hotline/v1/intake.grpc.pb.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;
using Clock = std::chrono::steady_clock;

namespace {

// The reference: gRPC's callback API with nothing behind it, echoing the request bytes.
class EchoService : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() { StartRead(&buf_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        StartWrite(&buf_);
      }
      void OnWriteDone(bool) override { StartRead(&buf_); }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer buf_;
    };
    return new Reactor();
  }
};

struct Result {
  double seconds = 0;
  std::vector<double> latencies_us;
  int errors = 0;
  std::map<std::string, int> outcomes;
};

double Pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

template <typename Call>
Result Drive(int clients, double seconds, Call call) {
  Result r;
  std::vector<std::vector<double>> lat(clients);
  std::vector<std::map<std::string, int>> outcomes(clients);
  std::atomic<int> errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        auto t0 = Clock::now();
        std::string outcome;
        bool ok = call(c, i, &outcome);
        lat[c].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        if (!ok) ++errors;
        else ++outcomes[c][outcome];
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (int c = 0; c < clients; ++c) {
    r.latencies_us.insert(r.latencies_us.end(), lat[c].begin(), lat[c].end());
    for (auto& [k, v] : outcomes[c]) r.outcomes[k] += v;
  }
  r.errors = errors;
  return r;
}

void Row(const char* name, Result& r) {
  double n = static_cast<double>(r.latencies_us.size());
  std::printf("| %s | %.0f | %.2f | %.2f | %.2f | %d |\n", name, n / r.seconds,
              Pct(r.latencies_us, 0.50) / 1000, Pct(r.latencies_us, 0.99) / 1000,
              Pct(r.latencies_us, 0.999) / 1000, r.errors);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  int clients = 8;
  std::string path = HOTLINE_REPO_DIR "/deploy/demo/requests.jsonl";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (a == "--clients") clients = std::atoi(argv[i + 1]);
    else if (a == "--requests") path = argv[i + 1];
  }
  std::vector<v1::SubmitRequestRequest> corpus;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    v1::SubmitRequestRequest r;
    if (!line.empty() && google::protobuf::util::JsonStringToMessage(line, &r).ok()) corpus.push_back(r);
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no requests in %s\n", path.c_str());
    return 2;
  }
  size_t payload = 0;
  for (const auto& r : corpus) payload += r.ByteSizeLong();
  payload /= corpus.size();

  RedisServer redis;
  DevBroker broker;
  ServiceProcess intake(HOTLINE_INTAKE_BIN, redis.url(), broker.bootstrap(),
                        {"INTAKE_KNOWLEDGE_BASE=" HOTLINE_REPO_DIR "/deploy/knowledge/knowledge_base.jsonl",
                         "INTAKE_OPEN311_ADDR=", "HOTLINE_LOG_LEVEL=warn"});

  EchoService echo;
  grpc::ServerBuilder builder;
  int echo_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &echo_port);
  builder.RegisterCallbackGenericService(&echo);
  auto echo_server = builder.BuildAndStart();

  // One channel per client for both, so neither shares an HTTP/2 connection across clients.
  std::vector<std::unique_ptr<v1::IntakeService::Stub>> stubs;
  std::vector<std::unique_ptr<grpc::GenericStub>> echo_stubs;
  for (int c = 0; c < clients; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("hotline.bench.client", c);  // distinct args: distinct connections
    stubs.push_back(v1::IntakeService::NewStub(
        grpc::CreateCustomChannel(intake.grpc_addr(), grpc::InsecureChannelCredentials(), args)));
    echo_stubs.push_back(std::make_unique<grpc::GenericStub>(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(echo_port), grpc::InsecureChannelCredentials(), args)));
  }
  std::string echo_payload = corpus[0].SerializeAsString();
  echo_payload.resize(payload, 'x');

  auto submit = [&](int c, int i, std::string* outcome) {
    v1::SubmitRequestRequest req = corpus[(c * 7919 + i) % corpus.size()];
    req.set_idempotency_key("bench-" + std::to_string(c) + "-" + std::to_string(i));
    // A distinct caller per request, as on a real line.
    req.mutable_contact()->set_phone("139" + std::to_string(10000000 + (c * 1000003 + i) % 89999999));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::SubmitRequestResponse resp;
    bool ok = stubs[c]->SubmitRequest(&ctx, req, &resp).ok();
    *outcome = v1::SubmitOutcome_Name(resp.outcome());
    return ok;
  };
  auto echo_call = [&](int c, int, std::string* outcome) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice slice(echo_payload);
    grpc::ByteBuffer req(&slice, 1), resp;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status st;
    echo_stubs[c]->UnaryCall(&ctx, "/bench.Echo/Echo", grpc::StubOptions(), &req, &resp,
                             [&](grpc::Status s) {
                               std::lock_guard<std::mutex> l(mu);
                               st = s;
                               done = true;
                               cv.notify_one();
                             });
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done; });
    *outcome = "echo";
    return st.ok();
  };

  // Warm up both (connections, Redis, the broker's first produce).
  Drive(clients, 1.0, submit);
  Drive(clients, 1.0, echo_call);
  Result echo_r = Drive(clients, seconds, echo_call);
  Result intake_r = Drive(clients, seconds, submit);

  std::printf("\n%d clients, %.0f s each, %zu-byte requests (the demo corpus), %u cores\n\n", clients,
              seconds, payload, std::thread::hardware_concurrency());
  std::printf("| server | requests/s | p50 ms | p99 ms | p99.9 ms | errors |\n|---|---|---|---|---|---|\n");
  Row("bare gRPC echo (reference)", echo_r);
  Row("intake SubmitRequest", intake_r);
  double ratio = (echo_r.latencies_us.size() / echo_r.seconds) /
                 std::max(1.0, intake_r.latencies_us.size() / intake_r.seconds);
  std::printf("\nintake throughput = 1/%.1f of the bare echo server; outcomes:", ratio);
  for (const auto& [k, v] : intake_r.outcomes) std::printf(" %s=%d", k.c_str(), v);
  std::printf("\n");
  echo_server->Shutdown();
  return 0;
}
