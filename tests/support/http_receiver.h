#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/http_server.h"

namespace hotline::testing {

// A real HTTP receiver on a free loopback port, standing in for the city's SMS/voice gateway or
// a 311 app's callback URL: it records every request and answers as a test scripts it (fail N
// times with 503, refuse with 400, answer slower than the client waits). Built on the common
// HttpServer, so the bytes on the wire are real HTTP/1.1.
class HttpReceiver {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    absl::Time received;
    // VerifyWebhookSignature's verdict when a secret is set (else OK).
    absl::Status signature = absl::OkStatus();
    int answered = 0;  // the status it was sent
    std::string Header(const std::string& lower_name) const;
  };
  // How to answer one request.
  struct Answer {
    int status = 200;
    absl::Duration delay;  // before answering
    std::string body = "{\"ok\":true}";
  };

  // Listens on 127.0.0.1 on a port the kernel picks. `secret`: when not empty, each request's
  // signature is checked (max skew 5 minutes) and a bad one answered 401.
  explicit HttpReceiver(std::string secret = "");
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path = "/hook") const;

  // The next requests get these answers in order; after them, `fallback`.
  void Script(std::vector<Answer> answers);
  void FailNext(int n, int status = 503);
  void SlowNext(int n, absl::Duration delay);
  void SetFallback(Answer answer);
  // Forgets the script, the fallback (back to 200) and what was recorded.
  void Reset();

  std::vector<Request> Requests() const;
  size_t Count() const;
  // Waits until at least n requests arrived; false after `timeout`.
  bool WaitForCount(size_t n, absl::Duration timeout) const;

  // Stops listening (the port then refuses connections); slow answers are cut short.
  void Stop();

 private:
  HttpResponse Handle(const HttpRequest& req, BodyReader& body);

  const std::string secret_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Answer> script_ ABSL_GUARDED_BY(mu_);
  Answer fallback_ ABSL_GUARDED_BY(mu_);
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotline::testing
