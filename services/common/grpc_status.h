#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace hotline {

// The one place absl::Status becomes a gRPC status (DESIGN.md house style 4): same code, same
// message. absl and gRPC share code numbers, so the mapping is exact.
inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace hotline
