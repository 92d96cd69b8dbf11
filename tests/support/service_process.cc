#include "tests/support/service_process.h"

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

namespace hotline::testing {

ServiceProcess::ServiceProcess(const std::string& binary, const std::string& redis_url,
                               const std::string& bootstrap,
                               const std::vector<std::string>& extra_env,
                               const std::vector<std::string>& health_flags)
    : binary_(binary),
      health_flags_(health_flags),
      log_(dir_.path() + "/service.log"),
      grpc_port_(FreePort()),
      metrics_port_(FreePort()) {
  env_ = {"HOTLINE_GRPC_ADDR=127.0.0.1:" + std::to_string(grpc_port_),
          "HOTLINE_METRICS_ADDR=127.0.0.1:" + std::to_string(metrics_port_),
          "REDIS_URL=" + redis_url, "KAFKA_BROKERS=" + bootstrap, "KAFKA_SESSION_TIMEOUT_MS=6000",
          "HOTLINE_KAFKA_FETCH_WAIT_MS=10",  // the mock cluster holds empty fetches this long
          "KAFKA_HEARTBEAT_INTERVAL_MS=500", "HOTLINE_SHUTDOWN_GRACE_MS=2000",
          // Tests that exercise authentication pass HOTLINE_AUTH_TOKENS_FILE, which wins.
          "HOTLINE_AUTH_DISABLED=1",
          // Plain-text gRPC on loopback, explicitly; TLS tests override it (a later entry wins).
          "HOTLINE_GRPC_PLAINTEXT=1",
          // Open311 off unless a test asks for it on a free port: the default 0.0.0.0:8080
          // collides with whatever else runs on the machine.
          "INTAKE_OPEN311_ADDR="};
  env_.insert(env_.end(), extra_env.begin(), extra_env.end());
  Launch();
  if (!WaitServing()) {
    throw std::runtime_error("service " + binary + " not SERVING; log:\n" + Log());
  }
}

ServiceProcess::~ServiceProcess() = default;

void ServiceProcess::Launch() {
  proc_ = std::make_unique<ChildProcess>(std::vector<std::string>{binary_}, log_, env_);
}

void ServiceProcess::Restart() {
  proc_.reset();
  Launch();
}

bool ServiceProcess::WaitServing(int timeout_ms) {
  const std::vector<std::string> flags =
      health_flags_.empty() ? std::vector<std::string>{"--plaintext"} : health_flags_;
  return WaitFor([&] { return proc_->Running() && HealthCheck(grpc_addr(), 500, flags) == 0; },
                 std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(100));
}

int HealthCheck(const std::string& addr, int timeout_ms, const std::vector<std::string>& flags) {
  std::string cmd = HOTLINE_HEALTH_BIN;
  // Single-quoted for the shell: the flags are test-made paths without quotes in them.
  for (const auto& f : flags) cmd += " '" + f + "'";
  cmd += " --timeout-ms " + std::to_string(timeout_ms) + " " + addr;
  int rc = 0;
  Run(cmd + " >/dev/null 2>&1", &rc);
  return rc;
}

std::string Run(const std::string& cmd, int* exit_code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    if (exit_code) *exit_code = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::unique_ptr<grpc::ClientContext> CallContext(std::chrono::seconds deadline) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + deadline);
  return c;
}

std::unique_ptr<KafkaProducer> TestProducer(const std::string& bootstrap,
                                            const std::string& client_id) {
  KafkaProducerOptions o;
  o.brokers = bootstrap;
  o.client_id = client_id;
  auto p = KafkaProducer::Create(o);
  if (!p.ok()) throw std::runtime_error(std::string(p.status().message()));
  return std::move(*p);
}

}  // namespace hotline::testing
