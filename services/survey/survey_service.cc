#include "services/survey/survey_service.h"

#include "services/survey/survey_api.h"

namespace hotline::survey {

SurveyServiceImpl::SurveyServiceImpl(RpcCore* rpc) : GatedService(rpc, &SurveyApi()) {
  Handle("SurveyService/GetSurvey", [](const Caller& c, const v1::GetSurveyRequest*,
                                       v1::GetSurveyResponse*) { return NotBuiltYet(c); });
  Handle("SurveyService/RecordAnswer", [](const Caller& c, const v1::RecordAnswerRequest*,
                                          v1::RecordAnswerResponse*) { return NotBuiltYet(c); });
  Handle("SurveyService/ListPendingSurveys",
         [](const Caller& c, const v1::ListPendingSurveysRequest*,
            v1::ListPendingSurveysResponse*) { return NotBuiltYet(c); });
}

}  // namespace hotline::survey
