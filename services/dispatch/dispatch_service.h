#pragma once

#include "hotline/v1/dispatch.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/rpc.h"
#include "services/dispatch/assignment_notifier.h"
#include "services/dispatch/dispatcher.h"

namespace hotline::dispatch {

// gRPC edge of dispatch: three services over one Dispatcher. Unary calls go through the RpcCore
// gate (authorization table and limits in dispatch_api.cc) and run on its workers;
// StreamAssignedTickets calls pass the same gate and are fed by the instance's one
// AssignmentNotifier (no thread per stream).
class TriageServiceImpl final : public GatedService<v1::TriageService::CallbackService> {
 public:
  TriageServiceImpl(Dispatcher* d, RpcCore* rpc);

 private:
  Dispatcher* d_;
};

class DepartmentServiceImpl final : public GatedService<v1::DepartmentService::CallbackService> {
 public:
  DepartmentServiceImpl(Dispatcher* d, RpcCore* rpc, AssignmentNotifier* notifier);
  grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse>* StreamAssignedTickets(
      grpc::CallbackServerContext* ctx, const v1::StreamAssignedTicketsRequest* req) override;

 private:
  Dispatcher* d_;
  AssignmentNotifier* notifier_;
};

class SupervisionServiceImpl final : public GatedService<v1::SupervisionService::CallbackService> {
 public:
  SupervisionServiceImpl(Dispatcher* d, RpcCore* rpc);

 private:
  Dispatcher* d_;
};

}  // namespace hotline::dispatch
