#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/sla_timer/sla_store.h"

namespace hotline::testing {

// An in-memory SlaStore for unit tests of SlaEngine's logic (scheduling, firing, leases): same
// contract as RedisSlaStore, no Redis. Leases ignore their TTL unless a test expires them with
// ExpireLease; the outbox is a vector the test reads.
class FakeSlaStore : public sla::SlaStore {
 public:
  absl::StatusOr<bool> ApplyEvent(const std::string& event_id, const std::string& ticket_id,
                                  const ChangeFn& change) override;
  absl::StatusOr<FireResult> Fire(const std::string& clock_id, int32_t partition,
                                  const std::string& owner, const DecideFn& decide) override;
  absl::StatusOr<std::optional<sla::ClockRecord>> ReadClock(const std::string& clock_id) override;
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> DueClocks(int32_t partition,
                                                                         size_t offset,
                                                                         size_t limit) override;
  absl::StatusOr<std::vector<std::string>> DepartmentClocks(const std::string& dept,
                                                            size_t limit) override;
  absl::StatusOr<std::vector<v1::Card>> RecentCards(size_t limit) override;
  absl::StatusOr<bool> AcquireLease(int32_t partition, const std::string& owner,
                                    absl::Duration ttl) override;
  absl::Status ReleaseLease(int32_t partition, const std::string& owner) override;
  absl::Status Claim(int32_t partition, const std::string& owner, absl::Duration ttl) override;
  absl::StatusOr<std::string> Claimant(int32_t partition) override;
  absl::Status DropClaim(int32_t partition, const std::string& owner) override;

  // Test controls and views.
  std::vector<v1::EventEnvelope> Outbox() const;
  std::string LeaseHolder(int32_t partition) const;
  void ExpireLease(int32_t partition);  // as if the holder stopped renewing
  void SetUnavailable(bool down);       // every call fails with UNAVAILABLE

 private:
  absl::Status Check() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void WriteLocked(const sla::StoredClock& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> applied_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, sla::ClockRecord> clocks_ ABSL_GUARDED_BY(mu_);
  std::map<int32_t, std::map<std::string, int64_t>> due_
      ABSL_GUARDED_BY(mu_);  // partition → id → ms
  std::map<std::string, std::map<std::string, int64_t>> dept_
      ABSL_GUARDED_BY(mu_);  // dept → id → deadline
  std::map<std::string, std::vector<int64_t>> yellows_ ABSL_GUARDED_BY(mu_);  // dept → issued ms
  std::vector<v1::Card> cards_ ABSL_GUARDED_BY(mu_);                          // newest first
  std::vector<v1::EventEnvelope> outbox_ ABSL_GUARDED_BY(mu_);
  std::map<int32_t, std::string> leases_ ABSL_GUARDED_BY(mu_);
  std::map<int32_t, std::string> claims_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotline::testing
