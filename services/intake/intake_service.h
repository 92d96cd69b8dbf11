#pragma once

#include "hotline/v1/intake.grpc.pb.h"
#include "services/common/rpc.h"
#include "services/intake/intake_core.h"
#include "services/intake/intake_metrics.h"

namespace hotline::intake {

// gRPC edge of intake: every call goes through the RpcCore gate (authorization table and limits
// in intake_api.cc) and runs IntakeCore on the gate's workers, never on gRPC's threads.
class IntakeServiceImpl final : public GatedService<v1::IntakeService::CallbackService> {
 public:
  IntakeServiceImpl(IntakeCore* core, IntakeMetrics* metrics, RpcCore* rpc);

 private:
  IntakeCore* core_;
  IntakeMetrics* metrics_;
};

}  // namespace hotline::intake
