#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hotline {

// Signed JSON webhooks, both ways: out to the city's SMS/voice gateway (and 311 apps'
// callbacks), and the check for the ones that come in (the gateway's SMS replies).
//
// The contract, identical in both directions:
//   POST <url>
//   Content-Type: application/json
//   X-Hotline-Timestamp: <unix seconds when this attempt was sent>
//   X-Hotline-Signature: sha256=<lower-case hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//   Idempotency-Key: <the caller's key, the same on every retry of one delivery>
// Signing the timestamp with the body lets a receiver refuse a captured request replayed later
// (VerifyWebhookSignature's max_skew); the idempotency key lets it drop a retry of a delivery
// it already acted on (a timeout says nothing about whether the first attempt arrived).

inline constexpr char kWebhookTimestampHeader[] = "X-Hotline-Timestamp";
inline constexpr char kWebhookSignatureHeader[] = "X-Hotline-Signature";
inline constexpr char kIdempotencyKeyHeader[] = "Idempotency-Key";

// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string HmacSha256Hex(absl::string_view key, absl::string_view data);

// The X-Hotline-Signature value for one request: "sha256=<hex>".
std::string SignWebhook(absl::string_view secret, absl::string_view timestamp,
                        absl::string_view body);

// Checks an inbound webhook. `timestamp` and `signature_header` are the raw header values ("" if
// absent). OK, or UNAUTHENTICATED naming the header and the reason (missing, malformed, more
// than `max_skew` away from `now` in either direction, or not matching). The comparison takes
// the same time however many bytes match, so the signature cannot be guessed byte by byte.
absl::Status VerifyWebhookSignature(absl::string_view secret, absl::string_view timestamp,
                                    absl::string_view body, absl::string_view signature_header,
                                    absl::Time now, absl::Duration max_skew);

struct WebhookClientOptions {
  std::string secret;  // shared with the receiver; at least 16 bytes
  // One attempt, connecting included; cut shorter when the overall deadline is nearer.
  absl::Duration attempt_timeout = absl::Seconds(5);
  absl::Duration connect_timeout = absl::Seconds(2);
  // Everything, attempts and waits between them; no attempt starts after it.
  absl::Duration deadline = absl::Seconds(30);
  int max_attempts = 5;
  // Wait before retry n (n = 1, 2, ...): a random time in [b/2, b] with
  // b = min(max_backoff, initial_backoff * 2^(n-1)), so clients that failed together do not
  // come back together. A 429/503 with Retry-After waits at least that long.
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(8);
  size_t max_response_bytes = 16 * 1024;  // kept of the receiver's answer; the rest dropped
  std::string ca_file;                    // "" = the system's CAs (https only)
};

struct WebhookResult {
  int http_status = 0;        // of the last attempt; 0 = no HTTP answer
  int attempts = 0;           // made, the successful one included
  std::string response_body;  // of the last answer, at most max_response_bytes
};

// Delivers signed webhooks with retries. Thread-safe: one client serves any number of threads
// (each Post uses its own connection). No exceptions; libcurl never raises signals here.
class WebhookClient {
 public:
  // INVALID_ARGUMENT naming the option when one is out of range.
  static absl::StatusOr<WebhookClient> Create(WebhookClientOptions options);

  // POSTs `json_body` to `url` (http or https) until a 2xx, a permanent refusal, max_attempts
  // or the deadline. Returns the result on a 2xx, else:
  //   INVALID_ARGUMENT  bad url / idempotency key, or the receiver refused the request itself
  //                     (a 4xx other than 408/429, or a 3xx: not followed). Permanent: do not
  //                     send the same request again. The message names the HTTP status.
  //   UNAVAILABLE       every attempt failed transiently (5xx, 408, 429, connection refused or
  //                     reset, DNS, TLS, timeout) and the attempts or the deadline ran out.
  //                     Transient: try again later with the same idempotency key.
  // Messages name the URL without query or credentials, never the body (it may hold personal
  // data).
  absl::StatusOr<WebhookResult> Post(const std::string& url, const std::string& json_body,
                                     const std::string& idempotency_key) const;

  const WebhookClientOptions& options() const { return options_; }

 private:
  explicit WebhookClient(WebhookClientOptions options) : options_(std::move(options)) {}
  WebhookClientOptions options_;
};

}  // namespace hotline
