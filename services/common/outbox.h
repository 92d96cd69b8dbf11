#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "hotline/v1/events.pb.h"
#include "services/common/kafka_producer.h"
#include "services/common/redis_client.h"

namespace hotline {

// Transactional outbox, producer side (DESIGN.md "How no event is lost"): a state change and
// the events it causes are written to Redis in one MULTI/EXEC; OutboxRelay publishes them later.
class Outbox {
 public:
  Outbox(RedisClient* redis, std::string key) : redis_(redis), key_(std::move(key)) {}

  // The command that appends `events` to the outbox, for callers that build their own
  // transaction (RedisClient::WatchTransaction, IdempotentApplier).
  RedisCommand AppendCommand(const std::vector<v1::EventEnvelope>& events) const;
  // Applies `state` and appends `events` atomically. Returns the replies to `state`.
  absl::StatusOr<std::vector<RedisReply>> Commit(const std::vector<RedisCommand>& state,
                                                 const std::vector<v1::EventEnvelope>& events);
  const std::string& key() const { return key_; }
  // Called after every successful Commit; the relay wakes up on it instead of waiting to poll.
  void SetOnCommit(std::function<void()> f) { on_commit_ = std::move(f); }
  void NotifyCommitted() const {
    if (on_commit_) on_commit_();
  }

 private:
  RedisClient* redis_;
  std::string key_;
  std::function<void()> on_commit_;
};

struct OutboxRelayOptions {
  std::string key;            // the outbox list, e.g. "intake:outbox"
  std::string owner;          // this instance's id; one relay per outbox publishes at a time
  size_t batch = 256;
  std::chrono::milliseconds idle_poll{200};
  std::chrono::milliseconds lock_ttl{10000};
  std::chrono::milliseconds delivery_wait{35000};  // > the producer's message.timeout.ms
};

// Publishes the outbox in order and removes an entry only after the broker acknowledged it.
// Several instances of a service share one outbox; a lease in Redis lets one of them publish.
class OutboxRelay {
 public:
  OutboxRelay(RedisClient* redis, MessagePublisher* publisher, OutboxRelayOptions opts);
  ~OutboxRelay();

  void Start();
  void Stop();
  void Wake();
  // One pass: publishes up to `batch` entries; returns how many were delivered and removed.
  // UNAVAILABLE when Redis or Kafka failed (the entries stay), FAILED_PRECONDITION when another
  // instance holds the lease.
  absl::StatusOr<int> RunOnce();
  absl::StatusOr<int64_t> Pending();

  // Observability hooks (set before Start): delivered/failed counts and the backlog size.
  std::function<void(int delivered, int failed)> on_pass;
  std::function<void(int64_t pending)> on_pending;

 private:
  void Loop();

  RedisClient* redis_;
  MessagePublisher* publisher_;
  OutboxRelayOptions opts_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

}  // namespace hotline
