// The consumer group member, the idempotent consumer and the dead-letter path, against the dev
// broker and a real redis-server.
#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <map>
#include <set>

#include "services/common/events.h"
#include "services/common/idempotent.h"
#include "services/common/kafka_consumer.h"
#include "tests/support/kafka_reader.h"
#include "tests/support/processes.h"

using namespace hotline;
using namespace std::chrono_literals;
using hotline::testing::DevBroker;
using hotline::testing::RedisServer;
using hotline::testing::WaitFor;

namespace {

RedisEndpoint Local(int port) {
  RedisEndpoint e;
  e.port = port;
  return e;
}

KafkaConsumerOptions GroupOptions(const DevBroker& broker, const std::string& group) {
  KafkaConsumerOptions o;
  o.brokers = broker.bootstrap();
  o.group_id = group;
  o.topics = {kTicketsTopic};
  // The dev settings of DESIGN.md: a first join in about 3 s instead of 45.
  o.session_timeout_ms = 6000;
  o.heartbeat_interval_ms = 500;
  return o;
}

std::unique_ptr<KafkaProducer> Producer(const DevBroker& broker) {
  KafkaProducerOptions po;
  po.brokers = broker.bootstrap();
  auto p = KafkaProducer::Create(po);
  REQUIRE(p.ok());
  return std::move(*p);
}

v1::EventEnvelope Created(const std::string& ticket) {
  auto e = NewEnvelope("intake", ticket, 1);
  e.mutable_ticket_created()->set_ticket_id(ticket);
  return e;
}

}  // namespace

TEST_CASE("a redelivered event is applied once") {
  RedisServer server;
  DevBroker broker;
  RedisClient redis(Local(server.port()));
  IdempotentApplier applier(&redis, "sla_timer");
  auto producer = Producer(broker);

  std::atomic<int> handled{0};
  auto handler = [&](const v1::EventEnvelope& e, const MessageMeta&) -> absl::Status {
    auto r = applier.Apply(e.event_id(), [&](const RedisClient::Reader&) {
      return absl::StatusOr<std::vector<RedisCommand>>(
          std::vector<RedisCommand>{{"INCR", "clocks_started:" + e.key()}});
    });
    ++handled;
    return r.status();
  };
  auto consumer = KafkaConsumer::Create(GroupOptions(broker, "sla"), handler, producer.get());
  REQUIRE(consumer.ok());
  (*consumer)->Start();

  // The same event three times (a producer retry, a replay after a crash...), then another.
  auto e = Created("T-7");
  for (int i = 0; i < 3; ++i) {
    REQUIRE(producer->PublishSync(kTicketsTopic, "T-7", e.SerializeAsString(), {}, 10s).ok());
  }
  auto other = Created("T-7");
  REQUIRE(producer->PublishSync(kTicketsTopic, "T-7", other.SerializeAsString(), {}, 10s).ok());

  REQUIRE(WaitFor([&] { return handled.load() == 4; }, 30s));
  CHECK(redis.Command({"GET", "clocks_started:T-7"})->str == "2");  // two distinct events
  (*consumer)->Stop();
}

TEST_CASE("an undecodable message lands in the dead-letter topic and the consumer moves on") {
  DevBroker broker;
  auto producer = Producer(broker);
  std::mutex mu;
  std::vector<std::string> applied;
  std::vector<std::pair<std::string, std::string>> outcomes;
  auto handler = [&](const v1::EventEnvelope& e, const MessageMeta&) {
    std::lock_guard<std::mutex> lock(mu);
    applied.push_back(e.key());
    return absl::OkStatus();
  };
  auto opts = GroupOptions(broker, "dispatch");
  opts.observe = [&](const std::string& topic, const char* outcome) {
    std::lock_guard<std::mutex> lock(mu);
    outcomes.emplace_back(topic, outcome);
  };
  auto consumer = KafkaConsumer::Create(opts, handler, producer.get());
  REQUIRE(consumer.ok());
  (*consumer)->Start();

  // Same key, so all three share one partition and arrive in this order.
  REQUIRE(producer->PublishSync(kTicketsTopic, "T-9", "\xff\xfe not protobuf", {}, 10s).ok());
  v1::EventEnvelope empty = NewEnvelope("intake", "T-9", 1);  // no payload
  REQUIRE(producer->PublishSync(kTicketsTopic, "T-9", empty.SerializeAsString(), {}, 10s).ok());
  REQUIRE(producer->PublishSync(kTicketsTopic, "T-9", Created("T-9").SerializeAsString(), {}, 10s)
              .ok());

  REQUIRE(WaitFor([&] { std::lock_guard<std::mutex> l(mu); return applied.size() == 1; }, 30s));
  auto dead = hotline::testing::ReadTopic(broker.bootstrap(), kDeadLetterTopic, 2, 10s);
  REQUIRE(dead.size() == 2);
  CHECK(dead[0].value == "\xff\xfe not protobuf");
  CHECK(dead[0].headers["hotline-dlq-reason"] == "undecodable protobuf EventEnvelope");
  CHECK(dead[0].headers["hotline-dlq-topic"] == kTicketsTopic);
  CHECK(dead[0].headers["hotline-dlq-group"] == "dispatch");
  CHECK(dead[1].headers["hotline-dlq-reason"] == "envelope has no known payload");
  CHECK(dead[0].key == "T-9");
  std::lock_guard<std::mutex> lock(mu);
  CHECK(std::count(outcomes.begin(), outcomes.end(),
                   std::make_pair(std::string(kTicketsTopic), std::string("dead_lettered"))) == 2);
}

TEST_CASE("a handler's transient failure is retried, not skipped") {
  DevBroker broker;
  auto producer = Producer(broker);
  std::atomic<int> attempts{0};
  std::atomic<bool> done{false};
  auto handler = [&](const v1::EventEnvelope&, const MessageMeta&) -> absl::Status {
    if (++attempts < 3) return absl::UnavailableError("redis down");
    done = true;
    return absl::OkStatus();
  };
  auto consumer = KafkaConsumer::Create(GroupOptions(broker, "survey"), handler, producer.get());
  REQUIRE(consumer.ok());
  (*consumer)->Start();
  REQUIRE(producer->PublishSync(kTicketsTopic, "T-1", Created("T-1").SerializeAsString(), {}, 10s)
              .ok());
  REQUIRE(WaitFor([&] { return done.load(); }, 30s));
  CHECK(attempts.load() == 3);
  CHECK(hotline::testing::ReadTopic(broker.bootstrap(), kDeadLetterTopic, 1, 1s).empty());
}

TEST_CASE("a consumer group of two splits the partitions and the survivor takes over") {
  DevBroker broker(/*partitions=*/6);
  auto producer = Producer(broker);
  std::mutex mu;
  std::map<std::string, std::set<std::string>> seen_by;  // instance → keys
  auto make = [&](const std::string& name) {
    auto handler = [&, name](const v1::EventEnvelope& e, const MessageMeta&) {
      std::lock_guard<std::mutex> lock(mu);
      seen_by[name].insert(e.key());
      return absl::OkStatus();
    };
    auto opts = GroupOptions(broker, "analytics");
    opts.client_id = name;
    auto c = KafkaConsumer::Create(opts, handler, producer.get());
    REQUIRE(c.ok());
    (*c)->Start();
    return std::move(*c);
  };
  auto a = make("a");
  auto b = make("b");
  REQUIRE(WaitFor(
      [&] {
        auto x = a->Assignment();
        auto y = b->Assignment();
        return x.size() + y.size() == 6 && !x.empty() && !y.empty();
      },
      60s));
  std::set<std::pair<std::string, int32_t>> all;
  for (const auto& tp : a->Assignment()) all.insert(tp);
  for (const auto& tp : b->Assignment()) all.insert(tp);
  CHECK(all.size() == 6);  // disjoint and complete

  b->Stop();  // leaves the group: its partitions move to a
  REQUIRE(WaitFor([&] { return a->Assignment().size() == 6; }, 60s));

  // Keys spread over every partition; the survivor sees all of them.
  std::set<std::string> keys;
  for (int i = 0; i < 60; ++i) {
    std::string k = "T-" + std::to_string(i);
    keys.insert(k);
    REQUIRE(producer->PublishSync(kTicketsTopic, k, Created(k).SerializeAsString(), {}, 10s).ok());
  }
  REQUIRE(WaitFor([&] { std::lock_guard<std::mutex> l(mu); return seen_by["a"] == keys; }, 30s));
  a->Stop();
}
