#include "services/sla_timer/policy.h"

#include <catch2/catch.hpp>

#include "services/common/calendar.h"

using namespace hotline;
using namespace hotline::sla;

namespace {

const WorkCalendar& Mainland() {
  static const WorkCalendar cal = *WorkCalendar::LoadFile(
      HOTLINE_REPO_DIR "/deploy/sla/calendars/cn-mainland.cal", "cn-mainland");
  return cal;
}

}  // namespace

TEST_CASE("policy budgets and the shipped SLA policies") {
  auto budget = ParseBudget("2d", true, Mainland());
  REQUIRE(budget.ok());
  CHECK(*budget == absl::Hours(14));
  CHECK(*ParseBudget("2d", false, Mainland()) == absl::Hours(48));
  CHECK_FALSE(ParseBudget("2w", true, Mainland()).ok());
  CHECK_FALSE(ParseBudget("-3h", true, Mainland()).ok());

  auto table = PolicyTable::LoadFile(HOTLINE_REPO_DIR "/deploy/sla/policies.tsv", Mainland());
  REQUIRE(table.ok());
  const Policy* urgent = (*table)->Find(v1::TICKET_TYPE_COMPLAINT, v1::URGENCY_URGENT);
  REQUIRE(urgent);
  CHECK(urgent->completion == absl::Hours(2));
  CHECK_FALSE(urgent->working_time);
  const Policy* consult = (*table)->Find(v1::TICKET_TYPE_CONSULTATION, v1::URGENCY_NORMAL);
  REQUIRE(consult);
  CHECK(consult->completion == absl::Hours(14));
  const Policy* other = (*table)->Find(v1::TICKET_TYPE_REPORT, v1::URGENCY_NORMAL);
  REQUIRE(other);
  CHECK(other->completion == absl::Hours(140));
  CHECK(other->warnings == std::vector<int>{50, 75, 90});
}
