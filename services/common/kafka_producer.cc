#include "services/common/kafka_producer.h"

#include <librdkafka/rdkafkacpp.h>

#include <future>

#include "absl/strings/str_cat.h"

namespace hotline {
namespace {

class DeliveryReports : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& msg) override {
    auto* done = static_cast<DeliveryCallback*>(msg.msg_opaque());
    if (done == nullptr) return;
    (*done)(KafkaDeliveryStatus(msg.err(), msg.topic_name()));
    delete done;
  }
};

absl::Status SetConf(RdKafka::Conf* conf, const std::string& k, const std::string& v) {
  std::string err;
  if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
    return absl::InvalidArgumentError(absl::StrCat("kafka config ", k, "=", v, ": ", err));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsPermanentKafkaError(int err) {
  switch (static_cast<RdKafka::ErrorCode>(err)) {
    // The message itself: no retry changes its size, format or content.
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:  // broker's or our own message.max.bytes
    case RdKafka::ERR_INVALID_MSG_SIZE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_MSG:     // "invalid message" (CRC mismatch); librdkafka
                                       // already retried it, the bytes are what they are
    case RdKafka::ERR_INVALID_RECORD:  // refused by the broker's record validation
    case RdKafka::ERR_INVALID_TIMESTAMP:
    case RdKafka::ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RdKafka::ERR_POLICY_VIOLATION:
    case RdKafka::ERR__BAD_MSG:
    case RdKafka::ERR__INVALID_ARG:
    // The topic: a name the cluster rejects, one it does not know after the metadata refresh
    // (local error, unlike the broker's UNKNOWN_TOPIC_OR_PART, which Kafka marks retriable
    // because it is also what a leader election looks like), or one we may not write to.
    case RdKafka::ERR_TOPIC_EXCEPTION:
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR__UNKNOWN_PARTITION:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
      return true;
    // Everything else is about the cluster or the connection, not this message: broker down
    // (_TRANSPORT, _ALL_BROKERS_DOWN), _MSG_TIMED_OUT, _QUEUE_FULL, NOT_LEADER..., and also
    // CLUSTER_AUTHORIZATION_FAILED and _FATAL, which refuse every message alike, dead-letter
    // included: the outbox keeps the entries until an operator fixes the cause.
    default:
      return false;
  }
}

absl::Status KafkaDeliveryStatus(int err, const std::string& topic) {
  auto code = static_cast<RdKafka::ErrorCode>(err);
  if (code == RdKafka::ERR_NO_ERROR) return absl::OkStatus();
  std::string message = absl::StrCat("kafka delivery to ", topic, ": ", RdKafka::err2str(code));
  if (IsPermanentKafkaError(err)) return absl::InvalidArgumentError(message);
  return absl::UnavailableError(message);
}

absl::Status MessagePublisher::PublishSync(const std::string& topic, const std::string& key,
                                           const std::string& value,
                                           const std::vector<KafkaHeader>& headers,
                                           std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  auto future = promise->get_future();
  Publish(topic, key, value, headers, [promise](absl::Status s) { promise->set_value(s); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return absl::DeadlineExceededError(absl::StrCat("kafka delivery to ", topic, " timed out"));
  }
  return future.get();
}

absl::Status PublishDeadLetter(MessagePublisher* publisher, const std::string& key,
                               const std::string& value, const std::string& summary,
                               std::vector<KafkaHeader> headers,
                               std::chrono::milliseconds timeout) {
  // The topic name is spelled out here so this file does not depend on events.h.
  static const std::string kTopic = "hotline.deadletter.v1";
  absl::Status s = publisher->PublishSync(kTopic, key, value, headers, timeout);
  if (!IsPermanentPublishFailure(s)) return s;
  headers.push_back({"hotline-dlq-truncated", "true"});
  headers.push_back({"hotline-dlq-size", std::to_string(value.size())});
  headers.push_back({"hotline-dlq-truncated-reason", std::string(s.message())});
  return publisher->PublishSync(kTopic, key, summary, headers, timeout);
}

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(
    const KafkaProducerOptions& opts) {
  std::unique_ptr<KafkaProducer> p(new KafkaProducer());
  p->dr_cb_ = std::make_unique<DeliveryReports>();
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", opts.brokers},
      {"client.id", opts.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      {"message.timeout.ms", std::to_string(opts.message_timeout_ms)},
  };
  for (const auto& [k, v] : opts.extra) settings[k] = v;
  for (const auto& [k, v] : settings) {
    if (auto s = SetConf(conf.get(), k, v); !s.ok()) return s;
  }
  std::string err;
  if (conf->set("dr_cb", p->dr_cb_.get(), err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(err);
  }
  p->producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!p->producer_) return absl::InvalidArgumentError(absl::StrCat("kafka producer: ", err));
  KafkaProducer* raw = p.get();
  p->poller_ = std::thread([raw] {
    while (!raw->stop_.load()) raw->producer_->poll(100 /*ms*/);
  });
  return p;
}

KafkaProducer::~KafkaProducer() {
  if (producer_) producer_->flush(5000 /*5 s*/);
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  // Reports still pending after the flush are failed so no caller waits forever.
  if (producer_) {
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer_->poll(0);
  }
}

void KafkaProducer::Publish(const std::string& topic, const std::string& key,
                            const std::string& value, const std::vector<KafkaHeader>& headers,
                            DeliveryCallback done) {
  auto* cb = new DeliveryCallback(std::move(done));
  RdKafka::Headers* h = RdKafka::Headers::create();
  for (const auto& kv : headers) h->add(kv.key, kv.value);
  RdKafka::ErrorCode rc = producer_->produce(
      topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
      const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0 /*now*/, h, cb);
  if (rc != RdKafka::ERR_NO_ERROR) {
    delete h;  // on failure ownership of the headers stays with us
    // produce() refuses at once what it can judge locally: a message over our own
    // message.max.bytes is MSG_SIZE_TOO_LARGE here (permanent), a full queue is transient.
    (*cb)(KafkaDeliveryStatus(rc, topic));
    delete cb;
  }
}

absl::Status KafkaProducer::Flush(std::chrono::milliseconds timeout) {
  RdKafka::ErrorCode rc = producer_->flush(static_cast<int>(timeout.count()));
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::DeadlineExceededError(
        absl::StrCat("kafka flush: ", producer_->outq_len(), " messages still in flight"));
  }
  return absl::OkStatus();
}

absl::Status KafkaProducer::CheckBrokers(std::chrono::milliseconds timeout) {
  RdKafka::Metadata* md = nullptr;
  RdKafka::ErrorCode rc =
      producer_->metadata(false, nullptr, &md, static_cast<int>(timeout.count()));
  delete md;
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka brokers: ", RdKafka::err2str(rc)));
  }
  return absl::OkStatus();
}

}  // namespace hotline
