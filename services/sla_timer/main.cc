#include <memory>

#include "services/common/events.h"
#include "services/common/recording_handler.h"
#include "services/common/service_runner.h"
#include "services/sla_timer/sla_timer_service.h"

int main() {
  hotline::ServiceSpec spec;
  spec.name = "sla_timer";
  spec.consumes = {hotline::kTicketsTopic};
  spec.setup = [](hotline::ServiceContext& ctx) {
    ctx.grpc_services.push_back(std::make_unique<hotline::sla_timer::SlaServiceImpl>());
    ctx.handler = hotline::MakeRecordingHandler(ctx);
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}
