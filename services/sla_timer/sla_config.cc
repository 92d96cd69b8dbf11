#include "services/sla_timer/sla_config.h"

#include "absl/strings/str_cat.h"

namespace hotline::sla {

absl::StatusOr<SlaConfig> LoadSlaConfig(const EnvReader& env) {
  SlaConfig c;
  auto dir = env.String("SLA_CALENDARS_DIR", "deploy/sla/calendars");
  if (!dir.ok()) return dir.status();
  auto cals = LoadCalendarDirectory(*dir);
  if (!cals.ok())
    return absl::InvalidArgumentError(absl::StrCat("SLA_CALENDARS_DIR: ", cals.status().message()));
  c.options.calendars = std::move(*cals);
  auto def = env.String("SLA_DEFAULT_CALENDAR", "cn-mainland");
  if (!def.ok()) return def.status();
  if (!c.options.calendars.count(*def)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SLA_DEFAULT_CALENDAR: no ", *def, ".cal in ", *dir));
  }
  c.options.default_calendar = *def;
  auto policies = env.String("SLA_POLICIES", "deploy/sla/policies.tsv");
  if (!policies.ok()) return policies.status();
  auto table = PolicyTable::LoadFile(*policies, c.options.calendars.at(*def));
  if (!table.ok())
    return absl::InvalidArgumentError(absl::StrCat("SLA_POLICIES: ", table.status().message()));
  c.policies = std::move(*table);
  // Department → calendar: the 4th column of the department directory.
  auto deps = env.String("SLA_DEPARTMENTS", "deploy/dispatch/departments.tsv");
  if (!deps.ok()) return deps.status();
  if (!deps->empty()) {
    auto map = LoadDepartmentCalendars(*deps);
    if (!map.ok())
      return absl::InvalidArgumentError(absl::StrCat("SLA_DEPARTMENTS: ", map.status().message()));
    c.options.department_calendar = std::move(*map);
  }
  auto yellows = env.Int("SLA_RED_CARD_YELLOWS", 3, 1, 1000);
  if (!yellows.ok()) return yellows.status();
  c.options.red_card_yellows = static_cast<int>(*yellows);
  auto window = env.Int("SLA_RED_CARD_WINDOW_DAYS", 30, 1, 366);
  if (!window.ok()) return window.status();
  c.options.red_card_window = absl::Hours(24 * *window);
  auto tick = env.Int("SLA_TICK_MS", 10, 1, 1000);
  if (!tick.ok()) return tick.status();
  c.options.tick_ms = *tick;
  // Failover time after a crash; renewals every third of it must reach Redis in time.
  auto lease = env.Int("SLA_LEASE_TTL_MS", 10000, 1000, 600000);
  if (!lease.ok()) return lease.status();
  c.options.lease_ttl = absl::Milliseconds(*lease);
  return c;
}

}  // namespace hotline::sla
