#include "services/survey/survey_service.h"

#include "absl/strings/numbers.h"
#include "services/survey/survey_api.h"

namespace hotline::survey {

SurveyServiceImpl::SurveyServiceImpl(SurveyEngine* engine, RpcCore* rpc)
    : GatedService(rpc, &SurveyApi()), engine_(engine) {
  Handle("SurveyService/GetSurvey",
         [this](const Caller&, const v1::GetSurveyRequest* req, v1::GetSurveyResponse* resp) {
           auto s = engine_->Get(req->ticket_id());
           if (!s.ok()) return s.status();
           *resp->mutable_survey() = ToProto(*s);
           return absl::OkStatus();
         });
  Handle("SurveyService/RecordAnswer", [this](const Caller& c, const v1::RecordAnswerRequest* req,
                                              v1::RecordAnswerResponse* resp) {
    auto s = engine_->RecordAnswer(*req, c.traceparent);
    if (!s.ok()) return s.status();
    *resp->mutable_survey() = ToProto(*s);
    return absl::OkStatus();
  });
  Handle("SurveyService/ListPendingSurveys", [this](const Caller&,
                                                    const v1::ListPendingSurveysRequest* req,
                                                    v1::ListPendingSurveysResponse* resp) {
    size_t offset = 0;
    if (!req->page().page_token().empty() && !absl::SimpleAtoi(req->page().page_token(), &offset)) {
      return absl::InvalidArgumentError("page.page_token: not a token from this service");
    }
    int size = req->page().page_size();
    if (size < 0) return absl::InvalidArgumentError("page.page_size: negative");
    const size_t limit = size == 0 ? 50 : std::min(size, 100);
    auto list = engine_->ListOpen(offset, limit);
    if (!list.ok()) return list.status();
    for (const auto& s : *list) *resp->add_surveys() = ToProto(s);
    if (list->size() == limit)
      resp->mutable_page()->set_next_page_token(std::to_string(offset + limit));
    return absl::OkStatus();
  });
}

}  // namespace hotline::survey
