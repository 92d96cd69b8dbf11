// sla_timer against real processes: redis-server, the dev broker and hotline-sla-timer binaries,
// fed dispatch's events over Kafka. Policies here are seconds long so clocks fall due in a test.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "hotline/v1/sla_timer.grpc.pb.h"
#include "services/common/events.h"
#include "services/common/kafka_producer.h"
#include "services/common/redis_client.h"
#include "tests/support/kafka_reader.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;
using namespace std::chrono_literals;
using google::protobuf::util::TimeUtil;

namespace {

// normal tickets: sign for within 3 s, complete within 6 s; warnings at 50/75/90 %.
constexpr char kPolicies[] =
    "*\turgent\t2s\t4s\tcalendar\t50,75,90\n*\tnormal\t3s\t6s\tcalendar\t50,75,90\n";

struct Stack {
  explicit Stack(std::string policy_rows = kPolicies) : policy_rows(std::move(policy_rows)) {}
  std::string policy_rows;
  TempDir dir;
  RedisServer redis;
  DevBroker broker{6};
  std::string policies = [this] {
    std::string p = dir.path() + "/policies.tsv";
    std::ofstream(p) << policy_rows;
    return p;
  }();
  std::string departments = [this] {
    std::string p =
        dir.path() + "/departments.tsv";  // no rows: every department on the default calendar
    std::ofstream(p) << "# id\tname\tcontact\tcalendar\n";
    return p;
  }();
  std::vector<std::string> env = {"SLA_POLICIES=" + policies,
                                  "SLA_CALENDARS_DIR=" HOTLINE_REPO_DIR "/deploy/sla/calendars",
                                  "SLA_DEPARTMENTS=" + departments, "SLA_RED_CARD_YELLOWS=2",
                                  // A killed instance's partitions wait this long for a new owner.
                                  "SLA_LEASE_TTL_MS=3000"};
  std::unique_ptr<KafkaProducer> producer = [this] {
    KafkaProducerOptions o;
    o.brokers = broker.bootstrap();
    o.client_id = "sla-test";
    return *KafkaProducer::Create(o);
  }();

  // Started and in the consumer group with partitions assigned, so clocks start when published.
  std::unique_ptr<ServiceProcess> Start() {
    auto p =
        std::make_unique<ServiceProcess>(HOTLINE_SLA_BIN, redis.url(), broker.bootstrap(), env);
    REQUIRE(WaitFor(
        [&] { return p->Log().find("\"msg\":\"partitions assigned\"") != std::string::npos; },
        30s));
    return p;
  }

  void Publish(const v1::EventEnvelope& e) {
    REQUIRE(producer->PublishSync(kTicketsTopic, e.key(), e.SerializeAsString(), {}, 10s).ok());
  }

  std::string Dispatch(const std::string& dept, v1::Urgency urgency = v1::URGENCY_NORMAL) {
    std::string id = NewUuid();
    auto e = NewEnvelope("dispatch", id, 1);
    auto* d = e.mutable_ticket_dispatched();
    d->set_ticket_id(id);
    d->set_department_id(dept);
    d->set_type(v1::TICKET_TYPE_COMPLAINT);
    d->set_urgency(urgency);
    *d->mutable_dispatched_at() = TimeUtil::GetCurrentTime();
    Publish(e);
    return id;
  }

  // Every event on hotline.sla.v1 so far.
  // Every event on the SLA topic, once `want` distinct event ids are there (a relay's re-send of
  // an entry after an outage carries the same id and does not count twice) or `timeout` passed.
  std::vector<v1::EventEnvelope> SlaEvents(size_t want, std::chrono::seconds timeout) {
    std::vector<v1::EventEnvelope> out;
    WaitFor(
        [&] {
          out.clear();
          std::set<std::string> ids;
          for (const auto& m : ReadTopic(broker.bootstrap(), kSlaTopic, SIZE_MAX, 1500ms)) {
            v1::EventEnvelope e;
            REQUIRE(e.ParseFromString(m.value));
            ids.insert(e.event_id());
            out.push_back(e);
          }
          return ids.size() >= want;
        },
        timeout, 500ms);
    return out;
  }
};

// (ticket, clock, percent) of a warning or breach (percent 100).
struct Point {
  std::string ticket;
  int clock;
  int percent;
  bool operator<(const Point& o) const {
    return std::tie(ticket, clock, percent) < std::tie(o.ticket, o.clock, o.percent);
  }
};

Point PointOf(const v1::EventEnvelope& e) {
  if (e.has_sla_warning())
    return {e.sla_warning().ticket_id(), e.sla_warning().clock(),
            e.sla_warning().percent_elapsed()};
  if (e.has_sla_breached()) return {e.sla_breached().ticket_id(), e.sla_breached().clock(), 100};
  return {e.key(), 0, -1};
}

// Every expected point of every ticket appears with exactly one event id.
void CheckExactlyOnce(const std::vector<v1::EventEnvelope>& events,
                      const std::vector<std::string>& tickets) {
  std::map<Point, std::set<std::string>> ids;
  std::map<std::string, int> raw;
  for (const auto& e : events) {
    Point p = PointOf(e);
    if (p.percent < 0) continue;
    ids[p].insert(e.event_id());
    ++raw[e.event_id()];
  }
  for (const auto& t : tickets) {
    for (int clock : {1, 2}) {
      for (int pct : {50, 75, 90, 100}) {
        INFO("ticket " << t << " clock " << clock << " point " << pct);
        auto it = ids.find({t, clock, pct});
        REQUIRE(it != ids.end());       // never zero times
        CHECK(it->second.size() == 1);  // never two different events for one point
      }
    }
  }
  int resent = 0;
  for (const auto& [id, n] : raw) resent += n - 1;
  // A relay killed between the broker's ack and the outbox trim re-sends an entry: same event id,
  // so consumers (which apply by event id) see it once. Reported, not hidden.
  if (resent > 0) WARN(resent << " events were re-sent with the same event id after the crash");
}

}  // namespace

TEST_CASE(
    "dispatch → warnings → breach, in order, with a yellow card; accept stops the sign-for clock") {
  Stack s;
  auto svc = s.Start();
  std::string late = s.Dispatch("d-roads");
  std::string fast = s.Dispatch("d-parks");
  // d-parks signs for its ticket and replies at once (same partition, so in this order): its
  // clocks stop long before any warning point.
  auto acc = NewEnvelope("dispatch", fast, 2);
  acc.mutable_ticket_accepted()->set_ticket_id(fast);
  acc.mutable_ticket_accepted()->set_department_id("d-parks");
  s.Publish(acc);
  auto rep = NewEnvelope("dispatch", fast, 3);
  rep.mutable_ticket_replied()->set_ticket_id(fast);
  rep.mutable_ticket_replied()->set_department_id("d-parks");
  s.Publish(rep);

  // late: 4 sign-for + 4 completion events and one yellow card; fast: nothing. Wait for late's
  // yellow card, then a little longer for anything that should not be there.
  std::vector<v1::EventEnvelope> events;
  REQUIRE(WaitFor(
      [&] {
        events = s.SlaEvents(9, 2s);
        for (const auto& e : events) {
          if (e.has_card_issued()) return true;
        }
        return false;
      },
      40s, 500ms));
  std::this_thread::sleep_for(1s);
  events = s.SlaEvents(9, 2s);
  std::vector<int> sign, done;
  int yellow = 0;
  for (const auto& e : events) {
    Point p = PointOf(e);
    if (e.has_card_issued()) {
      CHECK(e.card_issued().ticket_id() == late);
      yellow += e.card_issued().color() == v1::CARD_COLOR_YELLOW;
      continue;
    }
    CHECK(p.ticket != fast);  // its clocks stopped at accept and reply
    (p.clock == v1::CLOCK_KIND_SIGN_FOR ? sign : done).push_back(p.percent);
  }
  CHECK(sign == std::vector<int>{50, 75, 90, 100});
  CHECK(done == std::vector<int>{50, 75, 90, 100});
  CHECK(yellow == 1);

  // The API: clocks of a ticket, a department's cards, and a deadline preview.
  auto ch = grpc::CreateChannel(svc->grpc_addr(), grpc::InsecureChannelCredentials());
  auto stub = v1::SlaService::NewStub(ch);
  grpc::ClientContext c1;
  v1::GetTicketClocksRequest gr;
  gr.set_ticket_id(fast);
  v1::GetTicketClocksResponse gresp;
  REQUIRE(stub->GetTicketClocks(&c1, gr, &gresp).ok());
  REQUIRE(gresp.clocks_size() == 2);
  for (const auto& c : gresp.clocks()) CHECK(c.state() == v1::CLOCK_STATE_STOPPED);
  grpc::ClientContext c2;
  v1::ListCardsRequest lr;
  lr.set_department_id("d-roads");
  v1::ListCardsResponse lresp;
  REQUIRE(stub->ListCards(&c2, lr, &lresp).ok());
  REQUIRE(lresp.cards_size() == 1);
  CHECK(lresp.cards(0).ticket_id() == late);
  grpc::ClientContext c3;
  v1::PreviewDeadlineRequest pr;
  pr.set_type(v1::TICKET_TYPE_COMPLAINT);
  pr.set_urgency(v1::URGENCY_URGENT);
  *pr.mutable_dispatched_at() = TimeUtil::SecondsToTimestamp(1'800'000'000);
  v1::PreviewDeadlineResponse presp;
  REQUIRE(stub->PreviewDeadline(&c3, pr, &presp).ok());
  CHECK(presp.completion_deadline().seconds() == 1'800'000'004);
}

TEST_CASE("two yellow cards for one department make a red card") {
  Stack s;
  auto svc = s.Start();
  s.Dispatch("d-housing", v1::URGENCY_URGENT);
  s.Dispatch("d-housing", v1::URGENCY_URGENT);
  auto events = s.SlaEvents(2 * 8 + 3, 30s);
  int yellow = 0, red = 0;
  for (const auto& e : events) {
    if (!e.has_card_issued()) continue;
    CHECK(e.card_issued().department_id() == "d-housing");
    yellow += e.card_issued().color() == v1::CARD_COLOR_YELLOW;
    red += e.card_issued().color() == v1::CARD_COLOR_RED;
  }
  CHECK(yellow == 2);
  CHECK(red == 1);
}

TEST_CASE("kill -9 mid-run: after restart every due event appears exactly once") {
  Stack s;
  auto svc = s.Start();
  std::vector<std::string> tickets;
  for (int i = 0; i < 12; ++i) {
    tickets.push_back(s.Dispatch("d-" + std::to_string(i % 3)));
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(2500ms);  // some warnings fired, most not
  svc->process().Signal(SIGKILL);
  svc->process().Stop(SIGKILL);
  std::this_thread::sleep_for(4s);  // everything else falls due while it is down
  svc->Restart();
  REQUIRE(svc->WaitServing());
  auto events = s.SlaEvents(tickets.size() * 8, 45s);
  CheckExactlyOnce(events, tickets);
}

TEST_CASE("two instances share the partitions; the survivor takes over the other's clocks") {
  Stack s;
  auto a = s.Start();
  auto b = s.Start();
  // Both joined and own part of the topic.
  REQUIRE(WaitFor(
      [&] {
        return a->Log().find("\"msg\":\"partitions assigned\"") != std::string::npos &&
               b->Log().find("\"msg\":\"partitions assigned\"") != std::string::npos;
      },
      30s));
  std::this_thread::sleep_for(2s);  // let the group settle to its final split
  std::vector<std::string> tickets;
  for (int i = 0; i < 12; ++i) tickets.push_back(s.Dispatch("d-" + std::to_string(i % 4)));
  std::this_thread::sleep_for(1s);
  a->process().Stop(SIGTERM);  // leaves the group: b is assigned everything and loads a's clocks
  auto events = s.SlaEvents(tickets.size() * 8, 60s);
  CheckExactlyOnce(events, tickets);
  // b loaded clocks that a had created: some "SLA clocks loaded" line of b counts a non-zero
  // number.
  std::regex loaded("\"msg\":\"SLA clocks loaded\".*\"clocks\":\"[1-9]");
  CHECK(std::regex_search(b->Log(), loaded));
}

TEST_CASE(
    "broker down 30 s: clocks due meanwhile fire on time into the outbox, then reach the topic "
    "once") {
  // Sign for within 20 s, complete within 40 s: with the broker down from ~1 s to ~31 s after
  // dispatch, 50/75/90/100 % of the sign-for clock and 50/75 % of the completion clock fall due
  // during the outage, long after the consumer group's session (6 s) has timed out.
  Stack s("*\tnormal\t20s\t40s\tcalendar\t50,75,90\n");
  auto svc = s.Start();
  RedisClient redis(*ParseRedisUrl(s.redis.url()));
  std::vector<std::string> tickets;
  for (int i = 0; i < 4; ++i) tickets.push_back(s.Dispatch("d-" + std::to_string(i)));
  // The clocks exist (the consumer handled every dispatch) before Kafka goes away.
  REQUIRE(WaitFor(
      [&] {
        for (const auto& t : tickets) {
          auto r = redis.Command({"EXISTS", "sla:c:" + t + ":2"});
          if (!r.ok() || r->integer != 1) return false;
        }
        return true;
      },
      10s));
  const absl::Time down_at = absl::Now();
  s.broker.Down();
  // Watch the outbox (Kafka is away, so the events stay there): when did each event appear?
  std::map<std::string, absl::Time> seen;  // event id → first seen
  std::map<std::string, v1::EventEnvelope> by_id;
  while (absl::Now() < down_at + absl::Seconds(30)) {
    auto r = redis.Command({"LRANGE", "sla_timer:outbox", "0", "-1"});
    REQUIRE(r.ok());
    const absl::Time now = absl::Now();
    for (const auto& el : r->elements) {
      v1::EventEnvelope e;
      REQUIRE(e.ParseFromString(el.str));
      if (seen.emplace(e.event_id(), now).second) by_id[e.event_id()] = e;
    }
    std::this_thread::sleep_for(50ms);
  }
  const absl::Time up_at = absl::Now();
  // The outage did what it does in production: the group session timed out and the consumer
  // lost its partitions, yet this instance kept every partition's lease (and fired, below).
  CHECK(svc->Log().find("\"msg\":\"partitions revoked\"") != std::string::npos);
  int rc = 0;
  std::string m =
      Run("curl -s http://127.0.0.1:" + std::to_string(svc->metrics_port()) + "/metrics", &rc);
  CHECK(rc == 0);
  CHECK(m.find("hotline_sla_owned_partitions 6") != std::string::npos);
  s.broker.Up();

  // Every point due between "the group session surely timed out" and the broker's return was in
  // the outbox within 2 s of its due time (due = deadline − (100 − percent) % of the budget).
  int checked = 0;
  double worst = 0;
  for (const auto& [id, e] : by_id) {
    Point p = PointOf(e);
    if (p.percent < 0) continue;
    const auto& deadline =
        e.has_sla_warning() ? e.sla_warning().deadline() : e.sla_breached().deadline();
    const absl::Duration budget = absl::Seconds(p.clock == v1::CLOCK_KIND_SIGN_FOR ? 20 : 40);
    const absl::Time due = absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(deadline)) -
                           budget * (100 - p.percent) / 100;
    if (due < down_at + absl::Seconds(7) || due > up_at - absl::Seconds(2)) continue;
    const double lag = absl::ToDoubleSeconds(seen.at(id) - due);
    INFO("ticket " << p.ticket << " clock " << p.clock << " point " << p.percent << " lag " << lag
                   << " s");
    CHECK(lag < 2.0);
    worst = std::max(worst, lag);
    ++checked;
  }
  // Per ticket: sign-for 50 (10 s), 75, 90, 100 and completion 50 (20 s), 75 (30 s, maybe past the
  // window).
  CHECK(checked >= static_cast<int>(tickets.size()) * 5);
  std::cout << "broker outage: " << checked << " points due during the outage, worst outbox lag "
            << worst << " s" << std::endl;

  // Back online: every point of every ticket reaches the topic, each with one event id.
  auto events = s.SlaEvents(tickets.size() * 8, 60s);
  CheckExactlyOnce(events, tickets);
}
