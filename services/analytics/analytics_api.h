#pragma once

#include "services/common/api_policy.h"

namespace hotline::analytics {

// The analytics service's authorization table and input limits (see ApiPolicy).
const ApiPolicy& AnalyticsApi();

}  // namespace hotline::analytics
