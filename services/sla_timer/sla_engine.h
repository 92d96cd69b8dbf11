#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "hotline/v1/sla_timer.pb.h"
#include "services/common/idempotent.h"
#include "services/common/kafka_consumer.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"
#include "services/sla_timer/clock.h"
#include "services/sla_timer/policy.h"
#include "services/sla_timer/sla_metrics.h"
#include "services/sla_timer/sla_rules.h"
#include "services/sla_timer/sla_store.h"
#include "services/sla_timer/timing_wheel.h"

namespace hotline::sla {

struct SlaOptions {
  std::map<std::string, WorkCalendar> calendars;  // by name
  std::string default_calendar = "cn-mainland";
  std::map<std::string, std::string> department_calendar;  // department id → calendar name
  int red_card_yellows = 3;                                // yellow cards that make a red one
  absl::Duration red_card_window = absl::Hours(24 * 30);
  int64_t tick_ms = 10;
  // This instance's id in the partition leases (unique per process); empty: a random one.
  std::string owner;
  // How long a partition stays with an owner that stopped renewing (crashed): the failover time
  // after a kill -9. Renewed every third of it.
  absl::Duration lease_ttl = absl::Seconds(10);
  // Optional: told the firing lag of every committed event (benchmarks).
  std::function<void(double seconds)> observe_lag;
};

// The SLA clocks: durable in the store (Redis), scheduled in an in-memory timing wheel for the
// partitions whose lease this instance holds (clocks are keyed by the Kafka partition of their
// ticket's events). The rules — what an event does to a clock, when a point is due, which cards
// a breach earns — are in sla_rules.h; this class schedules, fires and keeps the leases.
//
// Ownership follows a lease per partition in Redis, not the consumer group directly: the group
// assigning a partition makes us claim it and take the lease once it is free; the group revoking
// it (also when the broker is unreachable and the session times out) does not stop us firing —
// we keep renewing the lease and firing until another instance claims the partition, and then
// hand it over. Every firing transaction checks the lease under WATCH, so two instances never
// both fire a clock. Warnings, breaches and cards are committed with the clock's new state in
// one MULTI/EXEC through the outbox, with an event id derived from the clock, its generation and
// the point: a crash before the commit fires it again, a crash after it finds it done, and an
// unreachable broker only delays publishing.
class SlaEngine {
 public:
  SlaEngine(SlaStore* store, const PolicyTable* policies, SlaOptions opts, SlaMetrics* metrics,
            std::function<absl::Time()> now = absl::Now);
  // With the Redis store over these.
  SlaEngine(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier,
            const PolicyTable* policies, SlaOptions opts, SlaMetrics* metrics,
            std::function<absl::Time()> now = absl::Now);
  ~SlaEngine();

  // The consumer's handler for hotline.tickets.v1.
  absl::Status HandleEvent(const v1::EventEnvelope& e, const MessageMeta& meta);
  // Rebalance: take (or claim) the leases of assigned partitions and load their clocks; a
  // revoked partition stays ours until someone else claims it.
  void OnAssigned(const TopicPartitionList& tps);
  void OnRevoked(const TopicPartitionList& tps);
  // One pass of lease upkeep: renew what we hold, hand over what another instance claimed and
  // the group no longer gives us, take what the group gives us once it is free. The lease thread
  // runs it every lease_ttl/3; tests call it directly.
  void MaintainLeases();
  std::set<int32_t> OwnedPartitions() const;
  // Loads one partition's due clocks into the wheel; returns how many.
  absl::StatusOr<size_t> LoadPartition(int32_t partition);

  void Start();  // the firing and lease threads
  // Stops the threads and releases our leases, so a successor takes the partitions at once.
  void Stop();
  // One pass of the firing thread (tests and benchmarks drive it directly).
  size_t FireDue();

  // A ticket's clocks; each carries the department it runs for (department_id), which is what a
  // department's access to them is decided on.
  absl::StatusOr<std::vector<v1::Clock>> TicketClocks(const std::string& ticket_id);
  absl::StatusOr<std::vector<v1::Clock>> AtRisk(const std::string& dept, int min_percent,
                                                size_t limit);
  absl::StatusOr<std::vector<v1::Card>> Cards(const std::string& dept, absl::Time since,
                                              size_t limit);
  absl::StatusOr<v1::PreviewDeadlineResponse> Preview(const v1::PreviewDeadlineRequest& req);
  size_t scheduled() const;

  static std::string ClockKey(const std::string& clock_id) {
    return RedisSlaStore::ClockKey(clock_id);
  }

 private:
  StoredClock Stored(const ClockRecord& c) const;
  // Fires the due point of one clock if it is still due and ours; returns the clock as committed.
  absl::StatusOr<std::optional<ClockRecord>> Fire(const std::string& clock_id, int32_t partition,
                                                  int64_t due_ms);
  void Schedule(const ClockRecord& c);
  // Puts the clock in the wheel to fire at `at_ms` (default: its due time; later for a retry).
  void ScheduleLocked(const std::string& id, int32_t partition, int64_t due_ms, int64_t at_ms = -1)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnscheduleLocked(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Lease steps (under lease_mu_).
  void TryTake(int32_t partition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lease_mu_);
  void Unload(int32_t partition, const char* why);
  void ReleaseAll();

  std::unique_ptr<SlaStore> own_store_;
  SlaStore* store_;
  const PolicyTable* policies_;
  SlaOptions opts_;
  CalendarSet calendars_;
  SlaMetrics* metrics_;
  std::function<absl::Time()> now_;

  mutable absl::Mutex mu_;
  TimingWheel wheel_ ABSL_GUARDED_BY(mu_);
  struct Entry {
    std::string clock_id;
    int32_t partition;
    int64_t due_ms;  // the point's due time as stored: a retry fires later but checks this one
    TimingWheel::Handle handle;
    bool used;
  };
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);  // the wheel's payload indexes this
  std::vector<uint32_t> free_entries_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, uint32_t> by_id_ ABSL_GUARDED_BY(mu_);
  std::set<int32_t> owned_
      ABSL_GUARDED_BY(mu_);  // leases held: these partitions' clocks are scheduled
  std::set<int32_t> assigned_ ABSL_GUARDED_BY(mu_);  // what the consumer group gives us now

  // Serialises lease steps between the consumer thread (rebalance) and the lease thread, so a
  // partition is not loaded twice at once or unloaded while being taken.
  absl::Mutex lease_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  std::atomic<bool> stop_{false};
  absl::Notification stopping_;
  std::atomic<bool> stopped_{false};
  std::thread thread_;
  std::thread lease_thread_;
};

}  // namespace hotline::sla
