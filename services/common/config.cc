#include "services/common/config.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hotline {

EnvReader::EnvReader() : lookup_([](const std::string& n) { return std::getenv(n.c_str()); }) {}

absl::StatusOr<std::string> EnvReader::String(const std::string& name,
                                              const std::string& fallback) const {
  const char* v = lookup_(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::string(v);
}

absl::StatusOr<std::string> EnvReader::StringOrEmpty(const std::string& name,
                                                     const std::string& fallback) const {
  const char* v = lookup_(name);
  return v == nullptr ? fallback : std::string(v);
}

absl::StatusOr<std::string> EnvReader::RequiredString(const std::string& name) const {
  const char* v = lookup_(name);
  if (v == nullptr || *v == '\0') {
    return absl::InvalidArgumentError(absl::StrCat(name, ": required but not set"));
  }
  return std::string(v);
}

absl::StatusOr<int64_t> EnvReader::Int(const std::string& name, int64_t fallback, int64_t min,
                                       int64_t max) const {
  const char* v = lookup_(name);
  if (v == nullptr || *v == '\0') return fallback;
  int64_t out = 0;
  if (!absl::SimpleAtoi(v, &out)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": '", v, "' is not an integer"));
  }
  if (out < min || out > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": ", out, " is outside [", min, ", ", max, "]"));
  }
  return out;
}

absl::StatusOr<bool> EnvReader::Bool(const std::string& name, bool fallback) const {
  const char* v = lookup_(name);
  if (v == nullptr || *v == '\0') return fallback;
  std::string s = absl::AsciiStrToLower(v);
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": '", v, "' is not a boolean (true/false)"));
}

absl::StatusOr<std::string> EnvReader::Address(const std::string& name,
                                               const std::string& fallback) const {
  auto s = String(name, fallback);
  if (!s.ok()) return s.status();
  auto colon = s->rfind(':');
  int64_t port = 0;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(s->substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": '", *s, "' is not a host:port address"));
  }
  return *s;
}

namespace {

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

absl::StatusOr<CommonConfig> LoadCommonConfig(const std::string& service, const EnvReader& env) {
  CommonConfig c;
  c.service = service;
  // Each getter's error already names its variable; the macro-free style keeps that visible.
  auto instance = env.String("HOTLINE_INSTANCE_ID", Hostname());
  if (!instance.ok()) return instance.status();
  c.instance_id = *instance;
  auto grpc = env.Address("HOTLINE_GRPC_ADDR", "0.0.0.0:50051");
  if (!grpc.ok()) return grpc.status();
  c.grpc_addr = *grpc;
  auto metrics = env.Address("HOTLINE_METRICS_ADDR", "0.0.0.0:9464");
  if (!metrics.ok()) return metrics.status();
  c.metrics_addr = *metrics;
  auto redis = env.String("REDIS_URL", "redis://127.0.0.1:6379/0");
  if (!redis.ok()) return redis.status();
  if (redis->rfind("redis://", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("REDIS_URL: '", *redis, "' must start with redis://"));
  }
  c.redis_url = *redis;
  auto brokers = env.String("KAFKA_BROKERS", "127.0.0.1:9092");
  if (!brokers.ok()) return brokers.status();
  for (absl::string_view b : absl::StrSplit(*brokers, ',')) {
    if (b.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("KAFKA_BROKERS: '", b, "' is not a host:port address"));
    }
  }
  c.kafka_brokers = *brokers;
  auto group = env.String("KAFKA_GROUP_ID", "hotline-" + service);
  if (!group.ok()) return group.status();
  c.kafka_group_id = *group;
  auto session = env.Int("KAFKA_SESSION_TIMEOUT_MS", 45000, 1000, 3600000);
  if (!session.ok()) return session.status();
  c.session_timeout_ms = static_cast<int>(*session);
  auto heartbeat = env.Int("KAFKA_HEARTBEAT_INTERVAL_MS", 3000, 100, 600000);
  if (!heartbeat.ok()) return heartbeat.status();
  c.heartbeat_interval_ms = static_cast<int>(*heartbeat);
  if (c.heartbeat_interval_ms >= c.session_timeout_ms) {
    return absl::InvalidArgumentError(
        "KAFKA_HEARTBEAT_INTERVAL_MS: must be lower than KAFKA_SESSION_TIMEOUT_MS");
  }
  auto grace = env.Int("HOTLINE_SHUTDOWN_GRACE_MS", 10000, 0, 600000);
  if (!grace.ok()) return grace.status();
  c.shutdown_grace_ms = static_cast<int>(*grace);
  auto level = env.String("HOTLINE_LOG_LEVEL", "info");
  if (!level.ok()) return level.status();
  if (*level != "debug" && *level != "info" && *level != "warn" && *level != "error") {
    return absl::InvalidArgumentError(
        absl::StrCat("HOTLINE_LOG_LEVEL: '", *level, "' is not one of debug, info, warn, error"));
  }
  c.log_level = *level;
  struct IntSetting {
    const char* name;
    int64_t fallback, min, max;
    int64_t* out;
  };
  const IntSetting ints[] = {
      {"REDIS_POOL_SIZE", 8, 1, 256, &c.redis_pool_size},
      {"REDIS_TIMEOUT_MS", 2000, 50, 60000, &c.redis_timeout_ms},
      {"HOTLINE_READY_TIMEOUT_MS", 500, 50, 60000, &c.ready_timeout_ms},
      {"HOTLINE_RPC_THREADS", 8, 1, 1024, &c.rpc_threads},
      {"HOTLINE_RPC_QUEUE", 512, 1, 1000000, &c.rpc_queue},
      {"HOTLINE_GRPC_MAX_MESSAGE_BYTES", 1 << 20, 1024, 64 << 20, &c.grpc_max_message_bytes},
      {"HOTLINE_OUTBOX_MAX_ENTRIES", 1000000, 1, 1000000000, &c.outbox_max_entries},
      {"HOTLINE_OUTBOX_MAX_EVENT_BYTES", 921600, 1024, 100 << 20, &c.outbox_max_event_bytes},
      {"HOTLINE_KAFKA_FETCH_WAIT_MS", 500, 1, 60000, &c.kafka_fetch_wait_ms},
      {"HOTLINE_CONSUMER_MAX_ATTEMPTS", 5, 1, 1000, &c.consumer_max_attempts},
  };
  for (const auto& s : ints) {
    auto v = env.Int(s.name, s.fallback, s.min, s.max);
    if (!v.ok()) return v.status();
    *s.out = *v;
  }
  return c;
}

}  // namespace hotline
