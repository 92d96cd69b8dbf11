// The webhook signature recipe (HMAC-SHA256 over "<timestamp>.<body>") and its verifier, against
// published and openssl-made vectors; the client's own checks of its options and inputs.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/webhook_client.h"

using namespace hotline;

namespace {

constexpr char kSecret[] = "gateway-test-secret-0123";
constexpr char kTimestamp[] = "1700000000";
constexpr char kBody[] = R"({"survey_id":"S-1","channel":"sms"})";
// printf '%s' '1700000000.{"survey_id":"S-1","channel":"sms"}' |
//   openssl dgst -sha256 -hmac 'gateway-test-secret-0123'
constexpr char kSignature[] =
    "sha256=d64012274e71609ad3e5aa05ac8f5bf90323a834cd74e9cd96bb11ff08b312cc";
const absl::Time kNow = absl::FromUnixSeconds(1700000000) + absl::Seconds(42);
const absl::Duration kSkew = absl::Minutes(5);

// What a city's engineer would type: the README's shell recipe, run for real.
std::string OpensslSignature(const std::string& secret, const std::string& ts,
                             const std::string& body) {
  std::string cmd = absl::StrCat("printf '%s' '", ts, ".", body, "' | openssl dgst -sha256 -hmac '",
                                 secret, "' 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char buf[256] = {0};
  std::string out;
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  pclose(p);
  auto eq = out.rfind("= ");
  if (eq == std::string::npos) return "";
  std::string hex = out.substr(eq + 2);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  return "sha256=" + hex;
}

}  // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2") {
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("SignWebhook matches the openssl recipe") {
  CHECK(SignWebhook(kSecret, kTimestamp, kBody) == kSignature);
  // And the recipe run now on other input, so the README's command line is what we compute.
  std::string body = R"({"to":"survey","text":"满意吗? 1-5"})";
  std::string expected = OpensslSignature("another-secret-4567890", "1712345678", body);
  REQUIRE(!expected.empty());
  CHECK(SignWebhook("another-secret-4567890", "1712345678", body) == expected);
}

TEST_CASE("VerifyWebhookSignature accepts a good signature, either hex case") {
  CHECK(VerifyWebhookSignature(kSecret, kTimestamp, kBody, kSignature, kNow, kSkew).ok());
  std::string upper =
      std::string("sha256=") + "D64012274E71609AD3E5AA05AC8F5BF90323A834CD74E9CD96BB11FF08B312CC";
  CHECK(VerifyWebhookSignature(kSecret, kTimestamp, kBody, upper, kNow, kSkew).ok());
  CHECK(VerifyWebhookSignature(kSecret, kTimestamp, kBody, absl::StrCat(" ", kSignature, " "), kNow,
                               kSkew)
            .ok());
}

TEST_CASE("VerifyWebhookSignature refuses tampering, a wrong secret and stale timestamps") {
  SECTION("tampered body") {
    auto s = VerifyWebhookSignature(kSecret, kTimestamp, R"({"survey_id":"S-2","channel":"sms"})",
                                    kSignature, kNow, kSkew);
    CHECK(absl::IsUnauthenticated(s));
    CHECK(absl::StrContains(s.message(), "X-Hotline-Signature: does not match"));
  }
  SECTION("tampered timestamp (signed with another)") {
    auto s = VerifyWebhookSignature(kSecret, "1700000001", kBody, kSignature, kNow, kSkew);
    CHECK(absl::IsUnauthenticated(s));
    CHECK(absl::StrContains(s.message(), "does not match"));
  }
  SECTION("wrong secret") {
    auto s =
        VerifyWebhookSignature("some-other-secret-xyz", kTimestamp, kBody, kSignature, kNow, kSkew);
    CHECK(absl::IsUnauthenticated(s));
  }
  SECTION("stale: a valid request replayed six minutes later") {
    auto s = VerifyWebhookSignature(kSecret, kTimestamp, kBody, kSignature,
                                    absl::FromUnixSeconds(1700000000) + absl::Minutes(6), kSkew);
    CHECK(absl::IsUnauthenticated(s));
    CHECK(absl::StrContains(s.message(), "X-Hotline-Timestamp: 360 s"));
  }
  SECTION("from the future beyond the skew") {
    auto s = VerifyWebhookSignature(kSecret, kTimestamp, kBody, kSignature,
                                    absl::FromUnixSeconds(1700000000) - absl::Minutes(6), kSkew);
    CHECK(absl::IsUnauthenticated(s));
  }
  SECTION("at the edge of the skew it still passes") {
    CHECK(VerifyWebhookSignature(kSecret, kTimestamp, kBody, kSignature,
                                 absl::FromUnixSeconds(1700000000) + kSkew, kSkew)
              .ok());
  }
  SECTION("malformed or missing headers name the header") {
    auto s = VerifyWebhookSignature(kSecret, "", kBody, kSignature, kNow, kSkew);
    CHECK(s.message() == "X-Hotline-Timestamp: missing");
    s = VerifyWebhookSignature(kSecret, "17e8", kBody, kSignature, kNow, kSkew);
    CHECK(s.message() == "X-Hotline-Timestamp: not unix seconds");
    s = VerifyWebhookSignature(kSecret, "-1700000000", kBody, kSignature, kNow, kSkew);
    CHECK(s.message() == "X-Hotline-Timestamp: not unix seconds");
    s = VerifyWebhookSignature(kSecret, kTimestamp, kBody, "", kNow, kSkew);
    CHECK(s.message() == "X-Hotline-Signature: missing");
    s = VerifyWebhookSignature(kSecret, kTimestamp, kBody, std::string(kSignature).substr(7), kNow,
                               kSkew);  // no "sha256="
    CHECK(s.message() == "X-Hotline-Signature: not sha256=<64 hex digits>");
    s = VerifyWebhookSignature(kSecret, kTimestamp, kBody, std::string(kSignature).substr(0, 70),
                               kNow, kSkew);
    CHECK(absl::IsUnauthenticated(s));
    std::string not_hex = kSignature;
    not_hex.back() = 'g';
    s = VerifyWebhookSignature(kSecret, kTimestamp, kBody, not_hex, kNow, kSkew);
    CHECK(s.message() == "X-Hotline-Signature: not sha256=<64 hex digits>");
  }
  SECTION("no secret configured is a setup error, not a pass") {
    auto s = VerifyWebhookSignature("", kTimestamp, kBody, SignWebhook("", kTimestamp, kBody), kNow,
                                    kSkew);
    CHECK(absl::IsFailedPrecondition(s));
  }
}

TEST_CASE("WebhookClient::Create names the bad option") {
  WebhookClientOptions o;
  o.secret = "short";
  CHECK(WebhookClient::Create(o).status().message() ==
        "secret: at least 16 bytes (a guessable key signs nothing)");
  o.secret = kSecret;
  o.max_attempts = 0;
  CHECK(absl::StartsWith(WebhookClient::Create(o).status().message(), "max_attempts:"));
  o.max_attempts = 3;
  o.deadline = absl::Seconds(1);
  o.attempt_timeout = absl::Seconds(2);
  CHECK(absl::StartsWith(WebhookClient::Create(o).status().message(), "deadline:"));
  o.attempt_timeout = absl::Milliseconds(500);
  o.max_backoff = absl::Milliseconds(1);
  CHECK(absl::StartsWith(WebhookClient::Create(o).status().message(), "backoff:"));
  o.max_backoff = absl::Seconds(1);
  CHECK(WebhookClient::Create(o).ok());
}

TEST_CASE("WebhookClient::Post refuses bad input before sending anything") {
  WebhookClientOptions o;
  o.secret = kSecret;
  auto client = WebhookClient::Create(o);
  REQUIRE(client.ok());
  auto r = client->Post("", kBody, "k-1");
  CHECK(r.status().message() == "url: empty");
  r = client->Post("ftp://gateway.example/x", kBody, "k-1");
  CHECK(r.status().message() == "url: scheme ftp, want http or https");
  r = client->Post("gateway.example/x y", kBody, "k-1");
  CHECK(absl::IsInvalidArgument(r.status()));
  r = client->Post("https://gateway.example/x", kBody, "");
  CHECK(absl::StartsWith(r.status().message(), "idempotency_key:"));
  // A CR/LF in the key would start a header of the caller's choosing.
  r = client->Post("https://gateway.example/x", kBody, "k-1\r\nX-Evil: 1");
  CHECK(absl::StartsWith(r.status().message(), "idempotency_key:"));
  r = client->Post("https://gateway.example/x", kBody, std::string(256, 'k'));
  CHECK(absl::StartsWith(r.status().message(), "idempotency_key:"));
}
