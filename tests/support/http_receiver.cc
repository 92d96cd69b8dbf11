#include "tests/support/http_receiver.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/webhook_client.h"

namespace hotline::testing {

std::string HttpReceiver::Request::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

HttpReceiver::HttpReceiver(std::string secret) : secret_(std::move(secret)) {
  HttpLimits limits;
  limits.max_connections = 8;  // a test sends a handful at once
  limits.max_body_bytes = 1 << 20;
  auto s = HttpServer::Start(
      "127.0.0.1:0", limits,
      [this](const HttpRequest& req, BodyReader& body) { return Handle(req, body); }, nullptr);
  if (!s.ok()) {
    // A test helper cannot work without its socket; say why and stop the test binary.
    fprintf(stderr, "HttpReceiver: %s\n", s.status().ToString().c_str());
    std::abort();
  }
  server_ = std::move(*s);
  port_ = server_->port();
}

HttpReceiver::~HttpReceiver() { Stop(); }

std::string HttpReceiver::Url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

void HttpReceiver::Script(std::vector<Answer> answers) {
  absl::MutexLock lock(&mu_);
  for (auto& a : answers) script_.push_back(std::move(a));
}

void HttpReceiver::FailNext(int n, int status) {
  Answer a;
  a.status = status;
  a.body = "{\"error\":\"scripted failure\"}";
  Script(std::vector<Answer>(static_cast<size_t>(n), a));
}

void HttpReceiver::SlowNext(int n, absl::Duration delay) {
  Answer a;
  a.delay = delay;
  Script(std::vector<Answer>(static_cast<size_t>(n), a));
}

void HttpReceiver::SetFallback(Answer answer) {
  absl::MutexLock lock(&mu_);
  fallback_ = std::move(answer);
}

void HttpReceiver::Reset() {
  absl::MutexLock lock(&mu_);
  script_.clear();
  fallback_ = Answer{};
  requests_.clear();
}

std::vector<HttpReceiver::Request> HttpReceiver::Requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

size_t HttpReceiver::Count() const {
  absl::MutexLock lock(&mu_);
  return requests_.size();
}

bool HttpReceiver::WaitForCount(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return requests_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

void HttpReceiver::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;  // wakes the handlers that are waiting out a slow answer
  }
  if (server_) server_->Stop();
}

HttpResponse HttpReceiver::Handle(const HttpRequest& req, BodyReader& reader) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  r.headers = req.headers;
  r.received = absl::Now();
  auto body = reader.Read();
  if (!body.ok()) return HttpResponse{BodyErrorStatus(body.status()), "{}"};
  r.body = *body;
  if (!secret_.empty()) {
    r.signature =
        VerifyWebhookSignature(secret_, req.Header("x-hotline-timestamp"), r.body,
                               req.Header("x-hotline-signature"), absl::Now(), absl::Minutes(5));
  }
  Answer answer;
  {
    absl::MutexLock lock(&mu_);
    if (!script_.empty()) {
      answer = std::move(script_.front());
      script_.pop_front();
    } else {
      answer = fallback_;
    }
    if (!r.signature.ok()) answer = Answer{401, absl::ZeroDuration(), "{\"error\":\"signature\"}"};
    r.answered = answer.status;
    requests_.push_back(std::move(r));
  }
  if (answer.delay > absl::ZeroDuration()) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), answer.delay);
  }
  return HttpResponse{answer.status, answer.body};
}

}  // namespace hotline::testing
