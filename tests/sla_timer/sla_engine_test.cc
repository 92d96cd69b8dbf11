// SlaEngine's scheduling, firing and partition leases against the in-memory store and a fake
// clock (the Redis store itself is covered by sla_integration_test).
#include "services/sla_timer/sla_engine.h"

#include <prometheus/registry.h>

#include <catch2/catch.hpp>

#include "services/common/events.h"
#include "services/common/time_proto.h"
#include "tests/support/fake_sla_store.h"

using namespace hotline;
using namespace hotline::sla;
using hotline::testing::FakeSlaStore;

namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
constexpr int32_t kPartition = 2;

struct World {
  FakeSlaStore store;
  prometheus::Registry registry;
  SlaMetrics metrics{registry};
  std::unique_ptr<PolicyTable> policies = [] {
    Policy p;
    p.name = "all";
    p.type = p.urgency = "*";
    p.sign_for = absl::Seconds(100);
    p.completion = absl::Seconds(200);
    p.working_time = false;
    p.warnings = {50};
    return PolicyTable::FromPolicies({p});
  }();
  absl::Time now = kT0;

  std::unique_ptr<SlaEngine> Engine(const std::string& owner) {
    SlaOptions o;
    o.owner = owner;
    o.red_card_yellows = 2;
    return std::make_unique<SlaEngine>(&store, policies.get(), o, &metrics, [this] { return now; });
  }

  static absl::Status Dispatch(SlaEngine& e, const std::string& ticket, const std::string& dept,
                               absl::Time at) {
    auto ev = NewEnvelope("dispatch", ticket, 1);
    auto* d = ev.mutable_ticket_dispatched();
    d->set_ticket_id(ticket);
    d->set_department_id(dept);
    d->set_type(v1::TICKET_TYPE_COMPLAINT);
    *d->mutable_dispatched_at() = ToTimestamp(at);
    MessageMeta meta;
    meta.partition = kPartition;
    return e.HandleEvent(ev, meta);
  }

  // Advances the fake clock to `t` in 100 ms steps, firing as the firing thread would.
  size_t RunUntil(SlaEngine& e, absl::Time t) {
    size_t fired = 0;
    while (now < t) {
      now = std::min(t, now + absl::Milliseconds(100));
      fired += e.FireDue();
    }
    return fired;
  }

  std::vector<std::string> OutboxIds() const {
    std::vector<std::string> ids;
    for (const auto& e : store.Outbox()) ids.push_back(e.event_id());
    return ids;
  }
};

const TopicPartitionList kAssigned = {{"hotline.tickets.v1", kPartition}};

}  // namespace

TEST_CASE("engine: points fire in order at their time; a completion breach issues cards") {
  World w;
  auto e = w.Engine("a");
  e->OnAssigned(kAssigned);
  REQUIRE(w.Dispatch(*e, "t1", "d-roads", kT0).ok());
  REQUIRE(w.Dispatch(*e, "t2", "d-roads", kT0).ok());
  CHECK(e->scheduled() == 4);
  CHECK(w.RunUntil(*e, kT0 + absl::Seconds(49)) == 0);
  CHECK(w.RunUntil(*e, kT0 + absl::Seconds(51)) == 2);  // sign-for 50 %
  w.RunUntil(*e, kT0 + absl::Seconds(201));
  int warnings = 0, breaches = 0, yellow = 0, red = 0;
  for (const auto& ev : w.store.Outbox()) {
    warnings += ev.has_sla_warning();
    breaches += ev.has_sla_breached();
    yellow += ev.has_card_issued() && ev.card_issued().color() == v1::CARD_COLOR_YELLOW;
    red += ev.has_card_issued() && ev.card_issued().color() == v1::CARD_COLOR_RED;
  }
  CHECK(warnings == 4);
  CHECK(breaches == 4);
  CHECK(yellow == 2);
  CHECK(red == 1);  // the second yellow with red_card_yellows = 2
  auto cards = e->Cards("d-roads", absl::InfinitePast(), 10);
  REQUIRE(cards.ok());
  CHECK(cards->size() == 3);
  // A breached clock keeps running (how late it is stays measurable), nothing more fires.
  CHECK(w.RunUntil(*e, kT0 + absl::Seconds(400)) == 0);
  auto clocks = e->TicketClocks("t1");
  REQUIRE(clocks.ok());
  REQUIRE(clocks->size() == 2);
  for (const auto& c : *clocks) {
    CHECK(c.state() == v1::CLOCK_STATE_BREACHED);
    CHECK(c.department_id() == "d-roads");  // what a department's access is decided on
  }
}

TEST_CASE("engine: a redelivered event changes nothing; an event without ticket id is refused") {
  World w;
  auto e = w.Engine("a");
  e->OnAssigned(kAssigned);
  auto ev = NewEnvelope("dispatch", "t1", 1);
  auto* d = ev.mutable_ticket_dispatched();
  d->set_ticket_id("t1");
  d->set_department_id("d");
  *d->mutable_dispatched_at() = ToTimestamp(kT0);
  MessageMeta meta;
  meta.partition = kPartition;
  REQUIRE(e->HandleEvent(ev, meta).ok());
  w.RunUntil(*e, kT0 + absl::Seconds(60));
  REQUIRE(e->HandleEvent(ev, meta).ok());  // same event id: not a re-dispatch
  auto clocks = e->TicketClocks("t1");
  REQUIRE(clocks.ok());
  CHECK((*clocks)[0].percent_elapsed() >= 50);  // still the first generation
  d->clear_ticket_id();
  ev.set_event_id(NewUuid());
  auto bad = e->HandleEvent(ev, meta);
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.message().find("ticket_id") != std::string::npos);
}

TEST_CASE("engine: a revoked partition keeps firing until another instance claims it") {
  World w;
  auto a = w.Engine("a");
  a->OnAssigned(kAssigned);
  REQUIRE(w.Dispatch(*a, "t1", "d", kT0).ok());
  // The broker goes away: the group session times out and revokes everything.
  a->OnRevoked(kAssigned);
  a->MaintainLeases();  // nobody claims it: a keeps the lease
  CHECK(w.store.LeaseHolder(kPartition) == "a");
  CHECK(w.RunUntil(*a, kT0 + absl::Seconds(51)) == 1);
  CHECK(w.store.Outbox().size() == 1);

  // The group now gives the partition to b: b claims it, a hands it over, b loads and fires.
  auto b = w.Engine("b");
  b->OnAssigned(kAssigned);
  CHECK(b->OwnedPartitions().empty());  // a still holds the lease
  CHECK(w.RunUntil(*a, kT0 + absl::Seconds(60)) == 0);
  a->MaintainLeases();
  CHECK(a->OwnedPartitions().empty());
  CHECK(a->scheduled() == 0);
  b->MaintainLeases();
  CHECK(w.store.LeaseHolder(kPartition) == "b");
  CHECK(b->scheduled() == 2);
  size_t fired_a = w.RunUntil(*a, kT0 + absl::Seconds(101));
  size_t fired_b = b->FireDue();
  CHECK(fired_a == 0);
  CHECK(fired_b == 2);  // completion 50 %, sign-for breach
  auto ids = w.OutboxIds();
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
}

TEST_CASE(
    "engine: an instance whose lease was taken cannot fire (the fence), and drops the partition") {
  World w;
  auto a = w.Engine("a");
  a->OnAssigned(kAssigned);
  REQUIRE(w.Dispatch(*a, "t1", "d", kT0).ok());
  // a stalls past its lease; b takes the partition and fires the clock.
  w.store.ExpireLease(kPartition);
  auto b = w.Engine("b");
  b->OnAssigned(kAssigned);
  REQUIRE(b->OwnedPartitions() == std::set<int32_t>{kPartition});
  w.now = kT0 + absl::Seconds(51);
  CHECK(a->FireDue() == 0);  // due in a's wheel, but not a's to fire
  CHECK(a->OwnedPartitions().empty());
  CHECK(b->FireDue() == 1);
  CHECK(w.store.Outbox().size() == 1);
}

TEST_CASE("engine: stopping releases the leases, so a successor takes over at once") {
  World w;
  auto a = w.Engine("a");
  a->OnAssigned(kAssigned);
  REQUIRE(w.Dispatch(*a, "t1", "d", kT0).ok());
  a->Stop();
  CHECK(w.store.LeaseHolder(kPartition).empty());
  auto b = w.Engine("b");
  b->OnAssigned(kAssigned);
  CHECK(b->scheduled() == 2);
}

TEST_CASE("engine: store unreachable while firing: retried, fired once when it is back") {
  World w;
  auto a = w.Engine("a");
  a->OnAssigned(kAssigned);
  REQUIRE(w.Dispatch(*a, "t1", "d", kT0).ok());
  w.store.SetUnavailable(true);
  CHECK(w.RunUntil(*a, kT0 + absl::Seconds(51)) == 0);
  CHECK(a->scheduled() == 2);  // kept, due again a second later
  a->MaintainLeases();         // a failed renewal does not drop the partition
  CHECK(a->OwnedPartitions() == std::set<int32_t>{kPartition});
  w.store.SetUnavailable(false);
  CHECK(w.RunUntil(*a, kT0 + absl::Seconds(53)) == 1);
  CHECK(w.store.Outbox().size() == 1);
}

TEST_CASE("engine: a lease that lapsed without a successor is taken again and the point fires") {
  World w;
  auto a = w.Engine("a");
  a->OnAssigned(kAssigned);
  REQUIRE(w.Dispatch(*a, "t1", "d", kT0).ok());
  w.store.ExpireLease(kPartition);  // renewals were late (a stall), nobody took it meanwhile
  CHECK(w.RunUntil(*a, kT0 + absl::Seconds(51)) == 1);
  CHECK(w.store.LeaseHolder(kPartition) == "a");
  CHECK(a->OwnedPartitions() == std::set<int32_t>{kPartition});
}
