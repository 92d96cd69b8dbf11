#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/redis_client.h"

namespace hotline {

// Idempotent consumer (DESIGN.md): the handler's state change and the record "event X was
// applied" are written in one MULTI/EXEC, under WATCH of that record, so a redelivered or
// concurrently delivered event changes state once.
class IdempotentApplier {
 public:
  IdempotentApplier(RedisClient* redis, std::string prefix,
                    std::chrono::seconds remember = std::chrono::hours(24 * 7))
      : redis_(redis), prefix_(std::move(prefix)), remember_(remember) {}

  enum class Outcome { kApplied, kDuplicate };

  // `plan` may read through the given Reader and returns the commands of the state change (it
  // may include an Outbox::AppendCommand). `watch` adds keys whose change must make the plan
  // run again. Returns kDuplicate, with nothing written, when the event was applied before.
  absl::StatusOr<Outcome> Apply(const std::string& event_id, const RedisClient::Plan& plan,
                                const std::vector<std::string>& watch = {});

  std::string MarkerKey(const std::string& event_id) const {
    return prefix_ + ":applied:" + event_id;
  }

 private:
  RedisClient* redis_;
  std::string prefix_;
  std::chrono::seconds remember_;
};

}  // namespace hotline
