#pragma once

#include <atomic>
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
  std::string str;                   // kString and kStatus
  int64_t integer = 0;               // kInteger
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

// A small pool of connections (DESIGN.md "Threads, limits and health"): each call takes one free
// connection for its round trip, a WATCH transaction holds one connection for its duration, so
// handlers, the consumer, the relay and the health check do not queue behind each other. On a
// broken connection the next call on it reconnects, at most once per backoff step (100 ms
// doubling to 5 s), so callers fail fast with UNAVAILABLE instead of piling up behind a dead
// server. Errors replied by Redis itself are INTERNAL.
class RedisClient {
 public:
  explicit RedisClient(RedisEndpoint endpoint,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                       size_t pool_size = 1);
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

  size_t pool_size() const { return conns_.size(); }

 private:
  struct Conn {
    std::mutex mu;
    redisContext* ctx = nullptr;
    std::chrono::steady_clock::time_point next_attempt{};
    std::chrono::milliseconds backoff{0};
  };
  // A free connection, locked; waits for one only when every connection is busy.
  std::unique_lock<std::mutex> Acquire(Conn** conn);
  absl::Status EnsureConnected(Conn& c);
  absl::StatusOr<RedisReply> CommandOn(Conn& c, const RedisCommand& cmd);
  absl::StatusOr<std::vector<RedisReply>> PipelineOn(Conn& c,
                                                     const std::vector<RedisCommand>& cmds);
  static void Drop(Conn& c);

  RedisEndpoint endpoint_;
  std::chrono::milliseconds timeout_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::atomic<size_t> next_{0};
};

}  // namespace hotline
