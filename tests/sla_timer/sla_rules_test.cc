// The SLA rules without Redis: event → clock transitions, due points, the card rule.
#include "services/sla_timer/sla_rules.h"

#include <catch2/catch.hpp>

#include "services/common/events.h"
#include "services/common/time_proto.h"

using namespace hotline;
using namespace hotline::sla;

namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

std::unique_ptr<PolicyTable> Policies() {
  Policy p;
  p.name = "complaint/normal";
  p.type = "complaint";
  p.urgency = "normal";
  p.sign_for = absl::Seconds(100);
  p.completion = absl::Seconds(1000);
  p.working_time = false;
  p.warnings = {50, 75, 90};
  return PolicyTable::FromPolicies({p});
}

struct Rules {
  std::unique_ptr<PolicyTable> policies = Policies();
  sla::CalendarSet calendars{{}, "cn-mainland", {}};
  TicketClockPair clocks;

  // Applies `e` at `now` and keeps the result as the stored state, like the engine does.
  std::vector<ClockRecord> Apply(const v1::EventEnvelope& e, absl::Time now,
                                 int32_t partition = 3) {
    auto out = ClockTransitions(e, clocks, partition, now, *policies, calendars);
    for (const auto& c : out) (c.kind == v1::CLOCK_KIND_SIGN_FOR ? clocks.sign : clocks.done) = c;
    return out;
  }
};

v1::EventEnvelope Dispatched(const std::string& ticket, const std::string& dept, absl::Time at) {
  auto e = NewEnvelope("dispatch", ticket, 1);
  auto* d = e.mutable_ticket_dispatched();
  d->set_ticket_id(ticket);
  d->set_department_id(dept);
  d->set_type(v1::TICKET_TYPE_COMPLAINT);
  d->set_urgency(v1::URGENCY_NORMAL);
  *d->mutable_dispatched_at() = ToTimestamp(at);
  return e;
}

template <typename Set>
v1::EventEnvelope Event(const std::string& ticket, Set set) {
  auto e = NewEnvelope("dispatch", ticket, 2);
  set(e);
  return e;
}

v1::EventEnvelope Accepted(const std::string& t) {
  return Event(t, [&](v1::EventEnvelope& e) { e.mutable_ticket_accepted()->set_ticket_id(t); });
}
v1::EventEnvelope Replied(const std::string& t) {
  return Event(t, [&](v1::EventEnvelope& e) { e.mutable_ticket_replied()->set_ticket_id(t); });
}

}  // namespace

TEST_CASE("rules: dispatch starts both clocks from the dispatch time with the policy's budgets") {
  Rules r;
  auto out = r.Apply(Dispatched("t1", "d-roads", kT0), kT0 + absl::Seconds(5));
  REQUIRE(out.size() == 2);
  const ClockRecord& sign = *r.clocks.sign;
  const ClockRecord& done = *r.clocks.done;
  CHECK(sign.kind == v1::CLOCK_KIND_SIGN_FOR);
  CHECK(sign.budget == absl::Seconds(100));
  CHECK(done.budget == absl::Seconds(1000));
  CHECK(sign.started_at == kT0);  // the event's time, not when it was consumed
  CHECK(sign.department_id == "d-roads");
  CHECK(sign.partition == 3);
  CHECK(sign.generation == 1);
  CHECK(sign.calendar == "24x7");
  CHECK(sign.points == std::vector<int>{50, 75, 90, 100});
  CHECK(ClockIsOpen(sign));
  // Dispatched again (re-dispatch): the next generation.
  r.Apply(Dispatched("t1", "d-parks", kT0 + absl::Seconds(10)), kT0 + absl::Seconds(10));
  CHECK(r.clocks.sign->generation == 2);
  CHECK(r.clocks.done->department_id == "d-parks");
}

TEST_CASE("rules: no policy for the ticket's type, no clocks") {
  Rules r;
  auto e = Dispatched("t1", "d-roads", kT0);
  e.mutable_ticket_dispatched()->set_type(v1::TICKET_TYPE_CONSULTATION);
  CHECK(r.Apply(e, kT0).empty());
}

TEST_CASE("rules: accept stops sign-for only; reply stops both; a stopped clock is not rewritten") {
  Rules r;
  r.Apply(Dispatched("t1", "d", kT0), kT0);
  auto out = r.Apply(Accepted("t1"), kT0 + absl::Seconds(30));
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == v1::CLOCK_KIND_SIGN_FOR);
  CHECK(out[0].state == v1::CLOCK_STATE_STOPPED);
  CHECK(out[0].consumed == absl::Seconds(30));  // the time used is frozen
  CHECK(r.clocks.done->state == v1::CLOCK_STATE_RUNNING);
  out = r.Apply(Replied("t1"), kT0 + absl::Seconds(60));
  REQUIRE(out.size() == 1);  // sign-for was already stopped
  CHECK(out[0].kind == v1::CLOCK_KIND_COMPLETION);
  CHECK_FALSE(ClockIsOpen(*r.clocks.done));
  CHECK(r.Apply(Replied("t1"), kT0 + absl::Seconds(70)).empty());
}

TEST_CASE("rules: returned, closed and withdrawn stop both clocks") {
  using Setter = std::function<void(v1::EventEnvelope&)>;
  for (const Setter& set :
       {Setter([](v1::EventEnvelope& e) { e.mutable_ticket_returned()->set_ticket_id("t"); }),
        Setter([](v1::EventEnvelope& e) { e.mutable_ticket_closed()->set_ticket_id("t"); }),
        Setter([](v1::EventEnvelope& e) { e.mutable_ticket_withdrawn()->set_ticket_id("t"); })}) {
    Rules r;
    r.Apply(Dispatched("t", "d", kT0), kT0);
    auto out = r.Apply(Event("t", set), kT0 + absl::Seconds(1));
    CHECK(out.size() == 2);
    CHECK(r.clocks.sign->state == v1::CLOCK_STATE_STOPPED);
    CHECK(r.clocks.done->state == v1::CLOCK_STATE_STOPPED);
  }
}

TEST_CASE(
    "rules: an extension request pauses completion, a refusal resumes it, a grant moves the "
    "deadline") {
  Rules r;
  r.Apply(Dispatched("t", "d", kT0), kT0);
  const ClockMath math(r.calendars.For("", "24x7"));
  auto out = r.Apply(
      Event("t", [](v1::EventEnvelope& e) { e.mutable_extension_requested()->set_ticket_id("t"); }),
      kT0 + absl::Seconds(100));
  REQUIRE(out.size() == 1);
  CHECK(r.clocks.done->state == v1::CLOCK_STATE_PAUSED);
  CHECK(math.NextFire(*r.clocks.done) == absl::InfiniteFuture());  // nothing fires while paused
  // Refused 50 s later: it resumes, and those 50 s did not count.
  r.Apply(
      Event("t", [](v1::EventEnvelope& e) { e.mutable_extension_refused()->set_ticket_id("t"); }),
      kT0 + absl::Seconds(150));
  CHECK(r.clocks.done->state == v1::CLOCK_STATE_RUNNING);
  CHECK(math.Deadline(*r.clocks.done) == kT0 + absl::Seconds(1050));
  // A refusal of a clock that is not paused changes nothing.
  CHECK(r.Apply(
             Event("t",
                   [](v1::EventEnvelope& e) { e.mutable_extension_refused()->set_ticket_id("t"); }),
             kT0 + absl::Seconds(160))
            .empty());
  // Granted: the deadline is the one granted.
  auto grant = Event("t", [](v1::EventEnvelope& e) {
    e.mutable_extension_granted()->set_ticket_id("t");
    *e.mutable_extension_granted()->mutable_new_deadline() = ToTimestamp(kT0 + absl::Seconds(5000));
  });
  REQUIRE(r.Apply(grant, kT0 + absl::Seconds(200)).size() == 1);
  CHECK(math.Deadline(*r.clocks.done) == kT0 + absl::Seconds(5000));
  // Nothing touches the sign-for clock.
  CHECK(r.clocks.sign->state == v1::CLOCK_STATE_RUNNING);
}

TEST_CASE("rules: reopening starts a new generation, in the named department or the same one") {
  Rules r;
  auto reopen = [](const std::string& dept) {
    return Event("t", [&](v1::EventEnvelope& e) {
      e.mutable_ticket_reopened()->set_ticket_id("t");
      e.mutable_ticket_reopened()->set_department_id(dept);
    });
  };
  CHECK(r.Apply(reopen(""), kT0).empty());  // no clocks to reopen
  r.Apply(Dispatched("t", "d-roads", kT0), kT0);
  r.Apply(Replied("t"), kT0 + absl::Seconds(10));
  r.Apply(reopen(""), kT0 + absl::Seconds(20));
  CHECK(r.clocks.done->generation == 2);
  CHECK(r.clocks.done->department_id == "d-roads");
  CHECK(r.clocks.done->state == v1::CLOCK_STATE_RUNNING);
  CHECK(r.clocks.done->started_at == kT0 + absl::Seconds(20));
  r.Apply(reopen("d-water"), kT0 + absl::Seconds(30));
  CHECK(r.clocks.sign->generation == 3);
  CHECK(r.clocks.sign->department_id == "d-water");
}

TEST_CASE("rules: which events concern the SLA timer") {
  CHECK(SlaTicketOf(Accepted("t9")) == std::optional<std::string>("t9"));
  CHECK(SlaTicketOf(Accepted("")) == std::optional<std::string>(""));
  v1::EventEnvelope other = NewEnvelope("sla_timer", "t", 0);
  other.mutable_sla_warning()->set_ticket_id("t");
  CHECK_FALSE(SlaTicketOf(other).has_value());
  CHECK(ClockIdOf("t9", v1::CLOCK_KIND_COMPLETION) == "t9:2");
}

TEST_CASE("rules: a point is due at its percent of the budget, once, and never early") {
  Rules r;
  r.Apply(Dispatched("t", "d", kT0), kT0);
  ClockRecord c = *r.clocks.sign;
  const ClockMath math = r.calendars.MathFor(c);
  const int64_t due = absl::ToUnixMillis(kT0 + absl::Seconds(50));
  CHECK(math.NextFire(c) == kT0 + absl::Seconds(50));
  CHECK_FALSE(DuePoint(c, math, due, kT0 + absl::Seconds(49)));      // early
  CHECK_FALSE(DuePoint(c, math, due - 1, kT0 + absl::Seconds(51)));  // a stale wheel entry
  REQUIRE(DuePoint(c, math, due, kT0 + absl::Seconds(51)) == std::optional<int>(50));
  auto ev = PointEvent(c, math, 50);
  REQUIRE(ev.has_sla_warning());
  CHECK(ev.sla_warning().percent_elapsed() == 50);
  CHECK(ev.sla_warning().department_id() == "d");
  CHECK(ev.event_id() == DueEventId(c, 50));
  CHECK(ev.key() == "t");
  ++c.next;  // fired: the same entry is not due again
  CHECK_FALSE(DuePoint(c, math, due, kT0 + absl::Seconds(51)));
  c.next = 3;
  auto breach = PointEvent(c, math, 100);
  REQUIRE(breach.has_sla_breached());
  CHECK(breach.sla_breached().deadline().seconds() == 1'800'000'100);
  c.next = 4;  // past the last point (or a corrupt record): nothing, no out-of-range read
  CHECK_FALSE(DuePoint(c, math, due, kT0 + absl::Seconds(500)));
}

TEST_CASE(
    "rules: a completion breach earns a yellow card; every Nth yellow in the window adds a red "
    "one") {
  Rules r;
  r.Apply(Dispatched("t", "d-roads", kT0), kT0);
  const ClockRecord& done = *r.clocks.done;
  CHECK(EarnsCard(done, 100));
  CHECK_FALSE(EarnsCard(done, 90));
  CHECK_FALSE(EarnsCard(*r.clocks.sign, 100));  // a late sign-for is a breach, not a card
  const CardRule rule{3, absl::Hours(24)};
  auto cards = CardsFor(done, 0, kT0, rule);
  REQUIRE(cards.size() == 1);
  CHECK(cards[0].color() == v1::CARD_COLOR_YELLOW);
  CHECK(cards[0].ticket_id() == "t");
  CHECK(cards[0].department_id() == "d-roads");
  CHECK(CardsFor(done, 1, kT0, rule).size() == 1);
  cards = CardsFor(done, 2, kT0, rule);  // the third yellow
  REQUIRE(cards.size() == 2);
  CHECK(cards[1].color() == v1::CARD_COLOR_RED);
  CHECK(cards[1].card_id() != cards[0].card_id());
  CHECK(CardsFor(done, 5, kT0, rule).size() == 2);                         // the sixth
  CHECK(CardsFor(done, 2, kT0, CardRule{0, absl::Hours(1)}).size() == 1);  // red cards off
  auto ev = CardEvent(cards[1], "t");
  CHECK(ev.key() == "t");  // travels with the ticket that earned it
  CHECK(ev.event_id() == cards[1].card_id());
  CHECK(ev.card_issued().color() == v1::CARD_COLOR_RED);
}
