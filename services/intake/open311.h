#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/auth.h"
#include "services/intake/intake_core.h"
#include "services/intake/intake_metrics.h"

class CivetServer;

namespace hotline::intake {

// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), JSON format, on the same core
// as the gRPC API, so existing 311 apps can file and follow requests:
//   GET  /open311/v2/services.json         the ticket types as Open311 services
//   POST /open311/v2/requests.json         form-encoded submit (Idempotency-Key header honoured;
//                                          api_key = a channel or service token unless auth is off)
//   GET  /open311/v2/requests.json         query: service_request_id, service_code, status,
//                                          start_date, end_date (default: the last 90 days)
//   GET  /open311/v2/requests/<id>.json    one request
// service_request_id is the readable ticket number. Errors are the spec's
// [{"code":400,"description":"..."}] with the HTTP status.
class Open311Server {
 public:
  static absl::StatusOr<std::unique_ptr<Open311Server>> Start(const std::string& addr,
                                                               IntakeCore* core,
                                                               IntakeMetrics* metrics,
                                                               const Authenticator* auth);
  ~Open311Server();
  void Stop();
  int port() const { return port_; }

 private:
  Open311Server() = default;
  std::unique_ptr<CivetServer> server_;
  std::vector<std::unique_ptr<class Open311Handler>> handlers_;
  int port_ = 0;
};

// JSON of one ticket in the Open311 "service request" shape (exposed for tests).
std::string Open311RequestJson(const v1::Ticket& t);

}  // namespace hotline::intake
