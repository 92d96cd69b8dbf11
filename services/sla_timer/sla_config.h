#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/sla_timer/policy.h"
#include "services/sla_timer/sla_engine.h"

namespace hotline::sla {

// sla_timer's own settings (README "SLA timer" lists them), with calendars and policies loaded.
struct SlaConfig {
  SlaOptions options;
  std::unique_ptr<PolicyTable> policies;
};

absl::StatusOr<SlaConfig> LoadSlaConfig(const EnvReader& env);

}  // namespace hotline::sla
