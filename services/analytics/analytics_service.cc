#include "services/analytics/analytics_service.h"

#include "services/analytics/analytics_api.h"

namespace hotline::analytics {

AnalyticsServiceImpl::AnalyticsServiceImpl(RpcCore* rpc) : GatedService(rpc, &AnalyticsApi()) {
  Handle("AnalyticsService/GetOverview", [](const Caller& c, const v1::GetOverviewRequest*,
                                            v1::GetOverviewResponse*) { return NotBuiltYet(c); });
  Handle("AnalyticsService/ListDepartmentScores",
         [](const Caller& c, const v1::ListDepartmentScoresRequest*,
            v1::ListDepartmentScoresResponse*) { return NotBuiltYet(c); });
  Handle("AnalyticsService/ListHotspots", [](const Caller& c, const v1::ListHotspotsRequest*,
                                             v1::ListHotspotsResponse*) { return NotBuiltYet(c); });
}

}  // namespace hotline::analytics
