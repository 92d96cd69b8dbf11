#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

// Working-day calendars shared by the services that count working time (the SLA timer's
// deadlines, the survey's "within N working hours of the reply"), as code rather than as access
// to another service's data: each service loads the same calendar files from its own config.
namespace hotline {

// A working calendar: working hours on working days, in one local time. A day is a working day
// when it is a make-up working day (调休), or a weekday that is neither in the weekend set nor a
// public holiday. Pure arithmetic, no clock: tests pass the times they want.
class WorkCalendar {
 public:
  struct Interval {
    int start_minute;  // minutes after local midnight
    int end_minute;
  };

  WorkCalendar(std::string name, absl::TimeZone zone, std::vector<Interval> hours,
               std::set<absl::Weekday> weekend, std::set<absl::CivilDay> holidays,
               std::set<absl::CivilDay> workdays);
  // Every minute of every day (urgent tickets, 24×7 departments).
  static WorkCalendar AlwaysOpen(std::string name = "24x7");

  // Calendar file (text, '#' comments):
  //   timezone +08:00
  //   hours 09:00-12:00 13:30-17:30
  //   weekend sat sun
  //   include cn-mainland-2026.txt        (lines: YYYY-MM-DD<TAB>holiday|workday<TAB>name)
  //   holiday 2026-12-31 / workday 2026-12-27   (single days, for local additions)
  // Errors name the file and line.
  static absl::StatusOr<WorkCalendar> LoadFile(const std::string& path, const std::string& name);

  bool IsWorkingDay(absl::CivilDay day) const;
  // The instant `budget` of working time after `start`.
  absl::Time AddWorkingTime(absl::Time start, absl::Duration budget) const;
  // Working time in [from, to); zero when to <= from.
  absl::Duration WorkingTimeBetween(absl::Time from, absl::Time to) const;
  // Working time in one ordinary working day (the unit of "N working days").
  absl::Duration WorkingDayLength() const;

  const std::string& name() const { return name_; }
  absl::TimeZone zone() const { return zone_; }

 private:
  std::string name_;
  absl::TimeZone zone_;
  std::vector<Interval> hours_;
  std::set<absl::Weekday> weekend_;
  std::set<absl::CivilDay> holidays_;
  std::set<absl::CivilDay> workdays_;
};

// Every `<name>.cal` in `dir`, by name. Errors name the file and line (from LoadFile); an
// unreadable directory is INVALID_ARGUMENT naming it.
absl::StatusOr<std::map<std::string, WorkCalendar>> LoadCalendarDirectory(const std::string& dir);

// Department → calendar name: the 4th column of the department directory
// (deploy/dispatch/departments.tsv, tab-separated, '#' comments). Rows with fewer columns keep
// the default calendar.
absl::StatusOr<std::map<std::string, std::string>> LoadDepartmentCalendars(const std::string& path);

// Which calendar applies: the one named, else the department's, else the default, else 24×7.
// Always has "24x7", so For() always returns a calendar.
class CalendarSet {
 public:
  CalendarSet(std::map<std::string, WorkCalendar> calendars, std::string default_calendar,
              std::map<std::string, std::string> department_calendar);
  const WorkCalendar& For(const std::string& dept, const std::string& name = "") const;

 private:
  std::map<std::string, WorkCalendar> calendars_;
  std::string default_;
  std::map<std::string, std::string> department_;
};

}  // namespace hotline
