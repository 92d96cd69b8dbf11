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
  std::string model_path;           // DISPATCH_MODEL
  std::string departments_path;     // DISPATCH_DEPARTMENTS
  std::string responsibility_path;  // DISPATCH_RESPONSIBILITY
  std::chrono::seconds model_reload{10};
  int64_t max_streams = 256;  // DISPATCH_MAX_STREAMS: open StreamAssignedTickets calls per instance
};

absl::StatusOr<DispatchConfig> LoadDispatchConfig(const EnvReader& env);

}  // namespace hotline::dispatch
