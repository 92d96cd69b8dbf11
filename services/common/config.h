#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace hotline {

// Reads environment variables into typed values. Each getter returns an error that names the
// variable and says what is wrong, so start-up can stop with a message an operator can act on.
// The lookup is injectable so tests need not touch the process environment.
class EnvReader {
 public:
  using Lookup = std::function<const char*(const std::string&)>;
  EnvReader();
  explicit EnvReader(Lookup lookup) : lookup_(std::move(lookup)) {}

  absl::StatusOr<std::string> String(const std::string& name, const std::string& fallback) const;
  absl::StatusOr<std::string> RequiredString(const std::string& name) const;
  // Like String, but a variable set to "" stays "" (for settings where empty means "off").
  absl::StatusOr<std::string> StringOrEmpty(const std::string& name,
                                            const std::string& fallback) const;
  absl::StatusOr<int64_t> Int(const std::string& name, int64_t fallback, int64_t min,
                              int64_t max) const;
  absl::StatusOr<bool> Bool(const std::string& name, bool fallback) const;
  // A host:port listen or connect address.
  absl::StatusOr<std::string> Address(const std::string& name, const std::string& fallback) const;

 private:
  Lookup lookup_;
};

// Settings every service shares. Documented in README.md ("Configuration").
struct CommonConfig {
  std::string service;         // e.g. "intake"
  std::string instance_id;     // HOTLINE_INSTANCE_ID, default: hostname
  std::string grpc_addr;       // HOTLINE_GRPC_ADDR
  std::string metrics_addr;    // HOTLINE_METRICS_ADDR
  std::string redis_url;       // REDIS_URL
  std::string kafka_brokers;   // KAFKA_BROKERS
  std::string kafka_group_id;  // KAFKA_GROUP_ID
  int session_timeout_ms = 45000;
  int heartbeat_interval_ms = 3000;
  int shutdown_grace_ms = 10000;
  std::string log_level;                     // HOTLINE_LOG_LEVEL
  int64_t redis_pool_size = 8;               // REDIS_POOL_SIZE: connections to this service's Redis
  int64_t redis_timeout_ms = 2000;           // REDIS_TIMEOUT_MS: connect and per-reply timeout
  int64_t ready_timeout_ms = 500;            // HOTLINE_READY_TIMEOUT_MS: readiness PING deadline
  int64_t rpc_threads = 8;                   // HOTLINE_RPC_THREADS: gRPC handler workers
  int64_t rpc_queue = 512;                   // HOTLINE_RPC_QUEUE: calls waiting before refusal
  int64_t grpc_max_message_bytes = 1 << 20;  // HOTLINE_GRPC_MAX_MESSAGE_BYTES: per request
  int64_t outbox_max_entries = 1000000;      // HOTLINE_OUTBOX_MAX_ENTRIES: refuse writes beyond
  int64_t outbox_max_event_bytes = 921600;   // HOTLINE_OUTBOX_MAX_EVENT_BYTES: larger is refused
  int64_t kafka_fetch_wait_ms = 500;  // HOTLINE_KAFKA_FETCH_WAIT_MS: consumer fetch.wait.max.ms
  int64_t consumer_max_attempts = 5;  // HOTLINE_CONSUMER_MAX_ATTEMPTS: then dead-letter
};

absl::StatusOr<CommonConfig> LoadCommonConfig(const std::string& service, const EnvReader& env);

}  // namespace hotline
