#include "services/dispatch/dispatch_api.h"

namespace hotline::dispatch {

const ApiPolicy& DispatchApi() {
  static const ApiPolicy* const kPolicy = [] {
    const std::set<Role> dispatchers = {Role::kDispatcher, Role::kSupervisor, Role::kService};
    const std::set<Role> departments = {Role::kDepartment, Role::kDispatcher, Role::kSupervisor,
                                        Role::kService};
    const std::set<Role> readers = {Role::kDepartment, Role::kDispatcher, Role::kSupervisor,
                                    Role::kService,    Role::kAnalyst,    Role::kCallTaker};
    const std::set<Role> centre = {Role::kSupervisor, Role::kService};
    auto* p = new ApiPolicy();
    p->methods = {
        {"TriageService/ListTriage", {dispatchers}},
        {"TriageService/AssignTicket", {dispatchers, "", true}},
        {"DepartmentService/StreamAssignedTickets", {departments, "department_id"}},
        {"DepartmentService/AcceptTicket", {departments, "department_id", true}},
        {"DepartmentService/ReturnTicket", {departments, "department_id", true}},
        {"DepartmentService/RequestExtension", {departments, "department_id", true}},
        {"DepartmentService/ReplyTicket", {departments, "department_id", true}},
        {"DepartmentService/GetDispatchedTicket", {readers, "department_id"}},
        {"SupervisionService/DecideExtension", {centre, "", true}},
        {"SupervisionService/CloseTicket", {centre, "", true}},
        {"SupervisionService/ReopenTicket", {centre, "", true}},
    };
    // Free text is bounded so every event it ends up in stays far below Kafka's 1 MB message
    // limit (a 1.5 MB reason once jammed the outbox).
    p->default_max_bytes = 128;  // ids, cursors, codes
    p->max_bytes = {
        {"hotline.v1.ReturnTicketRequest.reason", 2000},
        {"hotline.v1.RequestExtensionRequest.reason", 2000},
        {"hotline.v1.ReplyTicketRequest.resolution", 8000},
        {"hotline.v1.DecideExtensionRequest.reason", 2000},
        {"hotline.v1.ReopenTicketRequest.reason", 2000},
    };
    return p;
  }();
  return *kPolicy;
}

}  // namespace hotline::dispatch
