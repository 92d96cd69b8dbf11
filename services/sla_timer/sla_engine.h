#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/sla_timer.pb.h"
#include "services/common/idempotent.h"
#include "services/common/kafka_consumer.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"
#include "services/sla_timer/clock.h"
#include "services/sla_timer/policy.h"
#include "services/sla_timer/sla_metrics.h"
#include "services/sla_timer/timing_wheel.h"

namespace hotline::sla {

struct SlaOptions {
  std::map<std::string, WorkCalendar> calendars;           // by name
  std::string default_calendar = "cn-mainland";
  std::map<std::string, std::string> department_calendar;  // department id → calendar name
  int red_card_yellows = 3;                                // yellow cards that make a red one
  absl::Duration red_card_window = absl::Hours(24 * 30);
  int64_t tick_ms = 10;
  // Optional: told the firing lag of every committed event (benchmarks).
  std::function<void(double seconds)> observe_lag;
};

// The SLA clocks: durable in Redis, scheduled in an in-memory timing wheel for the Kafka
// partitions this instance owns (clocks are keyed by the partition of their ticket's events).
// Every warning, breach and card is committed with its clock's new state in one MULTI/EXEC
// (through the outbox), under WATCH of the clock, with an event id derived from the clock, its
// generation and the point: a crash before the commit fires it again after restart, a crash
// after it finds it done. Redis keys:
//   sla:c:<ticket>:<kind>   the clock (hash)
//   sla:due:<partition>     zset clock id → next due ms (what a new owner loads)
//   sla:dept:<dept>         zset clock id → deadline ms (open clocks, for "at risk")
//   sla:yellow:<dept>       zset card id → ms (the red-card window)
//   sla:cards               list of issued cards (v1::Card), newest first
class SlaEngine {
 public:
  SlaEngine(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier, const PolicyTable* policies,
            SlaOptions opts, SlaMetrics* metrics, std::function<absl::Time()> now = absl::Now);
  ~SlaEngine();

  // The consumer's handler for hotline.tickets.v1.
  absl::Status HandleEvent(const v1::EventEnvelope& e, const MessageMeta& meta);
  // Rebalance: load / drop the clocks of these partitions.
  void OnAssigned(const TopicPartitionList& tps);
  void OnRevoked(const TopicPartitionList& tps);
  // Loads one partition's due clocks into the wheel; returns how many.
  absl::StatusOr<size_t> LoadPartition(int32_t partition);

  void Start();  // the firing thread
  void Stop();
  // One pass of the firing thread (tests and benchmarks drive it directly).
  size_t FireDue();

  absl::StatusOr<std::vector<v1::Clock>> TicketClocks(const std::string& ticket_id);
  absl::StatusOr<std::vector<v1::Clock>> AtRisk(const std::string& dept, int min_percent, size_t limit);
  absl::StatusOr<std::vector<v1::Card>> Cards(const std::string& dept, absl::Time since, size_t limit);
  absl::StatusOr<v1::PreviewDeadlineResponse> Preview(const v1::PreviewDeadlineRequest& req);
  size_t scheduled() const;

  static std::string ClockKey(const std::string& clock_id) { return "sla:c:" + clock_id; }

 private:
  const WorkCalendar& CalendarFor(const std::string& dept, const std::string& name = "") const;
  ClockMath MathFor(const ClockRecord& c) const { return ClockMath(CalendarFor(c.department_id, c.calendar)); }
  std::vector<RedisCommand> WriteClock(const ClockRecord& c) const;
  absl::StatusOr<std::optional<ClockRecord>> ReadClock(const RedisClient::Reader& read, const std::string& id) const;
  // Fires the due point of one clock if it is still due; returns the clock as committed.
  absl::StatusOr<std::optional<ClockRecord>> Fire(const std::string& clock_id, int64_t due_ms);
  void Schedule(const ClockRecord& c);
  void ScheduleLocked(const std::string& id, int32_t partition, int64_t due_ms);
  void UnscheduleLocked(const std::string& id);

  RedisClient* redis_;
  Outbox* outbox_;
  IdempotentApplier* applier_;
  const PolicyTable* policies_;
  SlaOptions opts_;
  SlaMetrics* metrics_;
  std::function<absl::Time()> now_;

  mutable std::mutex mu_;
  TimingWheel wheel_;
  struct Entry {
    std::string clock_id;
    int32_t partition;
    TimingWheel::Handle handle;
    bool used;
  };
  std::vector<Entry> entries_;  // the wheel's payload indexes this
  std::vector<uint32_t> free_entries_;
  std::unordered_map<std::string, uint32_t> by_id_;
  std::set<int32_t> owned_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hotline::sla
