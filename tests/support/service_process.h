#pragma once

#include <grpcpp/client_context.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "services/common/kafka_producer.h"
#include "tests/support/processes.h"

namespace hotline::testing {

// One of our service binaries started for real, configured like tools/hotline-up does it
// (own Redis, the dev broker, short group timeouts), and waited for until its gRPC health
// check says SERVING. Its log stays in a temp dir and is printed by Log() on failure.
// gRPC is plain text (HOTLINE_GRPC_PLAINTEXT=1) unless `extra_env` says otherwise; a test that
// turns TLS on passes the flags hotline-health needs to reach it (--tls-ca ... ) as
// `health_flags`.
class ServiceProcess {
 public:
  ServiceProcess(const std::string& binary, const std::string& redis_url,
                 const std::string& bootstrap, const std::vector<std::string>& extra_env = {},
                 const std::vector<std::string>& health_flags = {});
  ~ServiceProcess();

  std::string grpc_addr() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  int metrics_port() const { return metrics_port_; }
  std::string Log() const { return ReadFile(log_); }
  ChildProcess& process() { return *proc_; }
  // Starts the binary again with the same ports and environment (after a Stop or kill -9).
  void Restart();
  bool WaitServing(int timeout_ms = 30000);

 private:
  void Launch();
  TempDir dir_;
  std::string binary_;
  std::vector<std::string> env_;
  std::vector<std::string> health_flags_;
  std::string log_;
  int grpc_port_;
  int metrics_port_;
  std::unique_ptr<ChildProcess> proc_;
};

// A client context with a deadline (every test call sets one).
std::unique_ptr<grpc::ClientContext> CallContext(
    std::chrono::seconds deadline = std::chrono::seconds(10));

// A producer on the dev broker, for tests that publish events as another service would.
std::unique_ptr<KafkaProducer> TestProducer(const std::string& bootstrap,
                                            const std::string& client_id);

// Exit code of `hotline-health [FLAGS] ADDR` (0 = SERVING; 2 = unreachable or refused). Without
// TLS flags it speaks plain text (--plaintext), as ServiceProcess starts services by default.
int HealthCheck(const std::string& addr, int timeout_ms = 1000,
                const std::vector<std::string>& flags = {"--plaintext"});

// Runs a shell command, returns its stdout; *exit_code gets the exit status.
std::string Run(const std::string& cmd, int* exit_code = nullptr);

}  // namespace hotline::testing
