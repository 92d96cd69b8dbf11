#include "services/survey/survey_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hotline::survey {

absl::StatusOr<SurveyConfig> LoadSurveyConfig(const EnvReader& env) {
  SurveyConfig c;
  auto policy = env.String("SURVEY_POLICY", "deploy/survey/policy.tsv");
  if (!policy.ok()) return policy.status();
  auto table = SurveyPolicyTable::LoadFile(*policy);
  if (!table.ok())
    return absl::InvalidArgumentError(absl::StrCat("SURVEY_POLICY: ", table.status().message()));
  c.policies = std::move(*table);
  // The SLA timer's calendars, as code shared in services/common (not its data).
  auto dir = env.String("SURVEY_CALENDARS_DIR", "deploy/sla/calendars");
  if (!dir.ok()) return dir.status();
  auto cals = LoadCalendarDirectory(*dir);
  if (!cals.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SURVEY_CALENDARS_DIR: ", cals.status().message()));
  }
  auto def = env.String("SURVEY_DEFAULT_CALENDAR", "cn-mainland");
  if (!def.ok()) return def.status();
  if (!cals->count(*def)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SURVEY_DEFAULT_CALENDAR: no ", *def, ".cal in ", *dir));
  }
  std::map<std::string, std::string> by_department;
  auto deps = env.StringOrEmpty("SURVEY_DEPARTMENTS", "deploy/dispatch/departments.tsv");
  if (!deps.ok()) return deps.status();
  if (!deps->empty()) {
    auto map = LoadDepartmentCalendars(*deps);
    if (!map.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("SURVEY_DEPARTMENTS: ", map.status().message()));
    }
    by_department = std::move(*map);
  }
  c.calendars = std::make_unique<CalendarSet>(std::move(*cals), *def, std::move(by_department));

  auto intake = env.Address("SURVEY_INTAKE_ADDR", "intake:50051");
  if (!intake.ok()) return intake.status();
  c.intake_addr = *intake;
  auto token = env.StringOrEmpty("SURVEY_INTAKE_TOKEN", "");
  if (!token.ok()) return token.status();
  c.intake_token = *token;
  auto intake_ms = env.Int("SURVEY_INTAKE_TIMEOUT_MS", 3000, 100, 60000);
  if (!intake_ms.ok()) return intake_ms.status();
  c.intake_timeout = absl::Milliseconds(*intake_ms);

  // Without a gateway the service plans surveys and takes answers, but contacts nobody (a
  // development stack, or a city whose callbacks are made by hand from ListPendingSurveys).
  auto url = env.StringOrEmpty("SURVEY_GATEWAY_URL", "");
  if (!url.ok()) return url.status();
  if (!url->empty() && !absl::StartsWith(*url, "http://") && !absl::StartsWith(*url, "https://"))
    return absl::InvalidArgumentError("SURVEY_GATEWAY_URL: not an http:// or https:// URL");
  c.gateway_url = *url;
  auto secret = env.StringOrEmpty("SURVEY_GATEWAY_SECRET", "");
  if (!secret.ok()) return secret.status();
  if (!c.gateway_url.empty() && secret->size() < 16) {
    return absl::InvalidArgumentError(
        "SURVEY_GATEWAY_SECRET: required with SURVEY_GATEWAY_URL, at least 16 bytes");
  }
  c.gateway.secret = secret->empty() ? std::string(16, '-') : *secret;
  auto attempt_ms = env.Int("SURVEY_GATEWAY_TIMEOUT_MS", 5000, 100, 60000);
  if (!attempt_ms.ok()) return attempt_ms.status();
  c.gateway.attempt_timeout = absl::Milliseconds(*attempt_ms);
  c.gateway.connect_timeout = std::min(c.gateway.connect_timeout, c.gateway.attempt_timeout);
  auto tries = env.Int("SURVEY_GATEWAY_TRIES", 4, 1, 10);
  if (!tries.ok()) return tries.status();
  c.gateway.max_attempts = static_cast<int>(*tries);
  auto backoff = env.Int("SURVEY_GATEWAY_BACKOFF_MS", 500, 1, 60000);
  if (!backoff.ok()) return backoff.status();
  c.gateway.initial_backoff = absl::Milliseconds(*backoff);
  c.gateway.max_backoff = std::max(c.gateway.initial_backoff, absl::Seconds(8));
  c.gateway.deadline = c.gateway.attempt_timeout * c.gateway.max_attempts +
                       c.gateway.max_backoff * (c.gateway.max_attempts - 1);
  auto ca = env.StringOrEmpty("SURVEY_GATEWAY_CA", "");
  if (!ca.ok()) return ca.status();
  c.gateway.ca_file = *ca;

  auto tick = env.Int("SURVEY_TICK_MS", 200, 10, 60000);
  if (!tick.ok()) return tick.status();
  c.tick = absl::Milliseconds(*tick);
  auto wait = env.Int("SURVEY_ANSWER_WAIT_S", 7200, 1, 7 * 86400);
  if (!wait.ok()) return wait.status();
  c.answer_wait = absl::Seconds(*wait);
  auto claim = env.Int("SURVEY_CLAIM_TIMEOUT_S", 120, 1, 3600);
  if (!claim.ok()) return claim.status();
  c.claim_timeout = absl::Seconds(*claim);
  if (c.claim_timeout <= c.gateway.deadline + c.intake_timeout) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SURVEY_CLAIM_TIMEOUT_S: must be longer than one delivery (intake lookup + gateway "
        "deadline = ",
        absl::FormatDuration(c.gateway.deadline + c.intake_timeout),
        "), or a slow delivery is sent twice"));
  }
  return c;
}

}  // namespace hotline::survey
