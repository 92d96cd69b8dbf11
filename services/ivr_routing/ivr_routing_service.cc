#include "services/ivr_routing/ivr_routing_service.h"

#include "services/ivr_routing/ivr_routing_api.h"

namespace hotline::ivr_routing {

IvrRoutingServiceImpl::IvrRoutingServiceImpl(RpcCore* rpc) : GatedService(rpc, &IvrRoutingApi()) {
  Handle("IvrRoutingService/StartCall", [](const Caller& c, const v1::StartCallRequest*,
                                           v1::StartCallResponse*) { return NotBuiltYet(c); });
  Handle("IvrRoutingService/SubmitInput", [](const Caller& c, const v1::SubmitInputRequest*,
                                             v1::SubmitInputResponse*) { return NotBuiltYet(c); });
  Handle("IvrRoutingService/AnswerNext", [](const Caller& c, const v1::AnswerNextRequest*,
                                            v1::AnswerNextResponse*) { return NotBuiltYet(c); });
  Handle("IvrRoutingService/EndCall", [](const Caller& c, const v1::EndCallRequest*,
                                         v1::EndCallResponse*) { return NotBuiltYet(c); });
  Handle("IvrRoutingService/GetQueueStats",
         [](const Caller& c, const v1::GetQueueStatsRequest*, v1::GetQueueStatsResponse*) {
           return NotBuiltYet(c);
         });
}

}  // namespace hotline::ivr_routing
