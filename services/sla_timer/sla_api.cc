#include "services/sla_timer/sla_api.h"

namespace hotline::sla {

const ApiPolicy& SlaApi() {
  static const ApiPolicy* const kPolicy = [] {
    const std::set<Role> readers = {Role::kDepartment, Role::kDispatcher, Role::kSupervisor,
                                    Role::kService,    Role::kAnalyst,    Role::kCallTaker};
    const std::set<Role> everyone = {Role::kChannel,    Role::kCallTaker,  Role::kDispatcher,
                                     Role::kDepartment, Role::kSupervisor, Role::kAnalyst,
                                     Role::kService};
    auto* p = new ApiPolicy();
    p->methods = {
        // No department in the request: the handler keeps a department to its own clocks.
        {"SlaService/GetTicketClocks", {readers}},
        {"SlaService/ListAtRisk", {readers, "department_id"}},
        {"SlaService/ListCards", {readers, "department_id"}},
        {"SlaService/PreviewDeadline", {everyone}},
    };
    p->default_max_bytes = 128;
    p->max_bytes = {{"hotline.v1.PageRequest.page_token", 64}};
    return p;
  }();
  return *kPolicy;
}

}  // namespace hotline::sla
