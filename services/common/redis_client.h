#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct redisContext;

namespace hotline {

// A Redis reply copied out of hiredis, so it outlives the connection's buffers.
struct RedisReply {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::string str;      // kString and kStatus
  int64_t integer = 0;  // kInteger
  std::vector<RedisReply> elements;  // kArray

  bool IsNil() const { return type == Type::kNil; }
};

using RedisCommand = std::vector<std::string>;

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string password;
};

// redis://[:password@]host[:port][/db]
absl::StatusOr<RedisEndpoint> ParseRedisUrl(const std::string& url);

// One connection guarded by a mutex. On a broken connection the next call reconnects, at most
// once per backoff step (100 ms doubling to 5 s), so callers fail fast with UNAVAILABLE instead
// of piling up behind a dead server. Errors replied by Redis itself are INTERNAL.
class RedisClient {
 public:
  explicit RedisClient(RedisEndpoint endpoint,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  absl::StatusOr<RedisReply> Command(const RedisCommand& cmd);
  // Sends all commands in one round trip; replies in order. If Redis rejects any of them the
  // call fails with INTERNAL naming the first rejected command.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(const std::vector<RedisCommand>& cmds);
  // MULTI, cmds, EXEC in one round trip: all or nothing. Returns EXEC's replies. A command that
  // fails while EXEC runs (wrong type) is a programming error; it is reported as INTERNAL.
  absl::StatusOr<std::vector<RedisReply>> Transaction(const std::vector<RedisCommand>& cmds);

  // Optimistic transaction: WATCH `keys`, let `plan` read (through the given function, on the
  // same connection) and return the commands to apply, then MULTI/EXEC them. Retries when a
  // watched key changed. `plan` returning an empty list means "nothing to do" (UNWATCH).
  using Reader = std::function<absl::StatusOr<RedisReply>(const RedisCommand&)>;
  using Plan = std::function<absl::StatusOr<std::vector<RedisCommand>>(const Reader&)>;
  absl::StatusOr<std::vector<RedisReply>> WatchTransaction(const std::vector<std::string>& keys,
                                                           const Plan& plan, int max_attempts = 16);

  absl::Status Ping();

 private:
  absl::Status EnsureConnectedLocked();
  absl::StatusOr<RedisReply> CommandLocked(const RedisCommand& cmd);
  absl::StatusOr<std::vector<RedisReply>> PipelineLocked(const std::vector<RedisCommand>& cmds);
  void DropLocked();

  RedisEndpoint endpoint_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
};

}  // namespace hotline
