#include "services/common/idempotent.h"

#include "absl/strings/numbers.h"

namespace hotline {

absl::StatusOr<IdempotentApplier::Outcome> IdempotentApplier::Apply(
    const v1::EventEnvelope& event, const RedisClient::Plan& plan,
    const std::vector<std::string>& watch) {
  return ApplyImpl(event.event_id(), &event, plan, watch);
}

absl::StatusOr<IdempotentApplier::Outcome> IdempotentApplier::Apply(
    const std::string& event_id, const RedisClient::Plan& plan,
    const std::vector<std::string>& watch) {
  return ApplyImpl(event_id, nullptr, plan, watch);
}

absl::StatusOr<IdempotentApplier::Outcome> IdempotentApplier::ApplyImpl(
    const std::string& event_id, const v1::EventEnvelope* event, const RedisClient::Plan& plan,
    const std::vector<std::string>& watch) {
  const std::string marker = MarkerKey(event_id);
  // Version 0 is "unversioned" (see the header): no check, nothing recorded.
  const bool versioned = event != nullptr && event->aggregate_version() > 0;
  const std::string version_key = versioned ? VersionKey(event->source(), event->key()) : "";
  std::vector<std::string> keys = watch;
  keys.push_back(marker);
  if (versioned) keys.push_back(version_key);
  Outcome outcome = Outcome::kApplied;
  auto r = redis_->WatchTransaction(
      keys, [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        outcome = Outcome::kApplied;
        auto seen = read({"EXISTS", marker});
        if (!seen.ok()) return seen.status();
        if (seen->integer == 1) {
          outcome = Outcome::kDuplicate;
          return std::vector<RedisCommand>{};
        }
        if (versioned) {
          auto last = read({"GET", version_key});
          if (!last.ok()) return last.status();
          int64_t applied = 0;
          if (!last->IsNil() && !absl::SimpleAtoi(last->str, &applied)) {
            return absl::DataLossError("idempotent applier: stored version is not a number");
          }
          if (event->aggregate_version() < applied) {
            outcome = Outcome::kStale;
            return std::vector<RedisCommand>{};
          }
        }
        auto cmds = plan(read);
        if (!cmds.ok()) return cmds.status();
        // The bookkeeping goes last so EXEC's replies line up with the plan's commands.
        const std::string ttl = std::to_string(remember_.count());
        cmds->push_back({"SET", marker, "1", "EX", ttl});
        if (versioned) {
          cmds->push_back(
              {"SET", version_key, std::to_string(event->aggregate_version()), "EX", ttl});
        }
        return cmds;
      });
  if (!r.ok()) return r.status();
  if (outcome == Outcome::kStale && on_stale) on_stale(*event);
  return outcome;
}

}  // namespace hotline
