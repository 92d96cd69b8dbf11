#include "services/common/calendar.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

using namespace hotline;

namespace {

const absl::TimeZone kBeijing = absl::FixedTimeZone(8 * 3600);

absl::Time At(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), kBeijing);
}

const WorkCalendar& Mainland() {
  static const WorkCalendar cal = *WorkCalendar::LoadFile(
      HOTLINE_REPO_DIR "/deploy/sla/calendars/cn-mainland.cal", "cn-mainland");
  return cal;
}

}  // namespace

TEST_CASE("working days: weekends off, holidays off, make-up Saturdays on") {
  const auto& c = Mainland();
  CHECK(c.IsWorkingDay(absl::CivilDay(2026, 11, 24)));        // Tuesday
  CHECK_FALSE(c.IsWorkingDay(absl::CivilDay(2026, 11, 28)));  // Saturday
  CHECK_FALSE(c.IsWorkingDay(absl::CivilDay(2026, 10, 1)));   // National Day
  CHECK_FALSE(c.IsWorkingDay(absl::CivilDay(2026, 10, 7)));
  CHECK(c.IsWorkingDay(absl::CivilDay(2026, 10, 10)));       // Saturday, 调休 working day
  CHECK(c.IsWorkingDay(absl::CivilDay(2026, 2, 14)));        // Saturday before Spring Festival
  CHECK_FALSE(c.IsWorkingDay(absl::CivilDay(2026, 2, 17)));  // Spring Festival
  CHECK(c.WorkingDayLength() == absl::Hours(7));
}

TEST_CASE("a deadline that crosses the end of a working day and the lunch break") {
  const auto& c = Mainland();
  CHECK(c.AddWorkingTime(At(2026, 11, 24, 11, 30), absl::Hours(1)) == At(2026, 11, 24, 13, 30));
  CHECK(c.AddWorkingTime(At(2026, 11, 24, 16, 30), absl::Hours(1)) == At(2026, 11, 25, 9, 30));
  // Filed at night: the clock starts at the next opening.
  CHECK(c.AddWorkingTime(At(2026, 11, 24, 22, 0), absl::Minutes(30)) == At(2026, 11, 25, 9, 30));
}

TEST_CASE("a deadline that crosses a weekend") {
  const auto& c = Mainland();
  CHECK(c.AddWorkingTime(At(2026, 11, 27, 16, 0), absl::Hours(2)) == At(2026, 11, 30, 10, 0));
  CHECK(c.WorkingTimeBetween(At(2026, 11, 27, 16, 0), At(2026, 11, 30, 10, 0)) == absl::Hours(2));
  // 2 working days (14 h) from Monday 10:00 is Wednesday 10:00.
  CHECK(c.AddWorkingTime(At(2026, 11, 23, 10, 0), c.WorkingDayLength() * 2) ==
        At(2026, 11, 25, 10, 0));
  // 20 working days from Monday 23 Nov: four weeks later, Monday 21 Dec at the same time.
  CHECK(c.AddWorkingTime(At(2026, 11, 23, 10, 0), c.WorkingDayLength() * 20) ==
        At(2026, 12, 21, 10, 0));
}

TEST_CASE("a deadline that crosses a public holiday") {
  const auto& c = Mainland();
  // Wednesday 30 Sep 16:00 + 2 h: 1 h that day, National Day 1–7 Oct off, Thursday 8 Oct 10:00.
  CHECK(c.AddWorkingTime(At(2026, 9, 30, 16, 0), absl::Hours(2)) == At(2026, 10, 8, 10, 0));
  CHECK(c.WorkingTimeBetween(At(2026, 10, 1, 0, 0), At(2026, 10, 8, 0, 0)) == absl::ZeroDuration());
}

TEST_CASE("a deadline that lands on a make-up Saturday") {
  const auto& c = Mainland();
  CHECK(c.AddWorkingTime(At(2026, 10, 9, 16, 0), absl::Hours(2)) == At(2026, 10, 10, 10, 0));
  CHECK(c.AddWorkingTime(At(2026, 2, 13, 16, 0), absl::Hours(2)) == At(2026, 2, 14, 10, 0));
  // Without the make-up day it would have been the next Monday.
  WorkCalendar plain("plain", kBeijing, {{9 * 60, 12 * 60}, {13 * 60, 17 * 60}},
                     {absl::Weekday::saturday, absl::Weekday::sunday}, {}, {});
  CHECK(plain.AddWorkingTime(At(2026, 10, 9, 16, 0), absl::Hours(2)) == At(2026, 10, 12, 10, 0));
}

TEST_CASE("calendar files: errors name the file and line") {
  auto bad = WorkCalendar::LoadFile("/nonexistent.cal", "x");
  CHECK(absl::IsNotFound(bad.status()));
  const std::string path = "/tmp/hotline_calendar_test_" + std::to_string(getpid()) + ".cal";
  {
    std::ofstream out(path);
    out << "# comment\ntimezone +08:00\nhours 09:00-25:00\n";
  }
  auto broken = WorkCalendar::LoadFile(path, "x");
  std::remove(path.c_str());
  REQUIRE_FALSE(broken.ok());
  CHECK(absl::IsInvalidArgument(broken.status()));
  CHECK_THAT(std::string(broken.status().message()),
             Catch::Contains(path + ":3:") && Catch::Contains("working hours"));
}

TEST_CASE("the shipped calendar directory and the department → calendar lookup") {
  auto cals = LoadCalendarDirectory(HOTLINE_REPO_DIR "/deploy/sla/calendars");
  REQUIRE(cals.ok());
  CHECK(cals->count("cn-mainland") == 1);
  CHECK(cals->count("cn-mainland-24x7") == 1);
  CHECK_FALSE(LoadCalendarDirectory("/nonexistent-dir").ok());

  auto deps = LoadDepartmentCalendars(HOTLINE_REPO_DIR "/deploy/dispatch/departments.tsv");
  REQUIRE(deps.ok());
  CHECK(deps->at("d-urban") == "cn-mainland");

  CalendarSet set(std::move(*cals), "cn-mainland", {{"traffic-police", "cn-mainland-24x7"}});
  CHECK(set.For("traffic-police").name() == "cn-mainland-24x7");
  CHECK(set.For("unknown-dept").name() == "cn-mainland");
  CHECK(set.For("traffic-police", "24x7").name() == "24x7");  // always present
  CHECK(set.For("", "no-such-calendar").name() == "cn-mainland");
}
