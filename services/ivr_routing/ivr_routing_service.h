#pragma once

#include "hotline/v1/ivr_routing.grpc.pb.h"

namespace hotline::ivr_routing {

// Call sessions, queues and agents: behaviour arrives with a later issue.
// IvrRoutingService: registered so clients and reflection see the API; every RPC answers UNIMPLEMENTED
// until it is built.
class IvrRoutingServiceImpl final : public v1::IvrRoutingService::CallbackService {};

}  // namespace hotline::ivr_routing
