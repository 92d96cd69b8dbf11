#pragma once

#include "hotline/v1/intake.grpc.pb.h"

namespace hotline::intake {

// Front door for every channel: SubmitRequest and friends arrive with issue 3.
// IntakeService: registered so clients and reflection see the API; every RPC answers UNIMPLEMENTED
// until it is built.
class IntakeServiceImpl final : public v1::IntakeService::CallbackService {};

}  // namespace hotline::intake
