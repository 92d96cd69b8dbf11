#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotline {

// A small HTTP/1.1 server for the public REST edges (intake's Open311, the survey's inbound
// webhook and answer page), built so that no client can tie it up: a fixed pool of connection
// threads with a cap (past it: 503 and close at once), a deadline for the request head and another
// for the body, bodies read only when the handler asks (after it has checked the caller) and only
// up to a cap, and one request per connection.
struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;
  absl::Duration read_timeout = absl::Seconds(5);  // for the head, then again for the body
  int max_connections = 64;                        // connections being served at once
};

struct HttpRequest {
  std::string method;
  std::string path;                            // without the query
  std::string query;                           // after '?', still URL-encoded
  std::map<std::string, std::string> headers;  // names lower-cased
  int64_t content_length = -1;                 // -1: no Content-Length
  bool chunked = false;                        // any Transfer-Encoding
  // "" when absent.
  std::string Header(const std::string& lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
};

// The request body, read on demand. Errors (each maps to an HTTP status, BodyErrorStatus):
// FAILED_PRECONDITION no Content-Length or a chunked body (411), OUT_OF_RANGE larger than
// max_body_bytes (413, nothing read), DEADLINE_EXCEEDED not sent within read_timeout (408),
// UNAVAILABLE the client went away.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  virtual absl::StatusOr<std::string> Read() = 0;
};
int BodyErrorStatus(const absl::Status& s);
const char* HttpReason(int status);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&, BodyReader&)>;
  // Why the server itself refused a request: "busy", "timeout", "bad_request" (for metrics).
  using RefusedHook = std::function<void(const std::string& reason)>;

  // addr: "host:port" (port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& addr,
                                                           HttpLimits limits, Handler handler,
                                                           RefusedHook refused);
  ~HttpServer();
  // Stops accepting, cuts open connections short and joins every thread. Idempotent.
  void Stop();
  int port() const { return port_; }
  const HttpLimits& limits() const { return limits_; }

 private:
  HttpServer(HttpLimits limits, Handler handler, RefusedHook refused)
      : limits_(limits), handler_(std::move(handler)), refused_(std::move(refused)) {}
  void AcceptLoop();
  void Worker();
  void Serve(int fd);
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const HttpLimits limits_;
  const Handler handler_;
  const RefusedHook refused_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe that wakes the accept loop on Stop
  int port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<int> queue_ ABSL_GUARDED_BY(mu_);  // accepted, not yet picked up
  std::set<int> serving_ ABSL_GUARDED_BY(mu_);  // being served, cut short by Stop
};

}  // namespace hotline
