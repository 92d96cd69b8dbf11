#pragma once

#include "hotline/v1/dispatch.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/rpc.h"
#include "services/dispatch/dispatcher.h"

namespace hotline::dispatch {

// gRPC edge of dispatch: three services over one Dispatcher. Unary calls go through the RpcCore
// gate (authorization table and limits in dispatch_api.cc) and run on its workers.
class TriageServiceImpl final : public GatedService<v1::TriageService::CallbackService> {
 public:
  TriageServiceImpl(Dispatcher* d, RpcCore* rpc);

 private:
  Dispatcher* d_;
};

class DepartmentServiceImpl final : public GatedService<v1::DepartmentService::CallbackService> {
 public:
  DepartmentServiceImpl(Dispatcher* d, const Authenticator* auth, RpcCore* rpc,
                        std::chrono::milliseconds poll = std::chrono::milliseconds(200));
  grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse>* StreamAssignedTickets(
      grpc::CallbackServerContext* ctx, const v1::StreamAssignedTicketsRequest* req) override;

 private:
  // The acting department: the caller's own, or (for dispatchers, supervisors, services) the
  // one named in the request. PERMISSION_DENIED when a department names another.
  absl::StatusOr<std::string> ActingDepartment(grpc::CallbackServerContext* ctx, const std::string& requested) const;

  Dispatcher* d_;
  const Authenticator* auth_;
  std::chrono::milliseconds poll_;
};

class SupervisionServiceImpl final : public GatedService<v1::SupervisionService::CallbackService> {
 public:
  SupervisionServiceImpl(Dispatcher* d, RpcCore* rpc);

 private:
  Dispatcher* d_;
};

}  // namespace hotline::dispatch
