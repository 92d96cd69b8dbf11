#include "services/common/lease.h"

namespace hotline {
namespace {

constexpr char kAcquireScript[] = R"lua(
local v = redis.call('GET', KEYS[1])
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
)lua";

constexpr char kDeleteIfScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

}  // namespace

absl::StatusOr<bool> AcquireOrRenewLease(RedisClient& redis, const std::string& key,
                                         const std::string& owner, std::chrono::milliseconds ttl) {
  auto r = redis.Command({"EVAL", kAcquireScript, "1", key, owner, std::to_string(ttl.count())});
  if (!r.ok()) return r.status();
  return r->integer == 1;
}

absl::Status DeleteIfOwner(RedisClient& redis, const std::string& key, const std::string& owner) {
  return redis.Command({"EVAL", kDeleteIfScript, "1", key, owner}).status();
}

}  // namespace hotline
