#include "services/intake/intake_api.h"

namespace hotline::intake {

const ApiPolicy& IntakeApi() {
  static const ApiPolicy* const kPolicy = [] {
    const std::set<Role> front_door = {Role::kChannel, Role::kCallTaker, Role::kSupervisor,
                                       Role::kService};
    const std::set<Role> operators = {Role::kCallTaker, Role::kDispatcher, Role::kSupervisor,
                                      Role::kService, Role::kAnalyst};
    const std::set<Role> everyone = {Role::kChannel,    Role::kCallTaker,  Role::kDispatcher,
                                     Role::kDepartment, Role::kSupervisor, Role::kAnalyst,
                                     Role::kService};
    auto* p = new ApiPolicy();
    p->methods = {
        {"IntakeService/SubmitRequest", {front_door, "", true}},
        {"IntakeService/GetTicket", {operators}},
        {"IntakeService/TrackTicket", {front_door}},
        {"IntakeService/ListCitizenTickets", {front_door}},
        {"IntakeService/AddSupplement", {front_door, "", true}},
        {"IntakeService/WithdrawTicket", {front_door, "", true}},
        {"IntakeService/SearchKnowledge", {everyone}},
        // Personal data in clear: the survey service (and a supervisor checking it) only, and
        // every lookup in the audit log.
        {"IntakeService/GetCallbackContact", {{Role::kService, Role::kSupervisor}, "", true}},
    };
    // Bytes, not characters: validation.h counts characters (a Chinese one is 3 bytes in UTF-8);
    // these bound what is parsed at all.
    p->max_bytes = {
        {"hotline.v1.SubmitRequestRequest.text", 8000},
        {"hotline.v1.SubmitRequestRequest.idempotency_key", 128},
        {"hotline.v1.SubmitRequestRequest.call_id", 128},
        {"hotline.v1.Location.address", 800},
        {"hotline.v1.CitizenContact.name", 200},
        {"hotline.v1.CitizenContact.email", 254},
        {"hotline.v1.CitizenContact.phone", 32},
        {"hotline.v1.CitizenContact.wechat_openid", 128},
        {"hotline.v1.CitizenContact.preferred_language", 35},
        {"hotline.v1.TrackTicketRequest.verification_code", 16},
        {"hotline.v1.AddSupplementRequest.text", 4000},
        {"hotline.v1.AddSupplementRequest.verification_code", 16},
        {"hotline.v1.AddSupplementRequest.idempotency_key", 128},
        {"hotline.v1.WithdrawTicketRequest.verification_code", 16},
        {"hotline.v1.WithdrawTicketRequest.reason", 2000},
        {"hotline.v1.SearchKnowledgeRequest.query", 2000},
        {"hotline.v1.PageRequest.page_token", 64},
        {"hotline.v1.GetCallbackContactRequest.ticket_id", 64},
    };
    return p;
  }();
  return *kPolicy;
}

}  // namespace hotline::intake
