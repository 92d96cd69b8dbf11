#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hotline/v1/events.pb.h"
#include "services/common/redis_client.h"

namespace hotline {

// Idempotent consumer (DESIGN.md): the handler's state change and the record "event X was
// applied" are written in one MULTI/EXEC, under WATCH of that record, so a redelivered or
// concurrently delivered event changes state once.
//
// Given the whole envelope, it also honours aggregate_version, compared only within one
// (key, source) as DESIGN.md says: an event whose version is LOWER than the last one applied for
// its (key, source) is stale and skipped (kStale, nothing written). Only lower, not equal, and
// version 0 means "unversioned", because of what the producers send today:
//   - intake: the ticket record's version, +1 per change, one event per change;
//   - dispatch: the ticket's version after the change, the SAME for every event of one change
//     (TicketRepository::Mutate), so equal versions are distinct events, not replays;
//   - sla_timer: always 0 (a clock is not a versioned aggregate).
// The event-id marker catches a redelivery within `remember`; the version catches an older event
// arriving after a newer one (a replay from old offsets after the markers expired, or an event
// that overtook an earlier one on the way).
class IdempotentApplier {
 public:
  IdempotentApplier(RedisClient* redis, std::string prefix,
                    std::chrono::seconds remember = std::chrono::hours(24 * 7))
      : redis_(redis), prefix_(std::move(prefix)), remember_(remember) {}

  enum class Outcome { kApplied, kDuplicate, kStale };

  // `plan` may read through the given Reader and returns the commands of the state change (it
  // may include an Outbox::AppendCommand). `watch` adds keys whose change must make the plan
  // run again. Returns kDuplicate, with nothing written, when the event was applied before, and
  // kStale (nothing written) when its aggregate_version is below the last one applied for its
  // (key, source).
  absl::StatusOr<Outcome> Apply(const v1::EventEnvelope& event, const RedisClient::Plan& plan,
                                const std::vector<std::string>& watch = {});
  // By event id only: no version check (for events without a meaningful version).
  absl::StatusOr<Outcome> Apply(const std::string& event_id, const RedisClient::Plan& plan,
                                const std::vector<std::string>& watch = {});

  std::string MarkerKey(const std::string& event_id) const {
    return prefix_ + ":applied:" + event_id;
  }
  // The last aggregate_version applied for (key, source).
  std::string VersionKey(const std::string& source, const std::string& key) const {
    return prefix_ + ":version:" + source + ":" + key;
  }

  // Called for every stale event skipped (set before use): count it (e.g. a metric by source).
  std::function<void(const v1::EventEnvelope&)> on_stale;

 private:
  absl::StatusOr<Outcome> ApplyImpl(const std::string& event_id, const v1::EventEnvelope* event,
                                    const RedisClient::Plan& plan,
                                    const std::vector<std::string>& watch);

  RedisClient* redis_;
  std::string prefix_;
  std::chrono::seconds remember_;
};

}  // namespace hotline
