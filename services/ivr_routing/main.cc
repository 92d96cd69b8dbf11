#include <memory>

#include "services/common/events.h"
#include "services/common/service_runner.h"
#include "services/ivr_routing/ivr_routing_service.h"

int main() {
  hotline::ServiceSpec spec;
  spec.name = "ivr_routing";
  spec.setup = [](hotline::ServiceContext& ctx) {
    ctx.grpc_services.push_back(
        std::make_unique<hotline::ivr_routing::IvrRoutingServiceImpl>(ctx.rpc));
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}
