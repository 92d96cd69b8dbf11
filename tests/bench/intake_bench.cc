// Benchmark (not a test): SubmitRequest throughput and latency through the real hotline-intake
// binary (its own redis-server, the dev broker), against a bare gRPC echo server built from the
// same gRPC library, measured in the same run with the same clients and payload size.
//
//   intake_bench [--seconds 10] [--clients 8] [--rounds 1]
//                [--requests deploy/demo/requests.jsonl] [--intake-env NAME=VALUE]...
//
// Prints a Markdown table, the ratio to the echo server and the failed calls by status code;
// README.md "Measurements" quotes it. --intake-env passes settings to the intake process (e.g.
// HOTLINE_RPC_THREADS=16) to see what a knob changes, under the same method.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "hotline/v1/intake.grpc.pb.h"
#include "tests/support/service_process.h"
#include "tools/common/flags.h"

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
  std::map<std::string, int> outcomes;  // for failed calls: the status code's name
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
        ++outcomes[c][outcome];
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

void Merge(const Result& from, Result* into) {
  into->seconds += from.seconds;
  into->latencies_us.insert(into->latencies_us.end(), from.latencies_us.begin(),
                            from.latencies_us.end());
  into->errors += from.errors;
  for (const auto& [k, v] : from.outcomes) into->outcomes[k] += v;
}

void Row(const char* name, Result& r) {
  double n = static_cast<double>(r.latencies_us.size());
  std::printf("| %s | %.0f | %.2f | %.2f | %.2f | %d |\n", name, n / r.seconds,
              Pct(r.latencies_us, 0.50) / 1000, Pct(r.latencies_us, 0.99) / 1000,
              Pct(r.latencies_us, 0.999) / 1000, r.errors);
}

// The machine is shared: the load average before and after a run says how far to trust it.
std::string LoadAverage() {
  std::string s = ReadFile("/proc/loadavg");
  return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
}

const char* CodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    default:
      return "OTHER";
  }
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  int64_t clients = 8;
  int64_t rounds = 1;
  std::string path = HOTLINE_REPO_DIR "/deploy/demo/requests.jsonl";
  std::vector<std::string> intake_env;
  flags::FlagParser parser("intake_bench [flags]");
  parser.Double("seconds", &seconds, 0.5, 600,
                "measured seconds per server (after 1 s of warm-up)");
  parser.Int("clients", &clients, 1, 1024, "concurrent client threads, one channel each");
  parser.Int("rounds", &rounds, 1, 100,
             "alternate echo and intake this many times, seconds/rounds each");
  parser.String("requests", &path, "the corpus, one SubmitRequestRequest as JSON per line");
  parser.Strings("intake-env", &intake_env, "NAME=VALUE for the intake process (repeatable)");
  flags::ParseOrExit(parser, "intake_bench", argc, argv);
  for (const auto& e : intake_env) {
    if (e.find('=') == std::string::npos || e[0] == '=') {
      std::fprintf(stderr, "intake_bench: --intake-env: '%s' is not NAME=VALUE\n", e.c_str());
      return 2;
    }
  }
  std::vector<v1::SubmitRequestRequest> corpus;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    v1::SubmitRequestRequest r;
    if (!line.empty() && google::protobuf::util::JsonStringToMessage(line, &r).ok())
      corpus.push_back(r);
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
  std::vector<std::string> env = {
      "INTAKE_KNOWLEDGE_BASE=" HOTLINE_REPO_DIR "/deploy/knowledge/knowledge_base.jsonl",
      // Open311 on a free loopback port: an empty value means the default, 0.0.0.0:8080,
      // which another run on the machine may hold.
      "INTAKE_OPEN311_ADDR=127.0.0.1:" + std::to_string(FreePort()), "HOTLINE_LOG_LEVEL=warn"};
  env.insert(env.end(), intake_env.begin(), intake_env.end());  // later entries win
  ServiceProcess intake(HOTLINE_INTAKE_BIN, redis.url(), broker.bootstrap(), env);
  const std::string load_before = LoadAverage();

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

  // Per client, a count of submissions across all phases (warm-up, rounds): the idempotency
  // keys stay fresh, so no measured call is an idempotent replay of a warm-up call. Each slot
  // is touched only by its client's thread.
  std::vector<int> sent(clients, 0);
  auto submit = [&](int c, int, std::string* outcome) {
    const int i = sent[c]++;
    v1::SubmitRequestRequest req = corpus[(c * 7919 + i) % corpus.size()];
    req.set_idempotency_key("bench-" + std::to_string(c) + "-" + std::to_string(i));
    // A distinct caller per request, as on a real line.
    req.mutable_contact()->set_phone("139" +
                                     std::to_string(10000000 + (c * 1000003 + i) % 89999999));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::SubmitRequestResponse resp;
    grpc::Status st = stubs[c]->SubmitRequest(&ctx, req, &resp);
    *outcome = !st.ok()          ? CodeName(st.error_code())
               : resp.replayed() ? "REPLAYED"
                                 : v1::SubmitOutcome_Name(resp.outcome());
    return st.ok();
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
    *outcome = st.ok() ? "echo" : CodeName(st.error_code());
    return st.ok();
  };

  // Warm up both (connections, Redis, the broker's first produce).
  const int n = static_cast<int>(clients);
  Drive(n, 1.0, submit);
  Drive(n, 1.0, echo_call);
  // Rounds alternate echo and intake slices so that load from other processes on a shared
  // machine falls on both alike; --rounds 1 is one echo run, then one intake run.
  Result echo_r, intake_r;
  for (int64_t r = 0; r < rounds; ++r) {
    Merge(Drive(n, seconds / rounds, echo_call), &echo_r);
    Merge(Drive(n, seconds / rounds, submit), &intake_r);
  }

  std::printf(
      "\n%d clients, %.0f s each in %d round(s), %zu-byte requests (the demo corpus), %u cores, "
      "load average %s before and %s after\n\n",
      static_cast<int>(clients), seconds, static_cast<int>(rounds), payload,
      std::thread::hardware_concurrency(), load_before.c_str(), LoadAverage().c_str());
  std::printf(
      "| server | requests/s | p50 ms | p99 ms | p99.9 ms | errors |\n|---|---|---|---|---|---|\n");
  Row("bare gRPC echo (reference)", echo_r);
  Row("intake SubmitRequest", intake_r);
  double echo_rate = echo_r.latencies_us.size() / echo_r.seconds;
  double intake_rate = intake_r.latencies_us.size() / intake_r.seconds;
  std::printf("\nintake throughput = %.3fx the bare echo server (1/%.1f); outcomes:",
              intake_rate / std::max(1.0, echo_rate), echo_rate / std::max(1.0, intake_rate));
  for (const auto& [k, v] : intake_r.outcomes) std::printf(" %s=%d", k.c_str(), v);
  std::printf("; echo:");
  for (const auto& [k, v] : echo_r.outcomes) std::printf(" %s=%d", k.c_str(), v);
  std::printf("\n");
  echo_server->Shutdown();
  return 0;
}
