#pragma once

#include "services/common/redis_client.h"
#include "services/intake/verification_throttle.h"

namespace hotline::intake {

// Keys (intake's own Redis; both expire by themselves, so nothing needs cleaning up):
//   intake:va:<key>   attempts in the current window (PEXPIRE set by the first attempt)
//   intake:vl:<key>   present while <key> is locked (PX = the lockout)
class RedisAttemptStore final : public AttemptStore {
 public:
  explicit RedisAttemptStore(RedisClient* redis) : redis_(redis) {}

  absl::StatusOr<std::vector<absl::Duration>> LockRemaining(
      const std::vector<std::string>& keys) override;
  absl::StatusOr<std::vector<int64_t>> Count(const std::vector<std::string>& keys,
                                             absl::Duration window) override;
  absl::Status Uncount(const std::vector<std::string>& keys) override;
  absl::Status Lock(const std::string& key, absl::Duration duration) override;

 private:
  RedisClient* redis_;
};

}  // namespace hotline::intake
