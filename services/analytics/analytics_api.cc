#include "services/analytics/analytics_api.h"

namespace hotline::analytics {

const ApiPolicy& AnalyticsApi() {
  static const ApiPolicy* const kPolicy = [] {
    const std::set<Role> readers = {Role::kAnalyst, Role::kSupervisor, Role::kDispatcher,
                                    Role::kService};
    auto* p = new ApiPolicy();
    p->methods = {
        {"AnalyticsService/GetOverview", {readers}},
        {"AnalyticsService/ListDepartmentScores", {readers}},
        {"AnalyticsService/ListHotspots", {readers}},
    };
    p->default_max_bytes = 1024;
    return p;
  }();
  return *kPolicy;
}

}  // namespace hotline::analytics
