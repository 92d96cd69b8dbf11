#include "services/intake/redis_attempt_store.h"

#include "absl/strings/str_cat.h"

namespace hotline::intake {
namespace {

std::string CountKey(const std::string& k) { return "intake:va:" + k; }
std::string LockKey(const std::string& k) { return "intake:vl:" + k; }
std::string Ms(absl::Duration d) {
  return std::to_string(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

// A count that expired between Count and Uncount must not come back as a key without a TTL.
constexpr char kUncount[] =
    "local v = redis.call('DECR', KEYS[1]) "
    "if v <= 0 then redis.call('DEL', KEYS[1]) end return v";

}  // namespace

absl::StatusOr<std::vector<absl::Duration>> RedisAttemptStore::LockRemaining(
    const std::vector<std::string>& keys) {
  std::vector<RedisCommand> cmds;
  for (const auto& k : keys) cmds.push_back({"PTTL", LockKey(k)});
  auto r = redis_->Pipeline(cmds);
  if (!r.ok()) return r.status();
  std::vector<absl::Duration> out;
  for (const auto& reply : *r) {
    // -2: no lock. -1 (no TTL) cannot be written by Lock; treat it as not locked rather than
    // locked for ever.
    out.push_back(reply.integer > 0 ? absl::Milliseconds(reply.integer) : absl::ZeroDuration());
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> RedisAttemptStore::Count(const std::vector<std::string>& keys,
                                                              absl::Duration window) {
  std::vector<RedisCommand> cmds;
  for (const auto& k : keys) {
    cmds.push_back({"INCR", CountKey(k)});
    cmds.push_back({"PEXPIRE", CountKey(k), Ms(window), "NX"});  // the window starts once
  }
  auto r = redis_->Transaction(cmds);
  if (!r.ok()) return r.status();
  std::vector<int64_t> out;
  for (size_t i = 0; i < r->size(); i += 2) out.push_back((*r)[i].integer);
  return out;
}

absl::Status RedisAttemptStore::Uncount(const std::vector<std::string>& keys) {
  std::vector<RedisCommand> cmds;
  for (const auto& k : keys) cmds.push_back({"EVAL", kUncount, "1", CountKey(k)});
  return redis_->Pipeline(cmds).status();
}

absl::Status RedisAttemptStore::Lock(const std::string& key, absl::Duration duration) {
  return redis_
      ->Transaction({{"SET", LockKey(key), "1", "PX", Ms(duration), "NX"}, {"DEL", CountKey(key)}})
      .status();
}

}  // namespace hotline::intake
