#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/intake/intake_core.h"
#include "services/intake/open311.h"
#include "services/intake/verification_throttle.h"

namespace hotline::intake {

// intake's own settings (README "Configuration" lists them).
struct IntakeConfig {
  IntakeOptions core;
  std::string knowledge_base_path;  // INTAKE_KNOWLEDGE_BASE
  std::string open311_addr;         // INTAKE_OPEN311_ADDR; "" turns the REST endpoints off
  Open311Options open311;  // INTAKE_OPEN311_MAX_BODY_BYTES, _READ_TIMEOUT_MS, _MAX_CONNECTIONS
  ThrottleOptions verification;    // INTAKE_VERIFY_*
  bool dev_pseudonym_key = false;  // INTAKE_PSEUDONYM_KEY was not set
  std::string departments_path;    // INTAKE_DEPARTMENTS; "" shows department ids
};

// The department directory (dispatch's departments.tsv: id<TAB>name<TAB>...; '#' comments) as
// id → name, for the citizen-facing timeline. Errors name `variable`.
absl::StatusOr<std::map<std::string, std::string>> LoadDepartmentNames(
    const std::string& path, const std::string& variable = "INTAKE_DEPARTMENTS");

absl::StatusOr<IntakeConfig> LoadIntakeConfig(const EnvReader& env);

}  // namespace hotline::intake
