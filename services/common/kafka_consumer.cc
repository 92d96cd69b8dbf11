#include "services/common/kafka_consumer.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/log.h"

namespace hotline {

class Rebalancer : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(KafkaConsumer* owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    TopicPartitionList tps;
    for (auto* tp : partitions) tps.emplace_back(tp->topic(), tp->partition());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      consumer->assign(partitions);
      owner_->SetAssignment(tps);
      LogInfo("partitions assigned",
              {{"group", owner_->opts_.group_id}, {"count", std::to_string(tps.size())}});
      if (owner_->opts_.on_assigned) owner_->opts_.on_assigned(tps);
    } else {
      if (owner_->opts_.on_revoked) owner_->opts_.on_revoked(tps);
      consumer->unassign();
      owner_->SetAssignment({});
      LogInfo("partitions revoked",
              {{"group", owner_->opts_.group_id}, {"count", std::to_string(tps.size())}});
    }
  }

 private:
  KafkaConsumer* owner_;
};

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(
    KafkaConsumerOptions opts, EventHandler handler, MessagePublisher* dead_letter) {
  if (opts.topics.empty()) return absl::InvalidArgumentError("kafka consumer: no topics");
  if (opts.max_attempts < 1) {
    return absl::InvalidArgumentError("kafka consumer: max_attempts: must be at least 1");
  }
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer());
  c->opts_ = std::move(opts);
  c->handler_ = std::move(handler);
  c->dead_letter_ = dead_letter;
  c->rebalance_cb_ = std::make_unique<Rebalancer>(c.get());
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", c->opts_.brokers},
      {"group.id", c->opts_.group_id},
      {"client.id", c->opts_.client_id},
      {"enable.auto.commit", "true"},
      {"enable.auto.offset.store", "false"},
      {"auto.commit.interval.ms", "1000"},
      {"auto.offset.reset", "earliest"},
      {"session.timeout.ms", std::to_string(c->opts_.session_timeout_ms)},
      {"heartbeat.interval.ms", std::to_string(c->opts_.heartbeat_interval_ms)},
      {"fetch.wait.max.ms", std::to_string(c->opts_.fetch_wait_max_ms)},
  };
  for (const auto& [k, v] : c->opts_.extra) settings[k] = v;
  std::string err;
  for (const auto& [k, v] : settings) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("kafka config ", k, "=", v, ": ", err));
    }
  }
  if (conf->set("rebalance_cb", c->rebalance_cb_.get(), err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(err);
  }
  c->consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c->consumer_) return absl::InvalidArgumentError(absl::StrCat("kafka consumer: ", err));
  RdKafka::ErrorCode rc = c->consumer_->subscribe(c->opts_.topics);
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka subscribe: ", RdKafka::err2str(rc)));
  }
  return c;
}

KafkaConsumer::~KafkaConsumer() { Stop(); }

void KafkaConsumer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void KafkaConsumer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (consumer_) {
    consumer_->close();  // commits stored offsets and leaves the group
    consumer_.reset();
  }
}

void KafkaConsumer::SetAssignment(TopicPartitionList tps) {
  std::sort(tps.begin(), tps.end());
  absl::MutexLock lock(&mu_);
  assignment_ = std::move(tps);
}

TopicPartitionList KafkaConsumer::Assignment() const {
  absl::MutexLock lock(&mu_);
  return assignment_;
}

absl::Status KafkaConsumer::DeadLetter(const MessageMeta& meta, const std::string& value,
                                       const std::string& reason, int attempts) {
  if (dead_letter_ == nullptr) return absl::FailedPreconditionError("no dead-letter publisher");
  std::vector<KafkaHeader> headers = {
      {"hotline-dlq-reason", reason},
      {"hotline-dlq-topic", meta.topic},
      {"hotline-dlq-partition", std::to_string(meta.partition)},
      {"hotline-dlq-offset", std::to_string(meta.offset)},
      {"hotline-dlq-group", opts_.group_id},
      {"hotline-dlq-attempts", std::to_string(attempts)},
  };
  if (!meta.traceparent.empty()) headers.push_back({"traceparent", meta.traceparent});
  // Too large for the dead-letter topic: the envelope without its payload still says which event
  // it was (an undecodable value has nothing to keep; the headers say where it was).
  std::string summary;
  v1::EventEnvelope e;
  if (e.ParseFromString(value)) {
    e.clear_payload();
    summary = e.SerializeAsString();
  }
  return PublishDeadLetter(dead_letter_, meta.key, value, summary, headers,
                           std::chrono::milliseconds(30000));
}

void KafkaConsumer::Run() {
  while (!stop_.load()) {
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(200 /*ms*/));
    if (!msg) continue;
    if (msg->err() == RdKafka::ERR__TIMED_OUT || msg->err() == RdKafka::ERR__PARTITION_EOF) {
      continue;
    }
    if (msg->err() != RdKafka::ERR_NO_ERROR) {
      LogWarn("kafka consume error", {{"error", msg->errstr()}});
      continue;
    }
    MessageMeta meta;
    meta.topic = msg->topic_name();
    meta.partition = msg->partition();
    meta.offset = msg->offset();
    if (msg->key() != nullptr) meta.key = *msg->key();
    if (RdKafka::Headers* h = msg->headers()) {
      RdKafka::Headers::Header tp = h->get_last("traceparent");
      if (tp.err() == RdKafka::ERR_NO_ERROR && tp.value() != nullptr) {
        meta.traceparent.assign(static_cast<const char*>(tp.value()), tp.value_size());
      }
    }
    std::string value(static_cast<const char*>(msg->payload()), msg->len());

    v1::EventEnvelope event;
    std::string poison;
    if (!event.ParseFromString(value)) {
      poison = "undecodable protobuf EventEnvelope";
    } else if (event.payload_case() == v1::EventEnvelope::PAYLOAD_NOT_SET) {
      poison = "envelope has no known payload";
    } else if (event.event_id().empty()) {
      poison = "envelope has no event_id";
    }

    // Everything logged while handling this message carries its trace.
    ScopedTrace trace(!meta.traceparent.empty() ? meta.traceparent : event.traceparent());
    // Retry until the message is applied or dead-lettered; only then move past it.
    int attempts = 0;
    auto backoff = opts_.retry_backoff;
    while (!stop_.load()) {
      absl::Status s;
      const char* outcome = "applied";
      if (poison.empty()) {
        ++attempts;
        s = handler_(event, meta);
        if (absl::IsInvalidArgument(s)) {
          poison = std::string(s.message());
          continue;
        }
        if (!s.ok() && !absl::IsUnavailable(s) && attempts >= opts_.max_attempts) {
          poison =
              absl::StrCat("gave up after ", attempts,
                           " attempts: ", absl::StatusCodeToString(s.code()), ": ", s.message());
          continue;
        }
      } else {
        s = DeadLetter(meta, value, poison, attempts);
        outcome = "dead_lettered";
        if (s.ok()) {
          LogWarn("message dead-lettered", {{"topic", meta.topic},
                                            {"partition", std::to_string(meta.partition)},
                                            {"offset", std::to_string(meta.offset)},
                                            {"reason", poison}});
        }
      }
      if (s.ok()) {
        std::vector<RdKafka::TopicPartition*> offsets = {
            RdKafka::TopicPartition::create(meta.topic, meta.partition, meta.offset + 1)};
        consumer_->offsets_store(offsets);
        RdKafka::TopicPartition::destroy(offsets);
        if (opts_.observe) opts_.observe(meta.topic, outcome);
        break;
      }
      if (opts_.observe) opts_.observe(meta.topic, "retried");
      LogWarn(poison.empty() ? "event handling failed; will retry"
                             : "dead-lettering failed; will retry",
              {{"topic", meta.topic},
               {"partition", std::to_string(meta.partition)},
               {"offset", std::to_string(meta.offset)},
               {"attempt", std::to_string(attempts)},
               {"error", std::string(s.message())}});
      // Sleep in small steps so Stop() is prompt; keep serving heartbeats via the background
      // thread librdkafka runs for the group.
      auto until = std::chrono::steady_clock::now() + backoff;
      while (!stop_.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      backoff = std::min(backoff * 2, opts_.retry_backoff_max);
    }
  }
}

}  // namespace hotline
