#pragma once

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/dispatch/dispatcher.h"

namespace hotline::dispatch {

// dispatch's own settings (README "Dispatch" lists them).
struct DispatchConfig {
  DispatchOptions options;
  std::string model_path;          // DISPATCH_MODEL
  std::string departments_path;    // DISPATCH_DEPARTMENTS
  std::string responsibility_path; // DISPATCH_RESPONSIBILITY
  std::chrono::seconds model_reload{10};
};

absl::StatusOr<DispatchConfig> LoadDispatchConfig(const EnvReader& env);

}  // namespace hotline::dispatch
