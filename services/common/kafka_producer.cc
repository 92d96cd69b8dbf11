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
    if (msg.err() == RdKafka::ERR_NO_ERROR) {
      (*done)(absl::OkStatus());
    } else {
      (*done)(absl::UnavailableError(absl::StrCat("kafka delivery to ", msg.topic_name(), ": ",
                                                  RdKafka::err2str(msg.err()))));
    }
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
    (*cb)(absl::UnavailableError(
        absl::StrCat("kafka produce to ", topic, ": ", RdKafka::err2str(rc))));
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
