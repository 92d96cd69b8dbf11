#pragma once

#include "services/common/api_policy.h"

namespace hotline::ivr_routing {

// The ivr_routing service's authorization table and input limits (see ApiPolicy).
const ApiPolicy& IvrRoutingApi();

}  // namespace hotline::ivr_routing
