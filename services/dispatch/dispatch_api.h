#pragma once

#include "services/common/api_policy.h"

namespace hotline::dispatch {

// Dispatch's authorization table and input limits for its three gRPC services (see ApiPolicy).
const ApiPolicy& DispatchApi();

}  // namespace hotline::dispatch
