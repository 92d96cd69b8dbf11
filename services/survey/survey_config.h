#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/calendar.h"
#include "services/common/config.h"
#include "services/common/webhook_client.h"
#include "services/survey/survey_policy.h"

namespace hotline::survey {

// The survey service's own settings (README "Survey"), read once at start-up; a bad value stops
// it naming the variable.
struct SurveyConfig {
  std::unique_ptr<SurveyPolicyTable> policies;       // SURVEY_POLICY
  std::unique_ptr<CalendarSet> calendars;            // SURVEY_CALENDARS_DIR, SURVEY_DEPARTMENTS
  std::string intake_addr;                           // SURVEY_INTAKE_ADDR
  std::string intake_token;                          // SURVEY_INTAKE_TOKEN
  absl::Duration intake_timeout = absl::Seconds(3);  // SURVEY_INTAKE_TIMEOUT_MS
  std::string gateway_url;                           // SURVEY_GATEWAY_URL; "" = nobody is contacted
  WebhookClientOptions gateway;  // SURVEY_GATEWAY_SECRET, _TIMEOUT_MS, _TRIES, _BACKOFF_MS
  absl::Duration tick = absl::Milliseconds(200);    // SURVEY_TICK_MS
  absl::Duration answer_wait = absl::Hours(2);      // SURVEY_ANSWER_WAIT_S
  absl::Duration claim_timeout = absl::Minutes(2);  // SURVEY_CLAIM_TIMEOUT_S
};

absl::StatusOr<SurveyConfig> LoadSurveyConfig(const EnvReader& env);

}  // namespace hotline::survey
