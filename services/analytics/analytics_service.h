#pragma once

#include "hotline/v1/analytics.grpc.pb.h"

namespace hotline::analytics {

// Aggregates for dashboards: behaviour arrives with a later issue.
// AnalyticsService: registered so clients and reflection see the API; every RPC answers UNIMPLEMENTED
// until it is built.
class AnalyticsServiceImpl final : public v1::AnalyticsService::CallbackService {};

}  // namespace hotline::analytics
