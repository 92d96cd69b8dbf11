#include "services/common/events.h"

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/log.h"

namespace hotline {

const std::vector<std::string>& AllTopics() {
  static const auto* topics = new std::vector<std::string>{kTicketsTopic, kCallsTopic, kSlaTopic,
                                                           kSurveysTopic, kDeadLetterTopic};
  return *topics;
}

std::string TopicFor(const v1::EventEnvelope& event) {
  // Field numbers are grouped by the aggregate they describe (see events.proto):
  // 10–19 and 30–49 tickets, 20–29 calls, 50–59 SLA, 60–69 surveys.
  const int n = static_cast<int>(event.payload_case());
  if (n == 0) return "";
  if (n >= 20 && n < 30) return kCallsTopic;
  if (n >= 50 && n < 60) return kSlaTopic;
  if (n >= 60 && n < 70) return kSurveysTopic;
  return kTicketsTopic;
}

std::string PayloadName(const v1::EventEnvelope& event) {
  const auto* field =
      v1::EventEnvelope::descriptor()->FindFieldByNumber(static_cast<int>(event.payload_case()));
  return field == nullptr ? "none" : field->name();
}

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                         lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

v1::EventEnvelope NewEnvelope(const std::string& source, const std::string& key,
                              int64_t aggregate_version, const std::string& traceparent) {
  v1::EventEnvelope e;
  e.set_event_id(NewUuid());
  e.set_key(key);
  e.set_source(source);
  e.set_aggregate_version(aggregate_version);
  // Events made while a call or an event is being handled carry its trace (the gate and the
  // consumer set it on the thread), so department actions and SLA firings started over gRPC
  // are followed too.
  e.set_traceparent(ValidTraceparent(!traceparent.empty() ? traceparent : CurrentTrace()));
  const absl::Time now = absl::Now();
  const int64_t nanos = absl::ToUnixNanos(now);
  e.mutable_occurred_at()->set_seconds(nanos / 1000000000);
  e.mutable_occurred_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return e;
}

std::string EnumLabel(const std::string& name, size_t prefix, const std::string& fallback) {
  return name.size() > prefix ? absl::AsciiStrToLower(name.substr(prefix)) : fallback;
}

}  // namespace hotline
