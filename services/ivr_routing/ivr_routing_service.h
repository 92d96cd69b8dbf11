#pragma once

#include "hotline/v1/ivr_routing.grpc.pb.h"
#include "services/common/rpc.h"

namespace hotline::ivr_routing {

// Call sessions, queues and agents: behaviour arrives with a later issue.
// IvrRoutingService: registered so clients and reflection see the API. Calls pass the gate
// (authorization table and limits in ivr_routing_api.cc) and answer UNIMPLEMENTED until the
// behaviour is built.
class IvrRoutingServiceImpl final : public GatedService<v1::IvrRoutingService::CallbackService> {
 public:
  explicit IvrRoutingServiceImpl(RpcCore* rpc);
};

}  // namespace hotline::ivr_routing
