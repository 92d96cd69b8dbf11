#pragma once

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/redis_client.h"

namespace hotline {

// A lease in Redis: `key` holds its owner's id and expires after `ttl` unless renewed. One
// instance at a time publishes an outbox or fires a partition's SLA clocks.

// Takes the lease if free, extends it if `owner` holds it; false when someone else does.
absl::StatusOr<bool> AcquireOrRenewLease(RedisClient& redis, const std::string& key,
                                         const std::string& owner, std::chrono::milliseconds ttl);

// Deletes `key` only while it still holds `owner`: what someone else took stays theirs.
absl::Status DeleteIfOwner(RedisClient& redis, const std::string& key, const std::string& owner);

}  // namespace hotline
