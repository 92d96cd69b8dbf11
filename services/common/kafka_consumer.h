#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "hotline/v1/events.pb.h"
#include "services/common/kafka_producer.h"

namespace RdKafka {
class KafkaConsumer;
class RebalanceCb;
}  // namespace RdKafka

namespace hotline {

struct MessageMeta {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string traceparent;  // from the Kafka header, empty if none
};

using TopicPartitionList = std::vector<std::pair<std::string, int32_t>>;

// What the consumer does with a message, decided by the handler's status:
//   OK                → offset stored (committed on the next auto-commit);
//   INVALID_ARGUMENT  → the event can never be applied: dead-letter with the reason, move on;
//   UNAVAILABLE       → a dependency is down (Redis, another service): retry the same message
//                       with backoff (100 ms doubling to 5 s) for as long as it takes, never
//                       skip it. Skipping would dead-letter every event of an outage; handlers
//                       must report "dependency down" as UNAVAILABLE and nothing else as such;
//   anything else     → (INTERNAL, FAILED_PRECONDITION, DATA_LOSS, ABORTED...) retried with the
//                       same backoff up to `max_attempts` times, then dead-lettered with the last
//                       error as the reason, and the consumer moves on: a bug or bad data in one
//                       event cannot stop the partition for good.
// Order: the consumer is sequential. It handles one message at a time and moves past it only
// once it is applied or dead-lettered, so a partition's messages, and with them every key's,
// are handled in their order; a retried message holds back the messages behind it (other keys
// of its partition included) until it settles. A dead-lettered event is missing from its key's
// sequence; the key's later events are applied without it.
// While a message is retried the consumer does not poll: past max.poll.interval.ms (5 min by
// default) librdkafka leaves the group and the partitions move on; the message's offset was not
// stored, so it is delivered again (to this or another member): at-least-once holds.
using EventHandler = std::function<absl::Status(const v1::EventEnvelope&, const MessageMeta&)>;

struct KafkaConsumerOptions {
  std::string brokers;
  std::string group_id;
  std::vector<std::string> topics;
  std::string client_id = "hotline";
  int session_timeout_ms = 45000;
  int heartbeat_interval_ms = 3000;
  std::map<std::string, std::string> extra;
  // How long a fetch waits for data (librdkafka's fetch.wait.max.ms). A real broker answers a
  // waiting fetch as soon as data arrives, so the default costs no latency there. The dev broker
  // (librdkafka's mock cluster) always waits the full time when the partition was empty, which
  // adds up to this much to every hop: the dev stack and tests set it to ~10 ms.
  int fetch_wait_max_ms = 500;
  // Attempts for a failure other than UNAVAILABLE before the message is dead-lettered.
  int max_attempts = 5;
  std::chrono::milliseconds retry_backoff{100};  // first wait; doubles per attempt
  std::chrono::milliseconds retry_backoff_max{5000};
  // Called after each message with its outcome: "applied", "dead_lettered", "retried".
  std::function<void(const std::string& topic, const char* outcome)> observe;
  // Rebalance hooks, called on the consumer thread (state keyed by partition loads here).
  std::function<void(const TopicPartitionList&)> on_assigned;
  std::function<void(const TopicPartitionList&)> on_revoked;
};

// A consumer group member with at-least-once delivery (enable.auto.offset.store=false: an offset
// is stored only after the handler succeeded or the message went to the dead-letter topic).
// Undecodable input and envelopes without a payload go to hotline.deadletter.v1 with the reason.
class KafkaConsumer {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(KafkaConsumerOptions opts,
                                                               EventHandler handler,
                                                               MessagePublisher* dead_letter);
  ~KafkaConsumer();

  void Start();
  // Stops polling, leaves the group (so partitions move to the others at once) and closes.
  void Stop();
  TopicPartitionList Assignment() const;

 private:
  KafkaConsumer() = default;
  void Run();
  absl::Status DeadLetter(const MessageMeta& meta, const std::string& value,
                          const std::string& reason, int attempts);
  void SetAssignment(TopicPartitionList tps);

  KafkaConsumerOptions opts_;
  EventHandler handler_;
  MessagePublisher* dead_letter_ = nullptr;
  std::unique_ptr<RdKafka::RebalanceCb> rebalance_cb_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable absl::Mutex mu_;
  TopicPartitionList assignment_ ABSL_GUARDED_BY(mu_);
  friend class Rebalancer;
};

}  // namespace hotline
