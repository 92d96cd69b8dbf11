#pragma once

#include "services/common/api_policy.h"

namespace hotline::sla {

// The SLA timer's authorization table and input limits (see ApiPolicy). A department token sees
// only its own department's clocks, at-risk list and cards.
const ApiPolicy& SlaApi();

}  // namespace hotline::sla
