#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "hotline/v1/events.pb.h"
#include "services/common/kafka_producer.h"
#include "services/common/redis_client.h"

namespace hotline {

// Below Kafka's default message.max.bytes (1 MB) with room for the headers and the record
// overhead: an event this size can be published to a default-configured cluster.
inline constexpr size_t kDefaultMaxEventBytes = 900 * 1024;

// Transactional outbox, producer side (DESIGN.md "How no event is lost"): a state change and
// the events it causes are written to Redis in one MULTI/EXEC; OutboxRelay publishes them later.
class Outbox {
 public:
  // `max_event_bytes`: a serialized event larger than this is refused before it is written, so
  // the state change that would produce an unpublishable event is refused whole.
  Outbox(RedisClient* redis, std::string key, size_t max_event_bytes = kDefaultMaxEventBytes)
      : redis_(redis), key_(std::move(key)), max_event_bytes_(max_event_bytes) {}

  // The command that appends `events` to the outbox, for callers that build their own
  // transaction (RedisClient::WatchTransaction, IdempotentApplier). INVALID_ARGUMENT (naming the
  // event) when one is over max_event_bytes: return it from the plan so nothing is written.
  // Such callers must call NotifyCommitted() after their EXEC succeeded.
  absl::StatusOr<RedisCommand> AppendCommand(const std::vector<v1::EventEnvelope>& events) const;
  // Applies `state` and appends `events` atomically. Returns the replies to `state`.
  absl::StatusOr<std::vector<RedisReply>> Commit(const std::vector<RedisCommand>& state,
                                                 const std::vector<v1::EventEnvelope>& events);
  const std::string& key() const { return key_; }
  size_t max_event_bytes() const { return max_event_bytes_; }
  // Called after every successful Commit; the relay wakes up on it instead of waiting to poll.
  // Set once, before the outbox is shared between threads.
  void SetOnCommit(std::function<void()> f) { on_commit_ = std::move(f); }
  void NotifyCommitted() const {
    if (on_commit_) on_commit_();
  }

 private:
  RedisClient* redis_;
  std::string key_;
  size_t max_event_bytes_;
  std::function<void()> on_commit_;
};

struct OutboxStats {
  int64_t pending = 0;            // entries in the list
  double oldest_age_seconds = 0;  // now - occurred_at of the head entry; 0 when empty
};

// Reads the outbox list itself (LLEN and the head entry's occurred_at, in one MULTI), so the
// gauges tell the truth while a relay pass is blocked on delivery reports or the relay is not
// running at all. Meant to be sampled from the health loop, on a connection of its own if the
// caller has one.
class OutboxMonitor {
 public:
  OutboxMonitor(RedisClient* redis, std::string key) : redis_(redis), key_(std::move(key)) {}
  // UNAVAILABLE/INTERNAL from Redis. An undecodable head entry (only a bug writes one) reports
  // age 0; the relay dead-letters it on its next pass.
  absl::StatusOr<OutboxStats> Sample(absl::Time now = absl::Now()) const;

 private:
  RedisClient* redis_;
  std::string key_;
};

struct OutboxRelayOptions {
  std::string key;    // the outbox list, e.g. "intake:outbox"
  std::string owner;  // this instance's id; one relay per outbox publishes at a time
  size_t batch = 256;
  std::chrono::milliseconds idle_poll{200};
  std::chrono::milliseconds lock_ttl{10000};
  std::chrono::milliseconds delivery_wait{35000};  // > the producer's message.timeout.ms
};

// Publishes the outbox and removes each entry once it is settled:
//  - acknowledged by the broker (acks=all): removed, wherever it is in the list, and never sent
//    again (before, one failed entry kept every later one in the list, re-sent on every pass);
//  - refused for a permanent reason (IsPermanentPublishFailure: too large, invalid, topic not
//    writable...) or undecodable: sent to hotline.deadletter.v1 with the reason
//    (hotline-dlq-reason), then removed. Later entries keep flowing;
//  - failed for a transient reason (broker away, timed out): stays, published again next pass.
//
// Order. The design promises one ticket's events in order within its partition. Entries of one
// (topic, key) are published one at a time: the next only after the broker settled the previous
// one, so an entry can never overtake an earlier one of its key that failed transiently (the
// idempotent producer alone does not promise that: an entry that times out leaves a gap and the
// ones behind it are written). When one fails transiently the rest of its key waits in the list
// for the next pass. Different keys are published concurrently, so a pass costs one round trip
// per event of the busiest key, not one per entry. An entry refused for good does not hold its
// key back: it never reaches its topic, so nothing can overtake it there.
//
// Several instances of a service share one outbox; a lease in Redis lets one of them publish. The
// lease is renewed while a pass waits on delivery reports.
class OutboxRelay {
 public:
  OutboxRelay(RedisClient* redis, MessagePublisher* publisher, OutboxRelayOptions opts);
  ~OutboxRelay();

  void Start();
  void Stop();
  void Wake();
  // One pass over up to `batch` entries. Returns how many were removed (delivered or
  // dead-lettered). UNAVAILABLE when Redis failed or an entry failed transiently (it stays),
  // FAILED_PRECONDITION when another instance holds the lease.
  absl::StatusOr<int> RunOnce();
  absl::StatusOr<int64_t> Pending();

  // Observability hooks (set before Start). on_pass: entries delivered to their topic, and
  // entries whose publish failed (transiently or for good) in this pass.
  std::function<void(int delivered, int failed)> on_pass;
  // Entries sent to the dead-letter topic in this pass (hotline_deadletter_events_total).
  std::function<void(int dead_lettered)> on_dead_lettered;
  // The list's length after each pass. Prefer OutboxMonitor, which does not wait for a pass.
  std::function<void(int64_t pending)> on_pending;

 private:
  struct PassResult {
    int removed = 0;      // delivered or dead-lettered, and removed from the list
    absl::Status status;  // as RunOnce's
  };
  PassResult RunPass();
  void Loop();
  absl::StatusOr<bool> RenewLease();

  RedisClient* redis_;
  MessagePublisher* publisher_;
  OutboxRelayOptions opts_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace hotline
