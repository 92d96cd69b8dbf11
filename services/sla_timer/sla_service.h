#pragma once

#include "hotline/v1/sla_timer.grpc.pb.h"
#include "services/common/rpc.h"
#include "services/sla_timer/sla_engine.h"

namespace hotline::sla {

// gRPC edge of the SLA timer: calls pass the RpcCore gate (sla_api.cc) and run on its workers.
// A department sees only its own department's clocks and cards.
class SlaServiceImpl final : public GatedService<v1::SlaService::CallbackService> {
 public:
  SlaServiceImpl(SlaEngine* engine, RpcCore* rpc);

 private:
  SlaEngine* engine_;
};

}  // namespace hotline::sla
