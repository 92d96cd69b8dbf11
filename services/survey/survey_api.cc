#include "services/survey/survey_api.h"

namespace hotline::survey {

const ApiPolicy& SurveyApi() {
  static const ApiPolicy* const kPolicy = [] {
    const std::set<Role> readers = {Role::kCallTaker, Role::kSupervisor, Role::kAnalyst,
                                    Role::kService};
    const std::set<Role> writers = {Role::kCallTaker, Role::kSupervisor, Role::kService};
    auto* p = new ApiPolicy();
    p->methods = {
        {"SurveyService/GetSurvey", {readers}},
        // An answer changes a ticket's course (a negative one reopens it): audited.
        {"SurveyService/RecordAnswer", {writers, "", true}},
        {"SurveyService/ListPendingSurveys", {writers}},
    };
    p->default_max_bytes = 1024;
    p->max_bytes = {
        {"hotline.v1.GetSurveyRequest.ticket_id", 64},
        {"hotline.v1.RecordAnswerRequest.ticket_id", 64},
        // kMaxCommentChars characters of up to 4 bytes; the characters are counted after parsing.
        {"hotline.v1.RecordAnswerRequest.comment", 2000},
        {"hotline.v1.RecordAnswerRequest.resolution", 16},
        {"hotline.v1.PageRequest.page_token", 32},
    };
    return p;
  }();
  return *kPolicy;
}

}  // namespace hotline::survey
