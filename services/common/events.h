#pragma once

#include <string>
#include <vector>

#include "hotline/v1/events.pb.h"

namespace hotline {

// Topics of DESIGN.md ("Events"). Key = ticket id (call id on calls).
inline constexpr char kTicketsTopic[] = "hotline.tickets.v1";
inline constexpr char kCallsTopic[] = "hotline.calls.v1";
inline constexpr char kSlaTopic[] = "hotline.sla.v1";
inline constexpr char kSurveysTopic[] = "hotline.surveys.v1";
inline constexpr char kDeadLetterTopic[] = "hotline.deadletter.v1";

const std::vector<std::string>& AllTopics();

// The topic an event belongs on, from its payload. Empty when no payload is set.
std::string TopicFor(const v1::EventEnvelope& event);

// The payload's field name ("ticket_created"), or "none". Bounded set: safe as a metric label.
std::string PayloadName(const v1::EventEnvelope& event);

// A new envelope with a fresh UUID v4 and occurred_at = now.
v1::EventEnvelope NewEnvelope(const std::string& source, const std::string& key,
                              int64_t aggregate_version, const std::string& traceparent = "");

std::string NewUuid();

// An enum value's name without its prefix, lower-cased, for labels and tables:
// ("CHANNEL_WECHAT", 8) → "wechat"; `fallback` when nothing follows the prefix.
std::string EnumLabel(const std::string& name, size_t prefix,
                      const std::string& fallback = "unspecified");

}  // namespace hotline
