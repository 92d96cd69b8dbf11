#pragma once

#include "hotline/v1/survey.grpc.pb.h"
#include "services/common/rpc.h"
#include "services/survey/survey_engine.h"

namespace hotline::survey {

// SurveyService over gRPC: the gate (authorization table and limits in survey_api.cc), then the
// engine.
class SurveyServiceImpl final : public GatedService<v1::SurveyService::CallbackService> {
 public:
  SurveyServiceImpl(SurveyEngine* engine, RpcCore* rpc);

 private:
  SurveyEngine* engine_;
};

}  // namespace hotline::survey
