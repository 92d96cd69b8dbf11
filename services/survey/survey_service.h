#pragma once

#include "hotline/v1/survey.grpc.pb.h"

namespace hotline::survey {

// Callbacks after closure: behaviour arrives with a later issue.
// SurveyService: registered so clients and reflection see the API; every RPC answers UNIMPLEMENTED
// until it is built.
class SurveyServiceImpl final : public v1::SurveyService::CallbackService {};

}  // namespace hotline::survey
