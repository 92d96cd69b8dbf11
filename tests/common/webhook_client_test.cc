// The outbound webhook client against a real local HTTP receiver that records, verifies the
// signature with VerifyWebhookSignature, fails on purpose and answers slowly.
#include "services/common/webhook_client.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "tests/support/http_receiver.h"

using namespace hotline;
using hotline::testing::HttpReceiver;

namespace {

constexpr char kSecret[] = "gateway-shared-secret-for-tests";
constexpr char kBody[] = R"({"survey_id":"S-42","channel":"sms","template":"survey_v1"})";

// One receiver for the whole file; each case resets its script and its records.
HttpReceiver& Receiver() {
  static HttpReceiver receiver(kSecret);
  return receiver;
}

// Short times so the file runs in a few seconds; the ratios are the production ones.
WebhookClientOptions Fast() {
  WebhookClientOptions o;
  o.secret = kSecret;
  o.attempt_timeout = absl::Milliseconds(300);
  o.connect_timeout = absl::Milliseconds(300);
  o.deadline = absl::Seconds(5);
  o.max_attempts = 5;
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(100);
  return o;
}

WebhookClient Client(const WebhookClientOptions& o = Fast()) {
  auto c = WebhookClient::Create(o);
  REQUIRE(c.ok());
  return *c;
}

void CheckSignedAndKeyed(const std::vector<HttpReceiver::Request>& requests,
                         const std::string& key) {
  for (const auto& r : requests) {
    INFO("signature: " << r.signature.ToString());
    CHECK(r.signature.ok());
    CHECK(r.Header("idempotency-key") == key);
    CHECK(r.body == kBody);
  }
}

}  // namespace

TEST_CASE("a delivery arrives signed, with its headers and body") {
  HttpReceiver& rx = Receiver();
  rx.Reset();
  auto r = Client().Post(rx.Url("/sms/send?tenant=city"), kBody, "survey-S-42-1");
  REQUIRE(r.ok());
  CHECK(r->http_status == 200);
  CHECK(r->attempts == 1);
  CHECK(r->response_body == "{\"ok\":true}");
  auto got = rx.Requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].path == "/sms/send");
  CHECK(got[0].Header("content-type") == "application/json");
  CHECK(got[0].Header("expect").empty());
  int64_t ts = 0;
  REQUIRE(absl::SimpleAtoi(got[0].Header("x-hotline-timestamp"), &ts));
  CHECK(std::abs(ts - absl::ToUnixSeconds(absl::Now())) <= 2);
  CHECK(absl::StartsWith(got[0].Header("x-hotline-signature"), "sha256="));
  CheckSignedAndKeyed(got, "survey-S-42-1");
}

TEST_CASE("503 twice then 200: delivered on the third attempt, same idempotency key") {
  HttpReceiver& rx = Receiver();
  rx.Reset();
  rx.FailNext(2, 503);
  auto r = Client().Post(rx.Url(), kBody, "survey-S-42-2");
  REQUIRE(r.ok());
  CHECK(r->attempts == 3);
  auto got = rx.Requests();
  REQUIRE(got.size() == 3);
  CHECK(got[0].answered == 503);
  CHECK(got[1].answered == 503);
  CHECK(got[2].answered == 200);
  CheckSignedAndKeyed(got, "survey-S-42-2");
  // Backoff: the retries were spaced, not fired back to back (first wait is at least 10 ms).
  CHECK(got[1].received - got[0].received >= absl::Milliseconds(10));
}

TEST_CASE("400: not retried, INVALID_ARGUMENT naming the status") {
  HttpReceiver& rx = Receiver();
  rx.Reset();
  rx.FailNext(1, 400);
  auto r = Client().Post(rx.Url(), kBody, "survey-S-42-3");
  INFO(r.status().ToString());
  REQUIRE(absl::IsInvalidArgument(r.status()));
  CHECK(absl::StrContains(r.status().message(), "HTTP 400"));
  CHECK(absl::StrContains(r.status().message(), "not retried"));
  CHECK(rx.Count() == 1);
}

TEST_CASE("a receiver that refuses our signature is a permanent 401") {
  HttpReceiver& rx = Receiver();
  rx.Reset();
  WebhookClientOptions o = Fast();
  o.secret = "not-the-gateway-secret-at-all";
  auto r = Client(o).Post(rx.Url(), kBody, "survey-S-42-4");
  INFO(r.status().ToString());
  REQUIRE(absl::IsInvalidArgument(r.status()));
  CHECK(absl::StrContains(r.status().message(), "HTTP 401"));
  auto got = rx.Requests();
  REQUIRE(got.size() == 1);
  CHECK(absl::IsUnauthenticated(got[0].signature));
}

TEST_CASE("429 is transient: retried") {
  HttpReceiver& rx = Receiver();
  rx.Reset();
  rx.FailNext(1, 429);
  auto r = Client().Post(rx.Url(), kBody, "survey-S-42-5");
  REQUIRE(r.ok());
  CHECK(r->attempts == 2);
}

TEST_CASE("slow answers time out and are retried") {
  HttpReceiver& rx = Receiver();
  rx.Reset();
  rx.SlowNext(2, absl::Seconds(3));
  absl::Time start = absl::Now();
  auto r = Client().Post(rx.Url(), kBody, "survey-S-42-6");
  absl::Duration took = absl::Now() - start;
  REQUIRE(r.ok());
  CHECK(r->attempts == 3);
  // Two 300 ms timeouts and two short waits, not the receiver's 3 s.
  CHECK(took >= absl::Milliseconds(600));
  CHECK(took < absl::Milliseconds(1500));
  auto got = rx.Requests();
  REQUIRE(got.size() == 3);
  CheckSignedAndKeyed(got, "survey-S-42-6");
}

TEST_CASE("5xx every time: UNAVAILABLE after max_attempts, naming the last answer") {
  HttpReceiver& rx = Receiver();
  rx.Reset();
  rx.SetFallback({502, absl::ZeroDuration(), "{}"});
  WebhookClientOptions o = Fast();
  o.max_attempts = 3;
  auto r = Client(o).Post(rx.Url(), kBody, "survey-S-42-7");
  INFO(r.status().ToString());
  REQUIRE(absl::IsUnavailable(r.status()));
  CHECK(absl::StrContains(r.status().message(), "after 3 attempts"));
  CHECK(absl::StrContains(r.status().message(), "attempts ran out"));
  CHECK(absl::StrContains(r.status().message(), "last: HTTP 502"));
  CHECK(rx.Count() == 3);
  CheckSignedAndKeyed(rx.Requests(), "survey-S-42-7");
}

TEST_CASE("the overall deadline is kept, however many attempts are allowed") {
  HttpReceiver& rx = Receiver();
  rx.Reset();
  rx.SetFallback({200, absl::Seconds(3), "{}"});
  WebhookClientOptions o = Fast();
  o.max_attempts = 100;
  o.deadline = absl::Seconds(1);
  absl::Time start = absl::Now();
  auto r = Client(o).Post(rx.Url(), kBody, "survey-S-42-8");
  absl::Duration took = absl::Now() - start;
  INFO(r.status().ToString());
  REQUIRE(absl::IsUnavailable(r.status()));
  CHECK(absl::StrContains(r.status().message(), "deadline reached"));
  CHECK(absl::StrContains(r.status().message(), "timeout"));
  // A little slack for a loaded 2-core machine; without the deadline this would take 3 s+.
  CHECK(took <= absl::Seconds(1) + absl::Milliseconds(250));
  CHECK(took >= absl::Milliseconds(600));  // it did try: at least two 300 ms attempts
  CHECK(rx.Count() >= 2);
  CHECK(rx.Count() <= 4);
  rx.Reset();
}

TEST_CASE("receiver down: UNAVAILABLE, connection refused") {
  int port;
  {
    HttpReceiver gone;
    port = gone.port();
    gone.Stop();
  }
  WebhookClientOptions o = Fast();
  o.max_attempts = 3;
  auto r = Client(o).Post("http://127.0.0.1:" + std::to_string(port) + "/hook?token=secret", kBody,
                          "survey-S-42-9");
  INFO(r.status().ToString());
  REQUIRE(absl::IsUnavailable(r.status()));
  CHECK(absl::StrContains(r.status().message(), "after 3 attempts"));
  CHECK(absl::StrContains(r.status().message(), "onnect"));
  // The query (it may hold a token) is not repeated in the message.
  CHECK(!absl::StrContains(r.status().message(), "token"));
}
