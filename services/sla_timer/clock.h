#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/events.pb.h"
#include "hotline/v1/sla_timer.pb.h"
#include "services/common/calendar.h"

namespace hotline::sla {

// One SLA clock of one ticket. The budget is measured in working time on `calendar` (or in
// calendar time); pauses stop the clock, the time already used is kept in `consumed`.
struct ClockRecord {
  std::string ticket_id;
  std::string department_id;
  v1::ClockKind kind = v1::CLOCK_KIND_UNSPECIFIED;
  v1::TicketType type = v1::TICKET_TYPE_UNSPECIFIED;
  v1::Urgency urgency = v1::URGENCY_NORMAL;
  v1::ClockState state = v1::CLOCK_STATE_RUNNING;
  std::string calendar;
  std::string policy;
  bool working_time = true;
  int64_t generation = 1;    // a new clock for the same ticket and kind (reopen, re-dispatch)
  int32_t partition = 0;     // the Kafka partition that owns it
  absl::Time started_at;     // first start
  absl::Time segment_start;  // start of the current running segment
  absl::Duration budget;     // the whole allowance
  absl::Duration consumed;   // used before segment_start
  std::vector<int> points;   // warning percents, then 100 (the breach)
  size_t next = 0;           // index into points of the next event to fire

  std::string Id() const;  // "<ticket>:<kind>"
  // Redis hash fields and back.
  std::vector<std::string> Fields() const;
  static absl::StatusOr<ClockRecord> FromFields(const std::map<std::string, std::string>& f);
};

// Time arithmetic of a clock against its calendar (pure).
class ClockMath {
 public:
  explicit ClockMath(const WorkCalendar& cal) : cal_(cal) {}
  // When the clock reaches `percent` of its budget, if it keeps running from its segment start.
  absl::Time TimeAtPercent(const ClockRecord& c, int percent) const;
  absl::Time Deadline(const ClockRecord& c) const { return TimeAtPercent(c, 100); }
  absl::Time NextFire(const ClockRecord& c) const;  // InfiniteFuture when nothing is left
  absl::Duration Used(const ClockRecord& c, absl::Time now) const;
  int PercentElapsed(const ClockRecord& c, absl::Time now) const;
  void Pause(ClockRecord& c, absl::Time now) const;
  void Resume(ClockRecord& c, absl::Time now) const;
  // Moves the deadline to `deadline` (an approved extension), keeping the time used.
  void ExtendTo(ClockRecord& c, absl::Time now, absl::Time deadline) const;
  v1::Clock ToProto(const ClockRecord& c, absl::Time now) const;

 private:
  absl::Time Add(absl::Time t, absl::Duration d, bool working) const;
  absl::Duration Between(absl::Time a, absl::Time b, bool working) const;
  const WorkCalendar& cal_;
};

// The event id of the n-th due event of a clock generation: the same on every replay, so a
// re-sent event is recognisably the same one.
std::string DueEventId(const ClockRecord& c, int percent);

}  // namespace hotline::sla
