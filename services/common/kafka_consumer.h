#pragma once

#include <atomic>
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
//   anything else     → transient (Redis down...): retry the same message with backoff, never
//                       skip it. Ordering within the partition is kept.
using EventHandler = std::function<absl::Status(const v1::EventEnvelope&, const MessageMeta&)>;

struct KafkaConsumerOptions {
  std::string brokers;
  std::string group_id;
  std::vector<std::string> topics;
  std::string client_id = "hotline";
  int session_timeout_ms = 45000;
  int heartbeat_interval_ms = 3000;
  std::map<std::string, std::string> extra;
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
                          const std::string& reason);
  void SetAssignment(TopicPartitionList tps);

  KafkaConsumerOptions opts_;
  EventHandler handler_;
  MessagePublisher* dead_letter_ = nullptr;
  std::unique_ptr<RdKafka::RebalanceCb> rebalance_cb_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  TopicPartitionList assignment_;
  friend class Rebalancer;
};

}  // namespace hotline
