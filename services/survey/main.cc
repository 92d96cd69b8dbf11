#include <memory>

#include "services/common/events.h"
#include "services/common/recording_handler.h"
#include "services/common/service_runner.h"
#include "services/survey/survey_service.h"

int main() {
  hotline::ServiceSpec spec;
  spec.name = "survey";
  spec.consumes = {hotline::kTicketsTopic};
  spec.setup = [](hotline::ServiceContext& ctx) {
    ctx.grpc_services.push_back(std::make_unique<hotline::survey::SurveyServiceImpl>(ctx.rpc));
    ctx.handler = hotline::MakeRecordingHandler(ctx);
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}
