#pragma once

#include "hotline/v1/analytics.grpc.pb.h"
#include "services/common/rpc.h"

namespace hotline::analytics {

// Aggregates for dashboards: behaviour arrives with a later issue.
// AnalyticsService: registered so clients and reflection see the API. Calls pass the gate
// (authorization table and limits in analytics_api.cc) and answer UNIMPLEMENTED until the behaviour
// is built.
class AnalyticsServiceImpl final : public GatedService<v1::AnalyticsService::CallbackService> {
 public:
  explicit AnalyticsServiceImpl(RpcCore* rpc);
};

}  // namespace hotline::analytics
