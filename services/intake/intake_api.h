#pragma once

#include "services/common/api_policy.h"

namespace hotline::intake {

// Intake's authorization table and input limits, in one place (see ApiPolicy).
const ApiPolicy& IntakeApi();

}  // namespace hotline::intake
