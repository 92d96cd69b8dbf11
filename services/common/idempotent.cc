#include "services/common/idempotent.h"

namespace hotline {

absl::StatusOr<IdempotentApplier::Outcome> IdempotentApplier::Apply(
    const std::string& event_id, const RedisClient::Plan& plan,
    const std::vector<std::string>& watch) {
  const std::string marker = MarkerKey(event_id);
  std::vector<std::string> keys = watch;
  keys.push_back(marker);
  bool duplicate = false;
  auto r = redis_->WatchTransaction(
      keys, [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        auto seen = read({"EXISTS", marker});
        if (!seen.ok()) return seen.status();
        duplicate = seen->integer == 1;
        if (duplicate) return std::vector<RedisCommand>{};
        auto cmds = plan(read);
        if (!cmds.ok()) return cmds.status();
        // The marker goes last so EXEC's replies line up with the plan's commands.
        cmds->push_back({"SET", marker, "1", "EX", std::to_string(remember_.count())});
        return cmds;
      });
  if (!r.ok()) return r.status();
  return duplicate ? Outcome::kDuplicate : Outcome::kApplied;
}

}  // namespace hotline
