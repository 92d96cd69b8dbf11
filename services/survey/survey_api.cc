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
        {"SurveyService/RecordAnswer", {writers}},
        {"SurveyService/ListPendingSurveys", {writers}},
    };
    p->default_max_bytes = 1024;
    return p;
  }();
  return *kPolicy;
}

}  // namespace hotline::survey
