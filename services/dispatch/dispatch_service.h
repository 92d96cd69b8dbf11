#pragma once

#include "hotline/v1/dispatch.grpc.pb.h"
#include "services/common/auth.h"
#include "services/dispatch/assignment_notifier.h"
#include "services/dispatch/dispatcher.h"

namespace hotline::dispatch {

// gRPC edge of dispatch: three services over one Dispatcher. Handlers block on Redis for a few
// round trips; StreamAssignedTickets calls are fed by the instance's one AssignmentNotifier.
class TriageServiceImpl final : public v1::TriageService::CallbackService {
 public:
  TriageServiceImpl(Dispatcher* d, const Authenticator* auth) : d_(d), auth_(auth) {}
  grpc::ServerUnaryReactor* ListTriage(grpc::CallbackServerContext* ctx, const v1::ListTriageRequest* req,
                                       v1::ListTriageResponse* resp) override;
  grpc::ServerUnaryReactor* AssignTicket(grpc::CallbackServerContext* ctx, const v1::AssignTicketRequest* req,
                                         v1::AssignTicketResponse* resp) override;

 private:
  Dispatcher* d_;
  const Authenticator* auth_;
};

class DepartmentServiceImpl final : public v1::DepartmentService::CallbackService {
 public:
  DepartmentServiceImpl(Dispatcher* d, const Authenticator* auth, AssignmentNotifier* notifier)
      : d_(d), auth_(auth), notifier_(notifier) {}
  grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse>* StreamAssignedTickets(
      grpc::CallbackServerContext* ctx, const v1::StreamAssignedTicketsRequest* req) override;
  grpc::ServerUnaryReactor* AcceptTicket(grpc::CallbackServerContext* ctx, const v1::AcceptTicketRequest* req,
                                         v1::AcceptTicketResponse* resp) override;
  grpc::ServerUnaryReactor* ReturnTicket(grpc::CallbackServerContext* ctx, const v1::ReturnTicketRequest* req,
                                         v1::ReturnTicketResponse* resp) override;
  grpc::ServerUnaryReactor* RequestExtension(grpc::CallbackServerContext* ctx,
                                             const v1::RequestExtensionRequest* req,
                                             v1::RequestExtensionResponse* resp) override;
  grpc::ServerUnaryReactor* ReplyTicket(grpc::CallbackServerContext* ctx, const v1::ReplyTicketRequest* req,
                                        v1::ReplyTicketResponse* resp) override;
  grpc::ServerUnaryReactor* GetDispatchedTicket(grpc::CallbackServerContext* ctx,
                                                const v1::GetDispatchedTicketRequest* req,
                                                v1::GetDispatchedTicketResponse* resp) override;

 private:
  // The acting department: the caller's own, or (for dispatchers, supervisors, services) the
  // one named in the request. PERMISSION_DENIED when a department names another.
  absl::StatusOr<std::string> ActingDepartment(grpc::CallbackServerContext* ctx, const std::string& requested) const;

  Dispatcher* d_;
  const Authenticator* auth_;
  AssignmentNotifier* notifier_;
};

class SupervisionServiceImpl final : public v1::SupervisionService::CallbackService {
 public:
  SupervisionServiceImpl(Dispatcher* d, const Authenticator* auth) : d_(d), auth_(auth) {}
  grpc::ServerUnaryReactor* DecideExtension(grpc::CallbackServerContext* ctx,
                                            const v1::DecideExtensionRequest* req,
                                            v1::DecideExtensionResponse* resp) override;
  grpc::ServerUnaryReactor* CloseTicket(grpc::CallbackServerContext* ctx, const v1::CloseTicketRequest* req,
                                        v1::CloseTicketResponse* resp) override;
  grpc::ServerUnaryReactor* ReopenTicket(grpc::CallbackServerContext* ctx, const v1::ReopenTicketRequest* req,
                                         v1::ReopenTicketResponse* resp) override;

 private:
  Dispatcher* d_;
  const Authenticator* auth_;
};

}  // namespace hotline::dispatch
