#include "services/common/webhook_client.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#ifndef HOTLINE_VERSION
#define HOTLINE_VERSION "dev"
#endif

namespace hotline {
namespace {

constexpr char kSha256Prefix[] = "sha256=";
constexpr size_t kSha256Bytes = 32;
constexpr size_t kMaxIdempotencyKeyBytes = 255;

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict hex decoding (absl::HexStringToBytes accepts anything). false: not hex.
bool DecodeHex(absl::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// A header value must not be able to end its line and start another (header injection).
bool IsHeaderSafe(absl::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using UrlPtr = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;
using SlistPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

std::string UrlPart(CURLU* u, CURLUPart part) {
  char* p = nullptr;
  if (curl_url_get(u, part, &p, 0) != CURLUE_OK || p == nullptr) return "";
  std::string s(p);
  curl_free(p);
  return s;
}

// Parses and checks `url`; on success `shown` is the URL as messages may name it: scheme, host,
// port and path, without credentials or a query (either may carry a token).
absl::Status CheckUrl(const std::string& url, std::string* shown) {
  if (url.empty()) return absl::InvalidArgumentError("url: empty");
  if (!IsHeaderSafe(url)) return absl::InvalidArgumentError("url: contains spaces or controls");
  UrlPtr u(curl_url(), curl_url_cleanup);
  if (!u) return absl::ResourceExhaustedError("url: out of memory");
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return absl::InvalidArgumentError("url: not an absolute http(s) URL");
  }
  std::string scheme = absl::AsciiStrToLower(UrlPart(u.get(), CURLUPART_SCHEME));
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat("url: scheme ", scheme, ", want http or https"));
  }
  std::string host = UrlPart(u.get(), CURLUPART_HOST);
  if (host.empty()) return absl::InvalidArgumentError("url: no host");
  std::string port = UrlPart(u.get(), CURLUPART_PORT);
  *shown = absl::StrCat(scheme, "://", host, port.empty() ? "" : ":", port,
                        UrlPart(u.get(), CURLUPART_PATH));
  return absl::OkStatus();
}

size_t KeepBounded(char* data, size_t size, size_t n, void* userdata) {
  auto* sink = static_cast<std::pair<std::string*, size_t>*>(userdata);
  size_t bytes = size * n;
  std::string& out = *sink->first;
  if (out.size() < sink->second) out.append(data, std::min(bytes, sink->second - out.size()));
  return bytes;  // anything less makes libcurl abort the transfer
}

// One attempt's outcome, as the retry loop needs it.
struct Attempt {
  enum Kind { kDelivered, kPermanent, kTransient } kind = kTransient;
  int http_status = 0;
  absl::Duration retry_after;  // the receiver's Retry-After, 0 if none
  std::string what;            // "HTTP 503", "timeout after 200ms", "connection refused: ..."
};

bool TransientHttp(int status) { return status >= 500 || status == 408 || status == 429; }

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string HmacSha256Hex(absl::string_view key, absl::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string mac = HmacSha256(key, data), hex;
  hex.reserve(mac.size() * 2);
  for (unsigned char c : mac) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return hex;
}

std::string SignWebhook(absl::string_view secret, absl::string_view timestamp,
                        absl::string_view body) {
  return absl::StrCat(kSha256Prefix, HmacSha256Hex(secret, absl::StrCat(timestamp, ".", body)));
}

absl::Status VerifyWebhookSignature(absl::string_view secret, absl::string_view timestamp,
                                    absl::string_view body, absl::string_view signature_header,
                                    absl::Time now, absl::Duration max_skew) {
  // An empty key would make every signature made with an empty key valid: a setup error.
  if (secret.empty()) return absl::FailedPreconditionError("webhook secret: not configured");
  timestamp = absl::StripAsciiWhitespace(timestamp);
  if (timestamp.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(kWebhookTimestampHeader, ": missing"));
  }
  int64_t seconds = 0;
  if (timestamp.size() > 12 ||
      !std::all_of(timestamp.begin(), timestamp.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(timestamp, &seconds)) {
    return absl::UnauthenticatedError(absl::StrCat(kWebhookTimestampHeader, ": not unix seconds"));
  }
  absl::Duration skew = absl::AbsDuration(now - absl::FromUnixSeconds(seconds));
  if (skew > max_skew) {
    return absl::UnauthenticatedError(
        absl::StrCat(kWebhookTimestampHeader, ": ", absl::ToInt64Seconds(skew),
                     " s away from this server's clock, at most ", absl::ToInt64Seconds(max_skew),
                     " s allowed (stale or replayed)"));
  }
  absl::string_view sig = absl::StripAsciiWhitespace(signature_header);
  if (sig.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(kWebhookSignatureHeader, ": missing"));
  }
  std::string given;
  if (!absl::ConsumePrefix(&sig, kSha256Prefix) || sig.size() != 2 * kSha256Bytes ||
      !DecodeHex(sig, &given)) {
    return absl::UnauthenticatedError(
        absl::StrCat(kWebhookSignatureHeader, ": not sha256=<64 hex digits>"));
  }
  std::string want = HmacSha256(secret, absl::StrCat(timestamp, ".", body));
  if (CRYPTO_memcmp(want.data(), given.data(), kSha256Bytes) != 0) {
    return absl::UnauthenticatedError(
        absl::StrCat(kWebhookSignatureHeader, ": does not match the body and timestamp"));
  }
  return absl::OkStatus();
}

absl::StatusOr<WebhookClient> WebhookClient::Create(WebhookClientOptions o) {
  if (o.secret.size() < 16) {
    return absl::InvalidArgumentError("secret: at least 16 bytes (a guessable key signs nothing)");
  }
  if (o.attempt_timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("attempt_timeout: at least 1 ms");
  }
  if (o.connect_timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("connect_timeout: at least 1 ms");
  }
  if (o.deadline < o.attempt_timeout) {
    return absl::InvalidArgumentError("deadline: shorter than attempt_timeout");
  }
  if (o.max_attempts < 1) return absl::InvalidArgumentError("max_attempts: at least 1");
  if (o.initial_backoff < absl::ZeroDuration() || o.max_backoff < o.initial_backoff) {
    return absl::InvalidArgumentError("backoff: need 0 <= initial_backoff <= max_backoff");
  }
  InitCurlOnce();
  return WebhookClient(std::move(o));
}

absl::StatusOr<WebhookResult> WebhookClient::Post(const std::string& url,
                                                  const std::string& json_body,
                                                  const std::string& idempotency_key) const {
  std::string shown;
  if (absl::Status s = CheckUrl(url, &shown); !s.ok()) return s;
  if (idempotency_key.empty() || idempotency_key.size() > kMaxIdempotencyKeyBytes ||
      !IsHeaderSafe(idempotency_key)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key: 1 to ", kMaxIdempotencyKeyBytes, " visible ASCII characters, no spaces"));
  }
  CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::ResourceExhaustedError("webhook: cannot create a libcurl handle");
  CURL* c = curl.get();
  WebhookResult result;
  std::pair<std::string*, size_t> sink(&result.response_body, options_.max_response_bytes);
  char errbuf[CURL_ERROR_SIZE];
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are multithreaded
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "hotline-webhook/" HOTLINE_VERSION);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, KeepBounded);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());

  const absl::Time start = absl::Now();
  const absl::Time end = start + options_.deadline;
  absl::BitGen rng;
  Attempt last;
  bool deadline_hit = false;
  for (int n = 1; n <= options_.max_attempts; ++n) {
    absl::Duration left = end - absl::Now();
    if (left <= absl::ZeroDuration()) {
      deadline_hit = true;
      break;
    }
    absl::Duration timeout = std::min(options_.attempt_timeout, left);
    int64_t timeout_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(
                         timeout_ms, absl::ToInt64Milliseconds(options_.connect_timeout))));
    // Signed anew per attempt, so a retry late in the deadline is not refused as stale.
    std::string ts = absl::StrCat(absl::ToUnixSeconds(absl::Now()));
    curl_slist* raw = nullptr;
    for (const std::string& h :
         {std::string("Content-Type: application/json"), std::string("Accept: application/json"),
          absl::StrCat(kWebhookTimestampHeader, ": ", ts),
          absl::StrCat(kWebhookSignatureHeader, ": ", SignWebhook(options_.secret, ts, json_body)),
          absl::StrCat(kIdempotencyKeyHeader, ": ", idempotency_key),
          // No "Expect: 100-continue" round trip: many gateways never answer it.
          std::string("Expect:")}) {
      curl_slist* next = curl_slist_append(raw, h.c_str());
      if (next == nullptr) {
        curl_slist_free_all(raw);
        return absl::ResourceExhaustedError("webhook: out of memory");
      }
      raw = next;
    }
    SlistPtr headers(raw, curl_slist_free_all);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    result.response_body.clear();
    errbuf[0] = '\0';
    result.attempts = n;

    CURLcode rc = curl_easy_perform(c);
    last = Attempt{};
    if (rc == CURLE_OK) {
      long code = 0;
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
      last.http_status = static_cast<int>(code);
      last.what = absl::StrCat("HTTP ", code);
      if (code >= 200 && code < 300) {
        last.kind = Attempt::kDelivered;
      } else if (TransientHttp(last.http_status)) {
        last.kind = Attempt::kTransient;
        curl_off_t retry_after = 0;
        if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
            retry_after > 0) {
          last.retry_after = absl::Seconds(retry_after);
        }
      } else {
        last.kind = Attempt::kPermanent;
      }
    } else {
      last.kind = (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
                      ? Attempt::kPermanent
                      : Attempt::kTransient;
      last.what = rc == CURLE_OPERATION_TIMEDOUT
                      ? absl::StrCat("timeout after ", timeout_ms, " ms")
                      : std::string(errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    result.http_status = last.http_status;
    if (last.kind == Attempt::kDelivered) return result;
    if (last.kind == Attempt::kPermanent) {
      return absl::InvalidArgumentError(absl::StrCat(
          "webhook ", shown, ": ", last.what,
          last.http_status >= 300 && last.http_status < 400 ? " (redirects are not followed)" : "",
          ", refused by the receiver; not retried (attempt ", n, ")"));
    }
    if (n == options_.max_attempts) break;
    absl::Duration base = std::min(options_.max_backoff,
                                   options_.initial_backoff * (int64_t{1} << std::min(n - 1, 30)));
    absl::Duration wait = base / 2 + absl::Uniform(rng, 0.0, 1.0) * (base / 2);
    wait = std::max(wait, last.retry_after);
    // A wait that ends past the deadline leaves no time for the attempt after it.
    if (absl::Now() + wait >= end) {
      deadline_hit = true;
      break;
    }
    absl::SleepFor(wait);
  }
  return absl::UnavailableError(absl::StrCat(
      "webhook ", shown, ": not delivered after ", result.attempts, " attempt",
      result.attempts == 1 ? "" : "s", " in ", absl::ToInt64Milliseconds(absl::Now() - start),
      " ms (", deadline_hit ? "deadline reached" : "attempts ran out", "); last: ", last.what));
}

}  // namespace hotline
