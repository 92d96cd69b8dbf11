#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace RdKafka {
class Producer;
class DeliveryReportCb;
}  // namespace RdKafka

namespace hotline {

struct KafkaHeader {
  std::string key;
  std::string value;
};

// Delivery outcomes, as every MessagePublisher reports them:
//   OK                → the broker acknowledged the message (acks=all);
//   INVALID_ARGUMENT  → permanent: this message will never be accepted as it is (too large,
//                       invalid record, topic not authorized or not existing...). Publishing it
//                       again cannot help; the outbox dead-letters it;
//   anything else     → transient (broker unreachable, timed out, queue full...): try again later.
using DeliveryCallback = std::function<void(absl::Status)>;

// Whether a librdkafka error code (RdKafka::ErrorCode, i.e. rd_kafka_resp_err_t) is permanent
// for the message it was reported on. The one place that decides it; see kafka_producer.cc.
bool IsPermanentKafkaError(int err);
// The status a delivery report or a refused produce() maps to: INVALID_ARGUMENT when permanent,
// UNAVAILABLE otherwise. The message names the topic and librdkafka's reason.
absl::Status KafkaDeliveryStatus(int err, const std::string& topic);
inline bool IsPermanentPublishFailure(const absl::Status& s) { return absl::IsInvalidArgument(s); }

// Where events go. The transactional outbox relay and the dead-letter path publish through this,
// so their logic is tested with an in-memory fake as well as against the dev broker.
class MessagePublisher {
 public:
  virtual ~MessagePublisher() = default;
  // Asynchronous. `done` runs exactly once with the delivery outcome (OK only after the broker
  // acknowledged the message with acks=all).
  virtual void Publish(const std::string& topic, const std::string& key, const std::string& value,
                       const std::vector<KafkaHeader>& headers, DeliveryCallback done) = 0;
  // Blocks until delivered or failed (or `timeout` passed: DEADLINE_EXCEEDED).
  absl::Status PublishSync(const std::string& topic, const std::string& key,
                           const std::string& value, const std::vector<KafkaHeader>& headers,
                           std::chrono::milliseconds timeout);
};

// Publishes `value` to hotline.deadletter.v1 with `headers` (which carry hotline-dlq-reason).
// When the dead-letter topic refuses it for good as well (typically: too large), publishes
// `summary` instead (a small record: the caller's choice of what identifies the message), with
// the extra headers hotline-dlq-truncated=true, hotline-dlq-size (the original's bytes) and
// hotline-dlq-truncated-reason, so the record of what happened is never lost to its own size.
absl::Status PublishDeadLetter(MessagePublisher* publisher, const std::string& key,
                               const std::string& value, const std::string& summary,
                               std::vector<KafkaHeader> headers, std::chrono::milliseconds timeout);

struct KafkaProducerOptions {
  std::string brokers;
  std::string client_id = "hotline";
  // How long librdkafka keeps retrying one message before reporting failure. The outbox keeps
  // the event and publishes it again later, so this bounds only one attempt.
  int message_timeout_ms = 30000;
  std::map<std::string, std::string> extra;  // any other librdkafka property
};

// librdkafka's idempotent producer (enable.idempotence=true implies acks=all and in-order,
// no-duplicate retries) with the murmur2_random partitioner, so Java clients agree on
// partitions. A background thread serves delivery reports.
class KafkaProducer : public MessagePublisher {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Create(const KafkaProducerOptions& opts);
  ~KafkaProducer() override;

  void Publish(const std::string& topic, const std::string& key, const std::string& value,
               const std::vector<KafkaHeader>& headers, DeliveryCallback done) override;
  // Waits for every outstanding delivery report.
  absl::Status Flush(std::chrono::milliseconds timeout);
  // Asks a broker for metadata: OK when the cluster answers within `timeout`.
  absl::Status CheckBrokers(std::chrono::milliseconds timeout);

 private:
  KafkaProducer() = default;
  std::unique_ptr<RdKafka::DeliveryReportCb> dr_cb_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace hotline
