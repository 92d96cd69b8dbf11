#pragma once

#include "hotline/v1/survey.grpc.pb.h"
#include "services/common/rpc.h"

namespace hotline::survey {

// Callbacks after closure: behaviour arrives with a later issue.
// SurveyService: registered so clients and reflection see the API. Calls pass the gate
// (authorization table and limits in survey_api.cc) and answer UNIMPLEMENTED until the behaviour is
// built.
class SurveyServiceImpl final : public GatedService<v1::SurveyService::CallbackService> {
 public:
  explicit SurveyServiceImpl(RpcCore* rpc);
};

}  // namespace hotline::survey
