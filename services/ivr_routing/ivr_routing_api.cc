#include "services/ivr_routing/ivr_routing_api.h"

namespace hotline::ivr_routing {

const ApiPolicy& IvrRoutingApi() {
  static const ApiPolicy* const kPolicy = [] {
    const std::set<Role> telephony = {Role::kService, Role::kSupervisor};
    const std::set<Role> agents = {Role::kCallTaker, Role::kSupervisor, Role::kService};
    const std::set<Role> watchers = {Role::kCallTaker, Role::kSupervisor, Role::kAnalyst,
                                     Role::kService};
    auto* p = new ApiPolicy();
    p->methods = {
        {"IvrRoutingService/StartCall", {telephony}},
        {"IvrRoutingService/SubmitInput", {telephony}},
        {"IvrRoutingService/AnswerNext", {agents}},
        {"IvrRoutingService/EndCall", {telephony}},
        {"IvrRoutingService/GetQueueStats", {watchers}},
    };
    p->default_max_bytes = 1024;
    return p;
  }();
  return *kPolicy;
}

}  // namespace hotline::ivr_routing
