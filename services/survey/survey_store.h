#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/redis_client.h"
#include "services/survey/survey_schedule.h"

// Where the survey service keeps its surveys: its own Redis (DESIGN.md: one store per service).
// Keys:
//   survey:s:<survey id>        hash: the record (SurveyRecord + the attempt's delivery + answer)
//   survey:ticket:<ticket id>   the ticket's current survey id (a reply after the current one
//                               ended, e.g. after a reopen, plans a new one over it)
//   survey:due                  zset survey id → ms when the scheduler must look at it next
//                               (the next contact, a claim's expiry, the end of an answer wait)
//   survey:open                 zset survey id → ms created, of surveys not yet final (backlog)
// No address or phone number is ever stored: the sender asks intake at the moment of contact.
namespace hotline::survey {

struct StoredSurvey {
  std::string id;  // "sv-" + the event id that planned it
  SurveyRecord record;
  // The current attempt was handed to the gateway (CONTACTING only): then the due time is the
  // end of the answer wait; before, it is the claim's expiry and the same attempt is re-sent
  // with the same idempotency key.
  bool sent = false;
  int satisfaction = 0;    // once answered, 1..5
  std::string resolution;  // once answered: yes | partly | no
  std::string comment;
  absl::Time answered_at = absl::InfinitePast();
};

inline constexpr char kDueKey[] = "survey:due";
inline constexpr char kOpenKey[] = "survey:open";
std::string SurveyKey(const std::string& survey_id);
std::string TicketKey(const std::string& ticket_id);
int64_t ToMs(absl::Time t);

// HSET of the whole record.
RedisCommand WriteCommand(const StoredSurvey& s);
// The record from an HGETALL reply; nullopt when the hash does not exist. INTERNAL when a field
// does not parse (only a bug or a hand edit writes one).
absl::StatusOr<std::optional<StoredSurvey>> ParseSurvey(const std::string& id,
                                                        const RedisReply& hgetall);

// Reads through `read` (a plain client call or a transaction's reader).
absl::StatusOr<std::optional<StoredSurvey>> ReadSurvey(const RedisClient::Reader& read,
                                                       const std::string& id);
// The ticket's current survey id, "" when none.
absl::StatusOr<std::string> ReadCurrent(const RedisClient::Reader& read,
                                        const std::string& ticket_id);

}  // namespace hotline::survey
