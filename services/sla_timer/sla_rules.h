#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "hotline/v1/events.pb.h"
#include "hotline/v1/sla_timer.pb.h"
#include "services/common/calendar.h"
#include "services/sla_timer/clock.h"
#include "services/sla_timer/policy.h"

// The SLA timer's rules as plain functions (no Redis, no clock, no threads): which clocks an
// event starts, stops, pauses or extends; which point of a clock is due; which cards a breach
// earns. SlaEngine reads and writes through an SlaStore and asks these what to do.
namespace hotline::sla {

// Which calendar a clock runs on (the shared lookup in services/common/calendar.h), plus the
// clock arithmetic on it.
class CalendarSet : public ::hotline::CalendarSet {
 public:
  using ::hotline::CalendarSet::CalendarSet;
  ClockMath MathFor(const ClockRecord& c) const {
    return ClockMath(For(c.department_id, c.calendar));
  }
};

// The ticket an SLA-relevant event is about; nullopt for events the SLA timer ignores, "" for
// a relevant event that lacks its ticket_id.
std::optional<std::string> SlaTicketOf(const v1::EventEnvelope& e);

std::string ClockIdOf(const std::string& ticket, v1::ClockKind kind);

// Open clocks count towards a department's "at risk" list; stopped ones do not.
bool ClockIsOpen(const ClockRecord& c);

// A ticket's two clocks as stored (either may be missing).
struct TicketClockPair {
  std::optional<ClockRecord> sign;  // CLOCK_KIND_SIGN_FOR
  std::optional<ClockRecord> done;  // CLOCK_KIND_COMPLETION
};

// Event → clock transitions. Returns the clocks the event changes (new or updated), in the order
// they are to be written; empty when the event changes nothing.
//   TicketDispatched           start sign-for and completion (next generation if they existed)
//   TicketAccepted             stop sign-for
//   TicketReplied / Returned / Closed / Withdrawn   stop both
//   ExtensionRequested         pause a running completion clock (the centre is deciding)
//   ExtensionGranted           move the completion deadline (keeps the time used)
//   ExtensionRefused           resume a paused completion clock
//   TicketReopened (重办)      new generation of both, same department unless the event names one
// `partition` is the Kafka partition of the event (it owns the clocks it starts).
std::vector<ClockRecord> ClockTransitions(const v1::EventEnvelope& e, const TicketClockPair& clocks,
                                          int32_t partition, absl::Time now,
                                          const PolicyTable& policies,
                                          const CalendarSet& calendars);

// The point (a warning percent, or 100 for the breach) a scheduled entry fires, or nullopt when
// the entry is stale: the clock stopped, paused, moved, or the point already fired (by us before
// a crash, or by another owner).
std::optional<int> DuePoint(const ClockRecord& c, const ClockMath& math, int64_t due_ms,
                            absl::Time now);

// The SlaWarning (percent < 100) or SlaBreached event of a due point, with its stable event id.
v1::EventEnvelope PointEvent(const ClockRecord& c, const ClockMath& math, int percent);

// The yellow/red card rule: a breached completion clock earns its department a yellow card; the
// yellow that makes `red_card_yellows` (and every multiple) within the window adds a red card
// (督办). `yellows_in_window` counts the department's yellows already in the window. Returns
// the cards to issue, yellow first; empty when the point earns none.
struct CardRule {
  int red_card_yellows = 3;
  absl::Duration window = absl::Hours(24 * 30);
};
bool EarnsCard(const ClockRecord& c, int percent);
std::vector<v1::Card> CardsFor(const ClockRecord& c, int64_t yellows_in_window, absl::Time now,
                               const CardRule& rule);
// The CardIssued event of a card, keyed by the ticket whose breach earned it (a red card names
// no ticket itself, but travels on that ticket's partition).
v1::EventEnvelope CardEvent(const v1::Card& card, const std::string& ticket_id);

}  // namespace hotline::sla
