#include "services/sla_timer/sla_rules.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/time_proto.h"

namespace hotline::sla {
namespace {

// Milliseconds on purpose: clocks are stored and scheduled in whole milliseconds.
absl::Time FromTs(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMillis(google::protobuf::util::TimeUtil::TimestampToMilliseconds(t));
}

}  // namespace

std::optional<std::string> SlaTicketOf(const v1::EventEnvelope& e) {
  using Case = v1::EventEnvelope::PayloadCase;
  switch (e.payload_case()) {
    case Case::kTicketDispatched:
      return e.ticket_dispatched().ticket_id();
    case Case::kTicketAccepted:
      return e.ticket_accepted().ticket_id();
    case Case::kTicketReturned:
      return e.ticket_returned().ticket_id();
    case Case::kExtensionRequested:
      return e.extension_requested().ticket_id();
    case Case::kExtensionGranted:
      return e.extension_granted().ticket_id();
    case Case::kExtensionRefused:
      return e.extension_refused().ticket_id();
    case Case::kTicketReplied:
      return e.ticket_replied().ticket_id();
    case Case::kTicketReopened:
      return e.ticket_reopened().ticket_id();
    case Case::kTicketClosed:
      return e.ticket_closed().ticket_id();
    case Case::kTicketWithdrawn:
      return e.ticket_withdrawn().ticket_id();
    default:
      return std::nullopt;
  }
}

std::string ClockIdOf(const std::string& ticket, v1::ClockKind kind) {
  return absl::StrCat(ticket, ":", static_cast<int>(kind));
}

bool ClockIsOpen(const ClockRecord& c) {
  return c.state == v1::CLOCK_STATE_RUNNING || c.state == v1::CLOCK_STATE_PAUSED ||
         c.state == v1::CLOCK_STATE_BREACHED;
}

std::vector<ClockRecord> ClockTransitions(const v1::EventEnvelope& e, const TicketClockPair& clocks,
                                          int32_t partition, absl::Time now,
                                          const PolicyTable& policies,
                                          const CalendarSet& calendars) {
  using Case = v1::EventEnvelope::PayloadCase;
  const std::string ticket = SlaTicketOf(e).value_or("");
  std::optional<ClockRecord> sign = clocks.sign, done = clocks.done;
  std::vector<ClockRecord> written;
  auto stop = [&](std::optional<ClockRecord>& c) {
    if (!c || c->state == v1::CLOCK_STATE_STOPPED) return;
    calendars.MathFor(*c).Pause(*c, now);  // freeze the time used
    c->state = v1::CLOCK_STATE_STOPPED;
    written.push_back(*c);
  };
  auto start = [&](v1::ClockKind kind, const std::optional<ClockRecord>& old,
                   const std::string& dept, v1::TicketType type, v1::Urgency urgency,
                   absl::Time at) {
    const Policy* p = policies.Find(type, urgency);
    if (!p) return;
    ClockRecord c;
    c.ticket_id = ticket;
    c.department_id = dept;
    c.kind = kind;
    c.type = type;
    c.urgency = urgency;
    c.policy = p->name;
    c.working_time = p->working_time;
    c.calendar = p->working_time ? calendars.For(dept).name() : "24x7";
    c.generation = old ? old->generation + 1 : 1;
    c.partition = partition;
    c.started_at = c.segment_start = at;
    c.budget = kind == v1::CLOCK_KIND_SIGN_FOR ? p->sign_for : p->completion;
    c.points = p->warnings;
    c.points.push_back(100);
    written.push_back(c);
  };
  switch (e.payload_case()) {
    case Case::kTicketDispatched: {
      const auto& d = e.ticket_dispatched();
      absl::Time at = d.has_dispatched_at() ? FromTs(d.dispatched_at()) : now;
      start(v1::CLOCK_KIND_SIGN_FOR, sign, d.department_id(), d.type(), d.urgency(), at);
      start(v1::CLOCK_KIND_COMPLETION, done, d.department_id(), d.type(), d.urgency(), at);
      break;
    }
    case Case::kTicketAccepted:
      stop(sign);
      break;
    case Case::kExtensionRequested:
      if (done && done->state == v1::CLOCK_STATE_RUNNING) {
        calendars.MathFor(*done).Pause(*done, now);  // the centre is deciding: the clock waits
        written.push_back(*done);
      }
      break;
    case Case::kExtensionGranted:
      if (done && done->state != v1::CLOCK_STATE_STOPPED) {
        calendars.MathFor(*done).ExtendTo(*done, now, FromTs(e.extension_granted().new_deadline()));
        written.push_back(*done);
      }
      break;
    case Case::kExtensionRefused:
      if (done && done->state == v1::CLOCK_STATE_PAUSED) {
        calendars.MathFor(*done).Resume(*done, now);
        written.push_back(*done);
      }
      break;
    case Case::kTicketReopened: {
      // 重办: new clocks for the same department, same type.
      const ClockRecord* base = done ? &*done : sign ? &*sign : nullptr;
      if (!base) break;
      std::string dept = e.ticket_reopened().department_id().empty()
                             ? base->department_id
                             : e.ticket_reopened().department_id();
      v1::TicketType type = base->type;
      v1::Urgency urgency = base->urgency;
      start(v1::CLOCK_KIND_SIGN_FOR, sign, dept, type, urgency, now);
      start(v1::CLOCK_KIND_COMPLETION, done, dept, type, urgency, now);
      break;
    }
    case Case::kTicketReturned:
    case Case::kTicketReplied:
    case Case::kTicketClosed:
    case Case::kTicketWithdrawn:
      stop(sign);
      stop(done);
      break;
    default:
      break;
  }
  return written;
}

std::optional<int> DuePoint(const ClockRecord& c, const ClockMath& math, int64_t due_ms,
                            absl::Time now) {
  absl::Time due = math.NextFire(c);
  if (due == absl::InfiniteFuture() || absl::ToUnixMillis(due) != due_ms || due > now)
    return std::nullopt;
  if (c.next >= c.points.size()) return std::nullopt;
  return c.points[c.next];
}

v1::EventEnvelope PointEvent(const ClockRecord& c, const ClockMath& math, int percent) {
  v1::EventEnvelope ev = NewEnvelope("sla_timer", c.ticket_id, 0);
  ev.set_event_id(DueEventId(c, percent));
  if (percent < 100) {
    auto* w = ev.mutable_sla_warning();
    w->set_ticket_id(c.ticket_id);
    w->set_department_id(c.department_id);
    w->set_clock(c.kind);
    w->set_percent_elapsed(percent);
    *w->mutable_deadline() = ToTimestamp(math.Deadline(c));
  } else {
    auto* b = ev.mutable_sla_breached();
    b->set_ticket_id(c.ticket_id);
    b->set_department_id(c.department_id);
    b->set_clock(c.kind);
    *b->mutable_deadline() = ToTimestamp(math.Deadline(c));
  }
  return ev;
}

bool EarnsCard(const ClockRecord& c, int percent) {
  return percent == 100 && c.kind == v1::CLOCK_KIND_COMPLETION;
}

std::vector<v1::Card> CardsFor(const ClockRecord& c, int64_t yellows_in_window, absl::Time now,
                               const CardRule& rule) {
  v1::Card yellow;
  yellow.set_card_id(DueEventId(c, 1000));
  yellow.set_department_id(c.department_id);
  yellow.set_color(v1::CARD_COLOR_YELLOW);
  yellow.set_ticket_id(c.ticket_id);
  yellow.set_reason(absl::StrCat("ticket overdue (", c.policy, " deadline passed)"));
  *yellow.mutable_issued_at() = ToTimestamp(now);
  std::vector<v1::Card> cards = {yellow};
  const int64_t yellows = yellows_in_window + 1;
  if (rule.red_card_yellows > 0 && yellows % rule.red_card_yellows == 0) {
    v1::Card red;
    red.set_card_id(DueEventId(c, 2000));
    red.set_department_id(c.department_id);
    red.set_color(v1::CARD_COLOR_RED);
    red.set_reason(absl::StrCat(yellows, " yellow cards within ", absl::FormatDuration(rule.window),
                                " (督办)"));
    *red.mutable_issued_at() = ToTimestamp(now);
    cards.push_back(red);
  }
  return cards;
}

v1::EventEnvelope CardEvent(const v1::Card& card, const std::string& ticket_id) {
  v1::EventEnvelope ce = NewEnvelope("sla_timer", ticket_id, 0);
  ce.set_event_id(card.card_id());
  auto* ci = ce.mutable_card_issued();
  ci->set_card_id(card.card_id());
  ci->set_department_id(card.department_id());
  ci->set_color(card.color());
  ci->set_ticket_id(card.ticket_id());
  ci->set_reason(card.reason());
  return ce;
}

}  // namespace hotline::sla
