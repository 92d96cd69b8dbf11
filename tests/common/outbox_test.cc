// The transactional outbox against a real redis-server, with an in-memory publisher for the
// relay's bookkeeping and with the dev broker for the real thing.
#include <catch2/catch.hpp>
#include <deque>
#include <mutex>
#include <set>

#include "services/common/events.h"
#include "services/common/outbox.h"
#include "tests/support/kafka_reader.h"
#include "tests/support/processes.h"

using namespace hotline;
using namespace std::chrono_literals;
using hotline::testing::DevBroker;
using hotline::testing::RedisServer;

namespace {

RedisEndpoint Local(int port) {
  RedisEndpoint e;
  e.port = port;
  return e;
}

// Fails the deliveries whose index (in publish order) is listed; succeeds the rest.
class ScriptedPublisher : public MessagePublisher {
 public:
  std::set<int> fail;
  std::vector<std::string> delivered;  // event ids in delivery order
  int calls = 0;
  void Publish(const std::string& topic, const std::string& key, const std::string& value,
               const std::vector<KafkaHeader>&, DeliveryCallback done) override {
    int i = calls++;
    if (fail.count(i)) {
      done(absl::UnavailableError("scripted failure"));
      return;
    }
    v1::EventEnvelope e;
    e.ParseFromString(value);
    delivered.push_back(topic + "/" + key + "/" + e.event_id());
    done(absl::OkStatus());
  }
};

v1::EventEnvelope Created(const std::string& ticket) {
  auto e = NewEnvelope("intake", ticket, 1);
  e.mutable_ticket_created()->set_ticket_id(ticket);
  return e;
}

}  // namespace

TEST_CASE("state and events are committed together, or not at all") {
  RedisServer server;
  RedisClient redis(Local(server.port()));
  Outbox outbox(&redis, "intake:outbox");
  auto ok = outbox.Commit({{"HSET", "ticket:T1", "state", "CREATED"}}, {Created("T1")});
  REQUIRE(ok.ok());
  CHECK(redis.Command({"LLEN", "intake:outbox"})->integer == 1);
  // A rejected state command leaves neither the state nor the event behind.
  auto bad = outbox.Commit({{"HSET", "ticket:T2", "state", "CREATED"}, {"NOSUCHCOMMAND"}},
                           {Created("T2")});
  CHECK_FALSE(bad.ok());
  CHECK(redis.Command({"EXISTS", "ticket:T2"})->integer == 0);
  CHECK(redis.Command({"LLEN", "intake:outbox"})->integer == 1);
}

TEST_CASE("the relay removes only the delivered prefix, in order") {
  RedisServer server;
  RedisClient redis(Local(server.port()));
  Outbox outbox(&redis, "svc:outbox");
  for (int i = 0; i < 5; ++i) {
    REQUIRE(outbox.Commit({}, {Created("T" + std::to_string(i))}).ok());
  }
  ScriptedPublisher pub;
  pub.fail = {2};  // the third delivery fails
  OutboxRelay relay(&redis, &pub, {"svc:outbox", "me"});
  auto first = relay.RunOnce();
  CHECK_FALSE(first.ok());
  CHECK(*relay.Pending() == 3);  // T2, T3, T4 stay, in order
  auto second = relay.RunOnce();
  REQUIRE(second.ok());
  CHECK(*second == 3);
  CHECK(*relay.Pending() == 0);
  // T3 and T4 went out twice (at-least-once); T2 only once it succeeded.
  std::vector<std::string> keys;
  for (const auto& d : pub.delivered) keys.push_back(d.substr(d.find('/') + 1, 2));
  CHECK(keys == std::vector<std::string>{"T0", "T1", "T3", "T4", "T2", "T3", "T4"});
}

TEST_CASE("only the relay holding the lease publishes") {
  RedisServer server;
  RedisClient redis(Local(server.port()));
  Outbox outbox(&redis, "svc:outbox");
  REQUIRE(outbox.Commit({}, {Created("T1")}).ok());
  ScriptedPublisher a, b;
  OutboxRelay ra(&redis, &a, {"svc:outbox", "instance-a"});
  OutboxRelay rb(&redis, &b, {"svc:outbox", "instance-b"});
  REQUIRE(ra.RunOnce().ok());
  auto other = rb.RunOnce();
  CHECK(other.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(a.delivered.size() == 1);
  CHECK(b.delivered.empty());
}

TEST_CASE("an outbox entry survives the broker being unreachable and is delivered when it returns") {
  RedisServer server;
  DevBroker broker;
  RedisClient redis(Local(server.port()));
  KafkaProducerOptions po;
  po.brokers = broker.bootstrap();
  po.message_timeout_ms = 2000;  // fail attempts fast so the test sees the retry cycle
  auto producer = KafkaProducer::Create(po);
  REQUIRE(producer.ok());
  REQUIRE((*producer)->CheckBrokers(5s).ok());

  broker.Down();
  Outbox outbox(&redis, "intake:outbox");
  auto event = Created("GZ-1");
  REQUIRE(outbox.Commit({{"HSET", "ticket:GZ-1", "state", "CREATED"}}, {event}).ok());
  OutboxRelayOptions ro{"intake:outbox", "me"};
  ro.idle_poll = 100ms;
  OutboxRelay relay(&redis, producer->get(), ro);
  int failed_passes = 0;
  relay.on_pass = [&](int, int failed) { failed_passes += failed > 0; };
  relay.Start();
  // While the broker is down the entry stays, through failed attempts.
  REQUIRE(hotline::testing::WaitFor([&] { return failed_passes >= 1; }, 20s));
  CHECK(*relay.Pending() == 1);

  broker.Up();
  REQUIRE(hotline::testing::WaitFor([&] { return *relay.Pending() == 0; }, 30s));
  relay.Stop();
  auto got = hotline::testing::ReadTopic(broker.bootstrap(), kTicketsTopic, 1, 10s);
  REQUIRE(got.size() >= 1);
  v1::EventEnvelope read;
  REQUIRE(read.ParseFromString(got[0].value));
  CHECK(read.event_id() == event.event_id());
  CHECK(got[0].key == "GZ-1");
  CHECK(got[0].headers["event_id"] == event.event_id());
  for (const auto& m : got) {  // a retry may have duplicated it, never replaced it
    v1::EventEnvelope e;
    REQUIRE(e.ParseFromString(m.value));
    CHECK(e.event_id() == event.event_id());
  }
}
