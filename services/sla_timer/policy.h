#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/common.pb.h"
#include "services/common/calendar.h"

namespace hotline::sla {

// How long a ticket may take (限时办结), per type and urgency.
struct Policy {
  std::string name;           // e.g. "consultation/normal"
  std::string type;           // "consultation", ..., or "*"
  std::string urgency;        // "normal", "urgent" or "*"
  absl::Duration sign_for;    // dispatch → accepted
  absl::Duration completion;  // dispatch → replied
  bool working_time = true;   // false: calendar time (24×7)
  std::vector<int> warnings;  // percent of the budget, ascending, e.g. 50 75 90
};

// A duration in a policy file: "30m", "2h", "2d". With working time, "d" means working days
// (each the calendar's working-day length); with calendar time, 24 hours.
absl::StatusOr<absl::Duration> ParseBudget(const std::string& s, bool working_time,
                                           const WorkCalendar& cal);

class PolicyTable {
 public:
  // Tab-separated: type, urgency, sign_for, completion, working|calendar, warnings (50,75,90).
  // The most specific row wins: exact type and urgency, then type with urgency "*", then "*"
  // with the urgency, then "*"/"*". Durations in working days are converted with `cal`.
  static absl::StatusOr<std::unique_ptr<PolicyTable>> LoadFile(const std::string& path,
                                                               const WorkCalendar& cal);
  static std::unique_ptr<PolicyTable> FromPolicies(std::vector<Policy> p);
  const Policy* Find(v1::TicketType type, v1::Urgency urgency) const;

 private:
  std::vector<Policy> policies_;
};

std::string TypeKey(v1::TicketType t);  // "consultation"
std::string UrgencyKey(v1::Urgency u);  // "normal" / "urgent"

}  // namespace hotline::sla
