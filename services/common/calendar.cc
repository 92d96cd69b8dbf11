#include "services/common/calendar.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hotline {
namespace {

constexpr int kMaxDaysScanned = 3660;  // ten years: a budget that needs more is a config error

absl::Time DayStart(absl::CivilDay d, absl::TimeZone z) {
  return absl::FromCivil(absl::CivilSecond(d), z);
}

bool ParseDay(absl::string_view s, absl::CivilDay* d) { return absl::ParseCivilTime(s, d); }

bool ParseHm(absl::string_view s, int* minutes) {
  std::vector<absl::string_view> p = absl::StrSplit(s, ':');
  int h, m;
  if (p.size() != 2 || !absl::SimpleAtoi(p[0], &h) || !absl::SimpleAtoi(p[1], &m)) return false;
  if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return false;
  *minutes = h * 60 + m;
  return true;
}

}  // namespace

WorkCalendar::WorkCalendar(std::string name, absl::TimeZone zone, std::vector<Interval> hours,
                           std::set<absl::Weekday> weekend, std::set<absl::CivilDay> holidays,
                           std::set<absl::CivilDay> workdays)
    : name_(std::move(name)),
      zone_(zone),
      hours_(std::move(hours)),
      weekend_(std::move(weekend)),
      holidays_(std::move(holidays)),
      workdays_(std::move(workdays)) {
  std::sort(hours_.begin(), hours_.end(),
            [](const Interval& a, const Interval& b) { return a.start_minute < b.start_minute; });
}

WorkCalendar WorkCalendar::AlwaysOpen(std::string name) {
  return WorkCalendar(std::move(name), absl::UTCTimeZone(), {{0, 24 * 60}}, {}, {}, {});
}

bool WorkCalendar::IsWorkingDay(absl::CivilDay day) const {
  if (workdays_.count(day)) return true;
  if (holidays_.count(day)) return false;
  return !weekend_.count(absl::GetWeekday(day));
}

absl::Duration WorkCalendar::WorkingDayLength() const {
  absl::Duration d;
  for (const auto& i : hours_) d += absl::Minutes(i.end_minute - i.start_minute);
  return d;
}

absl::Time WorkCalendar::AddWorkingTime(absl::Time start, absl::Duration budget) const {
  if (budget <= absl::ZeroDuration()) return start;
  absl::CivilDay day = absl::ToCivilDay(start, zone_);
  for (int n = 0; n < kMaxDaysScanned; ++n, ++day) {
    if (!IsWorkingDay(day)) continue;
    absl::Time base = DayStart(day, zone_);
    for (const auto& i : hours_) {
      absl::Time a = std::max(start, base + absl::Minutes(i.start_minute));
      absl::Time b = base + absl::Minutes(i.end_minute);
      if (a >= b) continue;
      if (b - a >= budget) return a + budget;
      budget -= b - a;
    }
  }
  return absl::InfiniteFuture();
}

absl::Duration WorkCalendar::WorkingTimeBetween(absl::Time from, absl::Time to) const {
  absl::Duration total;
  if (to <= from) return total;
  absl::CivilDay day = absl::ToCivilDay(from, zone_);
  absl::CivilDay last = absl::ToCivilDay(to, zone_);
  for (int n = 0; day <= last && n < kMaxDaysScanned; ++n, ++day) {
    if (!IsWorkingDay(day)) continue;
    absl::Time base = DayStart(day, zone_);
    for (const auto& i : hours_) {
      absl::Time a = std::max(from, base + absl::Minutes(i.start_minute));
      absl::Time b = std::min(to, base + absl::Minutes(i.end_minute));
      if (a < b) total += b - a;
    }
  }
  return total;
}

absl::StatusOr<WorkCalendar> WorkCalendar::LoadFile(const std::string& path,
                                                    const std::string& name) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the calendar"));
  absl::TimeZone zone = absl::FixedTimeZone(8 * 3600);
  std::vector<Interval> hours;
  std::set<absl::Weekday> weekend;
  std::set<absl::CivilDay> holidays, workdays;
  auto bad = [&](int n, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": ", why));
  };
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto t = absl::StripAsciiWhitespace(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<absl::string_view> f = absl::StrSplit(t, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f[0] == "timezone" && f.size() == 2) {
      int h = 0, m = 0;
      std::string z(f[1]);
      if (z.size() != 6 || (z[0] != '+' && z[0] != '-') || !ParseHm(z.substr(1), &m)) {
        return bad(n, "timezone is +HH:MM or -HH:MM");
      }
      h = (z[0] == '-' ? -1 : 1) * m;
      zone = absl::FixedTimeZone(h * 60);
    } else if (f[0] == "hours" && f.size() >= 2) {
      for (size_t i = 1; i < f.size(); ++i) {
        std::vector<absl::string_view> ab = absl::StrSplit(f[i], '-');
        Interval iv{};
        if (ab.size() != 2 || !ParseHm(ab[0], &iv.start_minute) ||
            !ParseHm(ab[1], &iv.end_minute) || iv.end_minute <= iv.start_minute) {
          return bad(n, absl::StrCat("working hours are HH:MM-HH:MM, got '", f[i], "'"));
        }
        hours.push_back(iv);
      }
    } else if (f[0] == "weekend") {
      static const std::pair<const char*, absl::Weekday> kDays[] = {
          {"mon", absl::Weekday::monday},    {"tue", absl::Weekday::tuesday},
          {"wed", absl::Weekday::wednesday}, {"thu", absl::Weekday::thursday},
          {"fri", absl::Weekday::friday},    {"sat", absl::Weekday::saturday},
          {"sun", absl::Weekday::sunday}};
      for (size_t i = 1; i < f.size(); ++i) {
        bool found = false;
        for (const auto& [k, v] : kDays) {
          if (f[i] == k) {
            weekend.insert(v);
            found = true;
          }
        }
        if (!found) return bad(n, absl::StrCat("unknown weekday '", f[i], "' (mon..sun)"));
      }
    } else if ((f[0] == "holiday" || f[0] == "workday") && f.size() >= 2) {
      absl::CivilDay d;
      if (!ParseDay(f[1], &d)) return bad(n, "dates are YYYY-MM-DD");
      (f[0] == "holiday" ? holidays : workdays).insert(d);
    } else if (f[0] == "include" && f.size() == 2) {
      std::string inc = f[1][0] == '/' ? std::string(f[1]) : dir + std::string(f[1]);
      std::ifstream table(inc);
      if (!table) return bad(n, absl::StrCat("cannot open included table ", inc));
      std::string row;
      for (int m = 1; std::getline(table, row); ++m) {
        auto r = absl::StripAsciiWhitespace(row);
        if (r.empty() || r[0] == '#') continue;
        std::vector<absl::string_view> c = absl::StrSplit(r, '\t');
        absl::CivilDay d;
        if (c.size() < 2 || !ParseDay(c[0], &d) || (c[1] != "holiday" && c[1] != "workday")) {
          return absl::InvalidArgumentError(
              absl::StrCat(inc, ":", m, ": expected YYYY-MM-DD<TAB>holiday|workday"));
        }
        (c[1] == "holiday" ? holidays : workdays).insert(d);
      }
    } else {
      return bad(n, absl::StrCat("unknown line '", std::string(t), "'"));
    }
  }
  if (hours.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no working hours"));
  return WorkCalendar(name, zone, std::move(hours), std::move(weekend), std::move(holidays),
                      std::move(workdays));
}

absl::StatusOr<std::map<std::string, WorkCalendar>> LoadCalendarDirectory(const std::string& dir) {
  std::map<std::string, WorkCalendar> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return absl::InvalidArgumentError(absl::StrCat("cannot read ", dir));
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() < 5 || f.substr(f.size() - 4) != ".cal") continue;
    std::string name = f.substr(0, f.size() - 4);
    auto cal = WorkCalendar::LoadFile(dir + "/" + f, name);
    if (!cal.ok()) {
      closedir(d);
      return absl::InvalidArgumentError(cal.status().message());
    }
    out.emplace(name, *cal);
  }
  closedir(d);
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> LoadDepartmentCalendars(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot open ", path));
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() >= 4) out[f[0]] = f[3];
  }
  return out;
}

CalendarSet::CalendarSet(std::map<std::string, WorkCalendar> calendars,
                         std::string default_calendar,
                         std::map<std::string, std::string> department_calendar)
    : calendars_(std::move(calendars)),
      default_(std::move(default_calendar)),
      department_(std::move(department_calendar)) {
  if (!calendars_.count("24x7")) calendars_.emplace("24x7", WorkCalendar::AlwaysOpen());
}

const WorkCalendar& CalendarSet::For(const std::string& dept, const std::string& name) const {
  std::string n = name;
  if (n.empty()) {
    auto it = department_.find(dept);
    n = it == department_.end() ? default_ : it->second;
  }
  auto cal = calendars_.find(n);
  if (cal == calendars_.end()) cal = calendars_.find(default_);
  if (cal == calendars_.end()) cal = calendars_.find("24x7");
  return cal->second;
}

}  // namespace hotline
