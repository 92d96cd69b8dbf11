#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hotline/v1/events.pb.h"
#include "hotline/v1/intake.pb.h"

namespace hotline::intake {

// The citizen-facing timeline (DESIGN.md: intake owns "the citizen-facing timeline of each
// ticket"), free of Redis and Kafka so it is tested on its own.
//
// intake keeps, next to its own record of a ticket, a "progress": a v1::Ticket that holds only
// what other services' events told it (state, status, timeline, expected_at, department_id,
// updated_at). It never copies what intake already has (text, contact, created_at,
// supplements): View() joins the two when a ticket is shown.
class TimelineRules {
 public:
  // `department_names`: id → name from the city's directory, for the citizen's benefit; empty
  // shows ids. `zone`: the hotline's local time, in which deadlines are spoken.
  explicit TimelineRules(std::map<std::string, std::string> department_names = {},
                         absl::TimeZone zone = absl::FixedTimeZone(8 * 3600))
      : names_(std::move(department_names)), zone_(zone) {}

  // Whether `e` is an event the projection reads: another service's (never intake's own, which
  // come back on the topic) with a payload that changes what the citizen sees.
  static bool Projects(const v1::EventEnvelope& e);
  // The ticket `e` is about: its payload's ticket_id, else the envelope key.
  static std::string TicketId(const v1::EventEnvelope& e);

  // Applies `e` to `progress`. False when nothing changed: not projected, or the same entry is
  // already there (a redelivery that outlived the applier's marker).
  static bool Apply(const v1::EventEnvelope& e, v1::Ticket* progress);

  // What a citizen or an operator is shown: `stored` (intake's record) with its progress, the
  // intake steps (received, supplements, withdrawal) and the projected ones in time order,
  // each with its text and department name. For a MERGED report `progress` is the original's:
  // the status then follows the original's.
  v1::Ticket View(const v1::Ticket& stored, const v1::Ticket& progress) const;

  // FAILED_PRECONDITION naming the state once a department replied or the ticket is closed
  // (a reopened ticket stays past the point of withdrawal: it was answered once already).
  static absl::Status MayWithdraw(const v1::Ticket& view);
  // FAILED_PRECONDITION for a closed, withdrawn, answered or merged ticket.
  static absl::Status MaySupplement(const v1::Ticket& view);
  // Still being handled: what a new report of the same problem may be merged into.
  static bool IsOpen(const v1::Ticket& view);

  const std::string& DepartmentName(const std::string& id) const;

 private:
  std::string Describe(const v1::TimelineEntry& e, const v1::Ticket& stored) const;

  std::map<std::string, std::string> names_;
  absl::TimeZone zone_;
};

}  // namespace hotline::intake
