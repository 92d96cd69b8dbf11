#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/auth.h"
#include "services/common/http_server.h"
#include "services/intake/intake_core.h"
#include "services/intake/intake_metrics.h"

namespace hotline::intake {

// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), JSON format, on the same core
// as the gRPC API, so existing 311 apps can file and follow requests:
//   GET  /open311/v2/services.json         the ticket types as Open311 services
//   POST /open311/v2/requests.json         form-encoded submit (Idempotency-Key header honoured)
//   GET  /open311/v2/requests.json         query: service_request_id, service_code, status,
//                                          start_date, end_date (default: the last 90 days)
//   GET  /open311/v2/requests/<id>.json    one request
// The api_key travels in the query string (?api_key=), the X-Api-Key header or
// "Authorization: Bearer", never only in the body: it is checked before the body is read.
// POST needs a channel, service or supervisor key (unless auth is off). GET without a key, or
// with a key whose role may not read tickets, returns only what Open311 publishes: id, status,
// service, dates and a coarse location (district, lat/long to 0.01°), no free text; a
// call-taker, dispatcher, supervisor or service key sees description (personal data masked),
// address and exact position. service_request_id is the readable ticket number. Errors are the
// spec's [{"code":400,"description":"..."}] with the HTTP status.
struct Open311Options {
  HttpLimits http;  // INTAKE_OPEN311_MAX_BODY_BYTES, _READ_TIMEOUT_MS, _MAX_CONNECTIONS
};

class Open311Server {
 public:
  static absl::StatusOr<std::unique_ptr<Open311Server>> Start(const std::string& addr,
                                                              const Open311Options& opts,
                                                              IntakeCore* core,
                                                              IntakeMetrics* metrics,
                                                              const Authenticator* auth);
  ~Open311Server();
  void Stop();
  int port() const { return http_->port(); }

 private:
  Open311Server() = default;
  std::unique_ptr<class Open311Handler> handler_;
  std::unique_ptr<HttpServer> http_;
};

// One ticket in the Open311 "service request" shape (exposed for tests). `full`: the view for
// keys that may read tickets; otherwise the public one.
std::string Open311RequestJson(const v1::Ticket& t, bool full);

}  // namespace hotline::intake
