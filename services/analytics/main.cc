#include <memory>

#include "services/analytics/analytics_service.h"
#include "services/common/events.h"
#include "services/common/recording_handler.h"
#include "services/common/service_runner.h"

int main() {
  hotline::ServiceSpec spec;
  spec.name = "analytics";
  spec.consumes = {hotline::kTicketsTopic, hotline::kCallsTopic, hotline::kSlaTopic,
                   hotline::kSurveysTopic};
  spec.publishes = false;  // analytics only reads; it owns aggregates, never events
  spec.setup = [](hotline::ServiceContext& ctx) {
    ctx.grpc_services.push_back(
        std::make_unique<hotline::analytics::AnalyticsServiceImpl>(ctx.rpc));
    ctx.handler = hotline::MakeRecordingHandler(ctx);
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}
