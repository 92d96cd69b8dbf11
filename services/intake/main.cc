#include <memory>

#include "services/common/events.h"
#include "services/common/service_runner.h"
#include "services/intake/intake_service.h"

int main() {
  hotline::ServiceSpec spec;
  spec.name = "intake";
  spec.setup = [](hotline::ServiceContext& ctx) {
    ctx.grpc_services.push_back(std::make_unique<hotline::intake::IntakeServiceImpl>());
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}
