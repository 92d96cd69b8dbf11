// The transactional outbox against a real redis-server, with an in-memory publisher for the
// relay's bookkeeping and with the dev broker for the real thing.
#include "services/common/outbox.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "services/common/events.h"
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

// One redis-server and one dev broker for the whole file (each case uses its own keys).
RedisServer& SharedRedis() {
  static RedisServer server;
  return server;
}
DevBroker& SharedBroker() {
  static DevBroker broker;
  return broker;
}

// Outcomes scripted per ticket key, consumed in publish order; a key with nothing scripted is
// delivered. Records every publish, so a test can count how often each event went out.
class ScriptedPublisher : public MessagePublisher {
 public:
  std::map<std::string, std::deque<absl::Status>> script;  // key → next outcomes
  size_t dead_letter_max_bytes = SIZE_MAX;  // the dead-letter topic refuses larger values
  std::vector<std::string> delivered;       // "topic/key/event_id" in delivery order
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> dead;  // value, headers
  std::map<std::string, int> sent;  // event id → publishes (any outcome)
  void Publish(const std::string& topic, const std::string& key, const std::string& value,
               const std::vector<KafkaHeader>& headers, DeliveryCallback done) override {
    if (topic == kDeadLetterTopic) {
      if (value.size() > dead_letter_max_bytes) {
        done(absl::InvalidArgumentError("kafka delivery to dead letters: Message size too large"));
        return;
      }
      std::map<std::string, std::string> h;
      for (const auto& kv : headers) h[kv.key] = kv.value;
      dead.emplace_back(value, h);
      done(absl::OkStatus());
      return;
    }
    v1::EventEnvelope e;
    e.ParseFromString(value);
    ++sent[e.event_id()];
    auto& next = script[key];
    if (!next.empty()) {
      absl::Status s = next.front();
      next.pop_front();
      if (!s.ok()) {
        done(s);
        return;
      }
    }
    delivered.push_back(topic + "/" + key + "/" + e.event_id());
    done(absl::OkStatus());
  }
};

v1::EventEnvelope Created(const std::string& ticket) {
  auto e = NewEnvelope("intake", ticket, 1);
  e.mutable_ticket_created()->set_ticket_id(ticket);
  return e;
}

v1::EventEnvelope WithText(const std::string& ticket, size_t bytes) {
  auto e = NewEnvelope("dispatch", ticket, 2);
  e.mutable_extension_requested()->set_ticket_id(ticket);
  e.mutable_extension_requested()->set_reason(std::string(bytes, 'x'));
  return e;
}

std::vector<std::string> KeysOf(const std::vector<std::string>& delivered) {
  std::vector<std::string> keys;
  for (const auto& d : delivered) {
    auto a = d.find('/') + 1;
    keys.push_back(d.substr(a, d.find('/', a) - a));
  }
  return keys;
}

}  // namespace

TEST_CASE("state and events are committed together, or not at all") {
  RedisClient redis(Local(SharedRedis().port()));
  Outbox outbox(&redis, "atomic:outbox");
  auto ok = outbox.Commit({{"HSET", "ticket:T1", "state", "CREATED"}}, {Created("T1")});
  REQUIRE(ok.ok());
  CHECK(redis.Command({"LLEN", "atomic:outbox"})->integer == 1);
  // A rejected state command leaves neither the state nor the event behind.
  auto bad = outbox.Commit({{"HSET", "ticket:T2", "state", "CREATED"}, {"NOSUCHCOMMAND"}},
                           {Created("T2")});
  CHECK_FALSE(bad.ok());
  CHECK(redis.Command({"EXISTS", "ticket:T2"})->integer == 0);
  CHECK(redis.Command({"LLEN", "atomic:outbox"})->integer == 1);
}

TEST_CASE("an event over the outbox limit is refused before anything is written") {
  RedisClient redis(Local(SharedRedis().port()));
  Outbox outbox(&redis, "limit:outbox", /*max_event_bytes=*/4096);
  int notified = 0;
  outbox.SetOnCommit([&] { ++notified; });
  auto big = WithText("T-BIG", 5000);
  auto r = outbox.Commit({{"HSET", "ticket:T-BIG", "reason", "long"}}, {Created("T-BIG"), big});
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(r.status().message()),
             Catch::Contains("extension_requested") && Catch::Contains("4096"));
  CHECK(redis.Command({"EXISTS", "ticket:T-BIG"})->integer == 0);  // the state change too
  CHECK(redis.Command({"LLEN", "limit:outbox"})->integer == 0);
  CHECK(notified == 0);
  // The same through AppendCommand, for callers that build their own transaction.
  CHECK(outbox.AppendCommand({big}).status().code() == absl::StatusCode::kInvalidArgument);
  auto small = outbox.AppendCommand({WithText("T-OK", 100)});
  REQUIRE(small.ok());
  CHECK(small->size() == 3);
  // The default sits below Kafka's default 1 MB message.max.bytes.
  CHECK(Outbox(&redis, "x").max_event_bytes() == kDefaultMaxEventBytes);
  CHECK(kDefaultMaxEventBytes < 1000000);
}

TEST_CASE("acknowledged entries are removed wherever they are and never sent again") {
  RedisClient redis(Local(SharedRedis().port()));
  Outbox outbox(&redis, "acked:outbox");
  // A1 B1 A2 C1 B2: B1 fails once (broker hiccup on its partition).
  std::vector<v1::EventEnvelope> events = {Created("A"), Created("B"), Created("A"), Created("C"),
                                           Created("B")};
  for (const auto& e : events) REQUIRE(outbox.Commit({}, {e}).ok());
  ScriptedPublisher pub;
  pub.script["B"] = {absl::UnavailableError("Local: Message timed out")};
  OutboxRelay relay(&redis, &pub, {"acked:outbox", "me"});
  int delivered = 0, failed = 0;
  relay.on_pass = [&](int d, int f) {
    delivered += d;
    failed += f;
  };

  auto first = relay.RunOnce();
  CHECK(first.status().code() == absl::StatusCode::kUnavailable);
  // A1, A2 and C1 went out and are gone although B1, before two of them, failed. B2 was not
  // even tried: it must not overtake B1 on B's partition.
  CHECK(KeysOf(pub.delivered) == std::vector<std::string>{"A", "C", "A"});
  CHECK(pub.sent.count(events[4].event_id()) == 0);
  auto left = redis.Command({"LRANGE", "acked:outbox", "0", "-1"});
  REQUIRE(left->elements.size() == 2);
  CHECK(left->elements[0].str == events[1].SerializeAsString());
  CHECK(left->elements[1].str == events[4].SerializeAsString());

  auto second = relay.RunOnce();
  REQUIRE(second.ok());
  CHECK(*second == 2);
  CHECK(*relay.Pending() == 0);
  CHECK(delivered == 5);
  CHECK(failed == 1);
  // Each event delivered exactly once; B1 was published twice (its failure, its success).
  for (const auto& e : events) {
    CHECK(std::count_if(pub.delivered.begin(), pub.delivered.end(), [&](const std::string& d) {
            return d.find(e.event_id()) != std::string::npos;
          }) == 1);
  }
  CHECK(pub.sent[events[1].event_id()] == 2);
  // Per key, delivery order is commit order.
  std::vector<std::string> b_order;
  for (const auto& d : pub.delivered) {
    if (d.find("/B/") != std::string::npos) b_order.push_back(d.substr(d.rfind('/') + 1));
  }
  CHECK(b_order == std::vector<std::string>{events[1].event_id(), events[4].event_id()});
}

TEST_CASE("an entry refused for good is dead-lettered with its reason and its key keeps flowing") {
  RedisClient redis(Local(SharedRedis().port()));
  Outbox outbox(&redis, "refused:outbox");
  auto before = Created("K");
  auto refused = WithText("K", 2000);
  auto after = Created("K");
  auto too_big_even_there = WithText("L", 3000);
  auto undecodable = std::string("\xff\xfe not an envelope");
  for (const auto& e : {before, refused, after, too_big_even_there}) {
    REQUIRE(outbox.Commit({}, {e}).ok());
  }
  REQUIRE(redis.Command({"RPUSH", "refused:outbox", undecodable}).ok());
  ScriptedPublisher pub;
  pub.dead_letter_max_bytes = 2500;
  pub.script["K"] = {absl::OkStatus(), absl::InvalidArgumentError(
                                           "kafka delivery to t: Broker: Message size too large")};
  pub.script["L"] = {
      absl::InvalidArgumentError("kafka delivery to t: Broker: Message size too large")};
  OutboxRelay relay(&redis, &pub, {"refused:outbox", "me"});
  int dead_lettered = 0;
  relay.on_dead_lettered = [&](int n) { dead_lettered += n; };

  auto r = relay.RunOnce();
  REQUIRE(r.ok());
  CHECK(*r == 5);
  CHECK(*relay.Pending() == 0);
  CHECK(dead_lettered == 3);
  CHECK(KeysOf(pub.delivered) == std::vector<std::string>{"K", "K"});
  CHECK(pub.delivered[1].find(after.event_id()) != std::string::npos);
  REQUIRE(pub.dead.size() == 3);
  std::map<std::string, std::map<std::string, std::string>> by_id;
  std::map<std::string, std::string> value_by_id;
  for (const auto& [value, h] : pub.dead) {
    by_id[h.count("hotline-dlq-event-id") ? h.at("hotline-dlq-event-id") : "?"] = h;
    value_by_id[h.count("hotline-dlq-event-id") ? h.at("hotline-dlq-event-id") : "?"] = value;
  }
  // The refused entry itself, with the broker's reason and where it was going.
  auto& h = by_id[refused.event_id()];
  CHECK(h["hotline-dlq-reason"] == "kafka delivery to t: Broker: Message size too large");
  CHECK(h["hotline-dlq-topic"] == kTicketsTopic);
  CHECK(h["hotline-dlq-outbox"] == "refused:outbox");
  CHECK(h["hotline-dlq-event-type"] == "extension_requested");
  CHECK(value_by_id[refused.event_id()] == refused.SerializeAsString());
  // Too large for the dead-letter topic as well: a small record that says what it was.
  auto& t = by_id[too_big_even_there.event_id()];
  CHECK(t["hotline-dlq-truncated"] == "true");
  CHECK(t["hotline-dlq-size"] == std::to_string(too_big_even_there.ByteSizeLong()));
  CHECK(t["hotline-dlq-event-type"] == "extension_requested");
  v1::EventEnvelope summary;
  REQUIRE(summary.ParseFromString(value_by_id[too_big_even_there.event_id()]));
  CHECK(summary.event_id() == too_big_even_there.event_id());
  CHECK(summary.key() == "L");
  CHECK(summary.payload_case() == v1::EventEnvelope::PAYLOAD_NOT_SET);
  // And the bytes nobody can decode, kept as they were.
  CHECK(value_by_id[""] == undecodable);
  CHECK_THAT(by_id[""]["hotline-dlq-reason"], Catch::Contains("undecodable"));
}

TEST_CASE("an entry that cannot be dead-lettered either stays, and the rest still flows") {
  RedisClient redis(Local(SharedRedis().port()));
  Outbox outbox(&redis, "stuck:outbox");
  auto refused = WithText("K", 3000);
  auto other = Created("M");
  REQUIRE(outbox.Commit({}, {refused, other}).ok());
  ScriptedPublisher pub;
  pub.dead_letter_max_bytes = 10;  // not even the summary fits
  pub.script["K"] = {absl::InvalidArgumentError("Broker: Message size too large")};
  OutboxRelay relay(&redis, &pub, {"stuck:outbox", "me"});
  auto r = relay.RunOnce();
  CHECK_FALSE(r.ok());
  auto left = redis.Command({"LRANGE", "stuck:outbox", "0", "-1"});
  REQUIRE(left->elements.size() == 1);
  CHECK(left->elements[0].str == refused.SerializeAsString());
  CHECK(KeysOf(pub.delivered) == std::vector<std::string>{"M"});
}

TEST_CASE("only the relay holding the lease publishes") {
  RedisClient redis(Local(SharedRedis().port()));
  Outbox outbox(&redis, "lease:outbox");
  REQUIRE(outbox.Commit({}, {Created("T1")}).ok());
  ScriptedPublisher a, b;
  OutboxRelay ra(&redis, &a, {"lease:outbox", "instance-a"});
  OutboxRelay rb(&redis, &b, {"lease:outbox", "instance-b"});
  REQUIRE(ra.RunOnce().ok());
  auto other = rb.RunOnce();
  CHECK(other.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(a.delivered.size() == 1);
  CHECK(b.delivered.empty());
}

TEST_CASE(
    "an outbox entry survives the broker being unreachable and is delivered when it returns") {
  DevBroker broker;  // its own: this case takes it down
  RedisClient redis(Local(SharedRedis().port()));
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

// What the dev broker enforces (librdkafka's mock cluster): nothing on size. The producer's own
// message.max.bytes does: librdkafka refuses a larger message locally with MSG_SIZE_TOO_LARGE,
// the same permanent error a real broker returns past its message.max.bytes.
TEST_CASE(
    "against the dev broker: an oversized entry is dead-lettered, later entries are "
    "delivered, and none twice") {
  RedisClient redis(Local(SharedRedis().port()));
  KafkaProducerOptions po;
  po.brokers = SharedBroker().bootstrap();
  po.extra["message.max.bytes"] = "200000";
  auto producer = KafkaProducer::Create(po);
  REQUIRE(producer.ok());
  Outbox outbox(&redis, "oversized:outbox", /*max_event_bytes=*/2000000);  // let it in
  std::vector<v1::EventEnvelope> events;
  for (int i = 0; i < 10; ++i) {
    // Ticket OV-3's second event is 300 KB: over the producer's limit.
    std::string ticket = "OV-" + std::to_string(i % 4);
    events.push_back(i == 7 ? WithText(ticket, 300000) : Created(ticket));
  }
  for (const auto& e : events) REQUIRE(outbox.Commit({}, {e}).ok());
  const std::string oversized = events[7].event_id();

  OutboxRelayOptions ro{"oversized:outbox", "me"};
  ro.idle_poll = 50ms;
  OutboxRelay relay(&redis, producer->get(), ro);
  std::atomic<int> dead_lettered{0};
  relay.on_dead_lettered = [&](int n) { dead_lettered += n; };
  relay.Start();
  REQUIRE(WaitFor([&] { return *relay.Pending() == 0; }, 20s));
  // A few more passes: a bug that re-sends acknowledged entries would show up now.
  REQUIRE(outbox.Commit({}, {Created("OV-9")}).ok());
  REQUIRE(WaitFor([&] { return *relay.Pending() == 0; }, 10s));
  relay.Stop();
  CHECK(dead_lettered.load() == 1);

  // Ask for more than can be there: each event id exactly once, the oversized one never.
  auto got = hotline::testing::ReadTopic(SharedBroker().bootstrap(), kTicketsTopic, 12, 5s);
  std::map<std::string, int> count;
  std::map<std::string, std::vector<std::string>> per_key;  // key → event ids in topic order
  for (const auto& m : got) {
    v1::EventEnvelope e;
    REQUIRE(e.ParseFromString(m.value));
    if (e.key().rfind("OV-", 0) != 0) continue;
    ++count[e.event_id()];
    per_key[e.key()].push_back(e.event_id());
  }
  CHECK(count.size() == 10);  // 9 of the batch + OV-9
  CHECK(count.count(oversized) == 0);
  for (const auto& [id, n] : count) CHECK(n == 1);
  // Per ticket, the topic holds the events in commit order (the oversized one left out).
  for (const auto& [key, ids] : per_key) {
    std::vector<std::string> want;
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].key() == key && i != 7) want.push_back(events[i].event_id());
    }
    if (key != "OV-9") CHECK(ids == want);
  }

  auto dead = hotline::testing::ReadTopic(SharedBroker().bootstrap(), kDeadLetterTopic, 1, 10s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].key == "OV-3");
  CHECK_THAT(dead[0].headers["hotline-dlq-reason"], Catch::Contains("too large"));
  CHECK(dead[0].headers["hotline-dlq-event-id"] == oversized);
  CHECK(dead[0].headers["hotline-dlq-truncated"] == "true");  // same producer limit
  CHECK(dead[0].headers["hotline-dlq-size"] == std::to_string(events[7].ByteSizeLong()));
  CHECK(dead[0].headers["hotline-dlq-topic"] == kTicketsTopic);
}

namespace {

// Holds every delivery report until released: a relay pass blocked on the broker.
class HeldPublisher : public MessagePublisher {
 public:
  void Publish(const std::string&, const std::string&, const std::string&,
               const std::vector<KafkaHeader>&, DeliveryCallback done) override {
    absl::MutexLock lock(&mu_);
    held_.push_back(std::move(done));
  }
  size_t held() {
    absl::MutexLock lock(&mu_);
    return held_.size();
  }
  void Release() {
    std::vector<DeliveryCallback> held;
    {
      absl::MutexLock lock(&mu_);
      held.swap(held_);
    }
    for (auto& d : held) d(absl::OkStatus());
  }

 private:
  absl::Mutex mu_;
  std::vector<DeliveryCallback> held_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

TEST_CASE("the outbox monitor reads the list itself, while a relay pass is blocked") {
  RedisClient redis(Local(SharedRedis().port()));
  RedisClient monitor_conn(Local(SharedRedis().port()));
  Outbox outbox(&redis, "monitor:outbox");
  OutboxMonitor monitor(&monitor_conn, "monitor:outbox");
  auto empty = monitor.Sample();
  REQUIRE(empty.ok());
  CHECK(empty->pending == 0);
  CHECK(empty->oldest_age_seconds == 0);

  const absl::Time now = absl::Now();
  auto old = Created("M-1");
  old.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(now - absl::Seconds(90)));
  REQUIRE(outbox.Commit({}, {old, Created("M-2")}).ok());

  HeldPublisher pub;
  OutboxRelay relay(&redis, &pub, {"monitor:outbox", "me"});
  relay.Start();
  REQUIRE(WaitFor([&] { return pub.held() == 2; }, 5s));  // the pass now waits on reports
  REQUIRE(outbox.Commit({}, {Created("M-3")}).ok());
  auto t0 = std::chrono::steady_clock::now();
  auto s = monitor.Sample(now);
  CHECK(std::chrono::steady_clock::now() - t0 < 100ms);
  REQUIRE(s.ok());
  CHECK(s->pending == 3);  // the real length, not the last pass's
  CHECK(s->oldest_age_seconds == Approx(90).margin(1));

  pub.Release();
  REQUIRE(WaitFor(
      [&] {
        pub.Release();
        return monitor.Sample()->pending == 0;
      },
      5s));
  relay.Stop();
  CHECK(monitor.Sample()->oldest_age_seconds == 0);
}

TEST_CASE("a commit wakes the relay: commit to acknowledged latency against the dev broker") {
  RedisClient redis(Local(SharedRedis().port()));
  KafkaProducerOptions po;
  po.brokers = SharedBroker().bootstrap();
  auto producer = KafkaProducer::Create(po);
  REQUIRE(producer.ok());
  REQUIRE((*producer)->CheckBrokers(5s).ok());

  // Timestamps each delivery report by event id.
  class Timed : public MessagePublisher {
   public:
    explicit Timed(MessagePublisher* inner) : inner_(inner) {}
    void Publish(const std::string& topic, const std::string& key, const std::string& value,
                 const std::vector<KafkaHeader>& headers, DeliveryCallback done) override {
      v1::EventEnvelope e;
      e.ParseFromString(value);
      inner_->Publish(topic, key, value, headers,
                      [this, id = e.event_id(), done = std::move(done)](absl::Status s) {
                        {
                          absl::MutexLock lock(&mu);
                          if (s.ok()) acked[id] = std::chrono::steady_clock::now();
                        }
                        done(s);
                      });
    }
    absl::Mutex mu;
    std::map<std::string, std::chrono::steady_clock::time_point> acked ABSL_GUARDED_BY(mu);

   private:
    MessagePublisher* inner_;
  } timed(producer->get());

  Outbox outbox(&redis, "latency:outbox");
  OutboxRelayOptions ro{"latency:outbox", "me"};
  ro.idle_poll = 5000ms;  // a missed wake-up would cost seconds, not go unnoticed
  OutboxRelay relay(&redis, &timed, ro);
  outbox.SetOnCommit([&] { relay.Wake(); });
  relay.Start();

  // ~100 commits/s for 2 s, one ticket each.
  std::map<std::string, std::chrono::steady_clock::time_point> committed;
  for (int i = 0; i < 200; ++i) {
    auto e = Created("LAT-" + std::to_string(i));
    REQUIRE(outbox.Commit({}, {e}).ok());
    committed[e.event_id()] = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(WaitFor(
      [&] {
        absl::MutexLock l(&timed.mu);
        return timed.acked.size() == 200;
      },
      20s));
  relay.Stop();
  std::vector<double> ms;
  {
    absl::MutexLock l(&timed.mu);
    for (const auto& [id, t] : committed) {
      ms.push_back(std::chrono::duration<double, std::milli>(timed.acked[id] - t).count());
    }
  }
  std::sort(ms.begin(), ms.end());
  const double p50 = ms[ms.size() / 2], p99 = ms[ms.size() * 99 / 100];
  WARN("commit -> acknowledged at 100/s: p50 " << p50 << " ms, p99 " << p99 << " ms");
  CHECK(p50 < 100);  // far below the 5 s idle poll: every commit woke the relay
  CHECK(p99 < 1000);
}

TEST_CASE("stopping the relay does not wait out the delivery timeout; unreported entries stay") {
  RedisClient redis(Local(SharedRedis().port()));
  Outbox outbox(&redis, "stop:outbox");
  REQUIRE(outbox.Commit({}, {Created("S-1"), Created("S-2")}).ok());
  HeldPublisher pub;  // the broker never answers
  OutboxRelay relay(&redis, &pub, {"stop:outbox", "me"});
  relay.Start();
  REQUIRE(WaitFor([&] { return pub.held() == 2; }, 5s));
  auto t0 = std::chrono::steady_clock::now();
  relay.Stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);  // not delivery_wait's 35 s
  CHECK(*relay.Pending() == 2);
  pub.Release();  // a late report after the pass gave up is harmless
}
