#pragma once

#include "services/common/api_policy.h"

namespace hotline::survey {

// The survey service's authorization table and input limits (see ApiPolicy).
const ApiPolicy& SurveyApi();

}  // namespace hotline::survey
