#include "tests/support/kafka_reader.h"

#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <stdexcept>

namespace hotline::testing {

std::vector<ReadMessage> ReadTopic(const std::string& bootstrap, const std::string& topic,
                                   size_t want, std::chrono::milliseconds timeout) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("group.id", "test-reader", err);  // required by the API; assign() never joins it
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) throw std::runtime_error("reader: " + err);

  RdKafka::Metadata* md = nullptr;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(c.get(), topic, nullptr, err));
  if (c->metadata(false, t.get(), &md, 5000) != RdKafka::ERR_NO_ERROR || md->topics()->empty()) {
    delete md;
    throw std::runtime_error("reader: no metadata for " + topic);
  }
  std::vector<RdKafka::TopicPartition*> parts;
  for (const auto* p : *md->topics()->at(0)->partitions()) {
    parts.push_back(
        RdKafka::TopicPartition::create(topic, p->id(), RdKafka::Topic::OFFSET_BEGINNING));
  }
  delete md;
  c->assign(parts);
  RdKafka::TopicPartition::destroy(parts);

  std::vector<ReadMessage> out;
  auto until = std::chrono::steady_clock::now() + timeout;
  while (out.size() < want && std::chrono::steady_clock::now() < until) {
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (!m || m->err() != RdKafka::ERR_NO_ERROR) continue;
    ReadMessage r;
    r.topic = m->topic_name();
    r.partition = m->partition();
    r.offset = m->offset();
    if (m->timestamp().type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE) {
      r.timestamp_ms = m->timestamp().timestamp;
    }
    if (m->key()) r.key = *m->key();
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    if (RdKafka::Headers* h = m->headers()) {
      for (const auto& hd : h->get_all()) {
        r.headers[hd.key()] = std::string(static_cast<const char*>(hd.value()), hd.value_size());
      }
    }
    out.push_back(std::move(r));
  }
  c->close();
  return out;
}

}  // namespace hotline::testing
