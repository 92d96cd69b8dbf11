#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/events.pb.h"
#include "hotline/v1/sla_timer.pb.h"
#include "services/sla_timer/clock.h"
#include "services/sla_timer/sla_rules.h"

namespace hotline {
class RedisClient;
class Outbox;
class IdempotentApplier;
}  // namespace hotline

namespace hotline::sla {

// A clock with what its indexes need: when it fires next (InfiniteFuture: never) and its
// deadline. The engine computes these with the clock's calendar; the store only keeps them.
struct StoredClock {
  ClockRecord record;
  absl::Time next_fire = absl::InfiniteFuture();
  absl::Time deadline = absl::InfiniteFuture();
};

// What firing one point commits, all or nothing: the clock's new state, the events for the
// outbox, and the cards it issued (a yellow card is also remembered for the red-card window).
struct FireCommit {
  StoredClock clock;
  std::vector<v1::EventEnvelope> events;
  std::vector<v1::Card> cards;
};

// Where SlaEngine keeps clocks, cards and partition leases. The Redis implementation is the
// real one; tests of the engine's logic use tests/support/fake_sla_store.h.
class SlaStore {
 public:
  virtual ~SlaStore() = default;

  // Reads the ticket's clocks, lets `change` compute the clocks to write, and writes them with
  // the record that `event_id` was applied, atomically. `change` may run more than once (a
  // concurrent writer). Returns false, having written nothing, when the event was applied before.
  using ChangeFn = std::function<std::vector<StoredClock>(const TicketClockPair&)>;
  virtual absl::StatusOr<bool> ApplyEvent(const std::string& event_id, const std::string& ticket_id,
                                          const ChangeFn& change) = 0;

  // Fires one point: reads the clock, lets `decide` say what to commit (nullopt: nothing is
  // due), and commits it only while `owner` holds the lease of `partition` — checked inside the
  // same transaction, so an instance whose partition was taken over cannot fire a clock the new
  // owner fires too. `yellows(dept, since)` counts a department's yellow cards since a time.
  // kLeaseLapsed: nobody holds the lease (ours expired and no one took it); kNotOwner: someone
  // else holds it.
  enum class FireResult { kCommitted, kNothingDue, kLeaseLapsed, kNotOwner };
  using YellowCount =
      std::function<absl::StatusOr<int64_t>(const std::string& dept, absl::Time since)>;
  using DecideFn = std::function<absl::StatusOr<std::optional<FireCommit>>(const ClockRecord&,
                                                                           const YellowCount&)>;
  virtual absl::StatusOr<FireResult> Fire(const std::string& clock_id, int32_t partition,
                                          const std::string& owner, const DecideFn& decide) = 0;

  virtual absl::StatusOr<std::optional<ClockRecord>> ReadClock(const std::string& clock_id) = 0;
  // Clocks of a partition that will fire, with their due time in ms, by due time; a page.
  virtual absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> DueClocks(int32_t partition,
                                                                                 size_t offset,
                                                                                 size_t limit) = 0;
  // Open clocks of a department (ids), soonest deadline first.
  virtual absl::StatusOr<std::vector<std::string>> DepartmentClocks(const std::string& dept,
                                                                    size_t limit) = 0;
  // Issued cards, newest first.
  virtual absl::StatusOr<std::vector<v1::Card>> RecentCards(size_t limit) = 0;

  // Partition leases (the owner fires the partition's clocks). Acquire takes a free lease or
  // extends the caller's own; false when another owner holds it.
  virtual absl::StatusOr<bool> AcquireLease(int32_t partition, const std::string& owner,
                                            absl::Duration ttl) = 0;
  // Drops the lease if `owner` holds it.
  virtual absl::Status ReleaseLease(int32_t partition, const std::string& owner) = 0;
  // A claim says "the consumer group gave me this partition": the lease holder, once it is no
  // longer assigned the partition, hands it over. Claim refreshes it; Claimant reads it ("" none).
  virtual absl::Status Claim(int32_t partition, const std::string& owner, absl::Duration ttl) = 0;
  virtual absl::StatusOr<std::string> Claimant(int32_t partition) = 0;
  virtual absl::Status DropClaim(int32_t partition, const std::string& owner) = 0;
};

// Redis keys:
//   sla:c:<ticket>:<kind>   the clock (hash)
//   sla:due:<partition>     zset clock id → next due ms (what a new owner loads)
//   sla:dept:<dept>         zset clock id → deadline ms (open clocks, for "at risk")
//   sla:yellow:<dept>       zset card id → ms (the red-card window)
//   sla:cards               list of issued cards (v1::Card), newest first
//   sla:lease:<partition>   the owner's id, with a TTL the owner keeps renewing
//   sla:claim:<partition>   the id of an instance the group assigned the partition to
// Fired events go to the outbox in the same MULTI/EXEC as the clock (they reach Kafka later,
// also when it is down now); event ids applied are recorded by the IdempotentApplier.
class RedisSlaStore : public SlaStore {
 public:
  RedisSlaStore(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier)
      : redis_(redis), outbox_(outbox), applier_(applier) {}

  static std::string ClockKey(const std::string& clock_id) { return "sla:c:" + clock_id; }
  static std::string LeaseKey(int32_t partition) {
    return "sla:lease:" + std::to_string(partition);
  }

  absl::StatusOr<bool> ApplyEvent(const std::string& event_id, const std::string& ticket_id,
                                  const ChangeFn& change) override;
  absl::StatusOr<FireResult> Fire(const std::string& clock_id, int32_t partition,
                                  const std::string& owner, const DecideFn& decide) override;
  absl::StatusOr<std::optional<ClockRecord>> ReadClock(const std::string& clock_id) override;
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

 private:
  RedisClient* redis_;
  Outbox* outbox_;
  IdempotentApplier* applier_;
};

}  // namespace hotline::sla
