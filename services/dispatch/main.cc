#include <memory>

#include "services/common/events.h"
#include "services/common/recording_handler.h"
#include "services/common/service_runner.h"
#include "services/dispatch/dispatch_service.h"

int main() {
  hotline::ServiceSpec spec;
  spec.name = "dispatch";
  spec.consumes = {hotline::kTicketsTopic, hotline::kSurveysTopic};
  spec.setup = [](hotline::ServiceContext& ctx) {
    ctx.grpc_services.push_back(std::make_unique<hotline::dispatch::TriageServiceImpl>());
    ctx.grpc_services.push_back(std::make_unique<hotline::dispatch::DepartmentServiceImpl>());
    ctx.grpc_services.push_back(std::make_unique<hotline::dispatch::SupervisionServiceImpl>());
    ctx.handler = hotline::MakeRecordingHandler(ctx);
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}
