#pragma once

#include "hotline/v1/dispatch.grpc.pb.h"

namespace hotline::dispatch {

// Classification, routing and the ticket's life: behaviour arrives with issue 4.
// TriageService: registered so clients and reflection see the API; every RPC answers UNIMPLEMENTED
// until it is built.
class TriageServiceImpl final : public v1::TriageService::CallbackService {};

// DepartmentService: registered so clients and reflection see the API; every RPC answers UNIMPLEMENTED
// until it is built.
class DepartmentServiceImpl final : public v1::DepartmentService::CallbackService {};

// SupervisionService: registered so clients and reflection see the API; every RPC answers UNIMPLEMENTED
// until it is built.
class SupervisionServiceImpl final : public v1::SupervisionService::CallbackService {};

}  // namespace hotline::dispatch
