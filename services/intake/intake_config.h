#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/intake/intake_core.h"

namespace hotline::intake {

// intake's own settings (README "Configuration" lists them).
struct IntakeConfig {
  IntakeOptions core;
  std::string knowledge_base_path;  // INTAKE_KNOWLEDGE_BASE
  std::string open311_addr;         // INTAKE_OPEN311_ADDR; "" turns the REST endpoints off
  bool dev_pseudonym_key = false;   // INTAKE_PSEUDONYM_KEY was not set
};

absl::StatusOr<IntakeConfig> LoadIntakeConfig(const EnvReader& env);

}  // namespace hotline::intake
