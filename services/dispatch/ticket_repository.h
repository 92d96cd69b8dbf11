#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "hotline/v1/dispatch.pb.h"
#include "services/common/idempotent.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"
#include "services/dispatch/dispatch_store.h"

namespace hotline::dispatch {

// Dispatch's tickets in its own Redis (the DispatchStore adapter). Keys:
//   dispatch:t:<id>       the ticket (v1::DispatchedTicket), version inside
//   dispatch:triage       zset of ticket ids waiting for a human dispatcher, by time
//   dispatch:dept:<id>    Redis stream of assignments to one department (resumable cursors)
//   dispatch:labels       list of corrected labels "label\ttext\tsource" (the learning loop)
class TicketRepository : public DispatchStore {
 public:
  TicketRepository(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier)
      : redis_(redis), outbox_(outbox), applier_(applier) {}

  static std::string TicketKey(const std::string& id) { return "dispatch:t:" + id; }
  static constexpr char kTriageKey[] = "dispatch:triage";
  static constexpr char kDepartmentStreamPrefix[] = "dispatch:dept:";
  static std::string DepartmentStream(const std::string& dept) {
    return kDepartmentStreamPrefix + dept;
  }
  static constexpr char kLabelsKey[] = "dispatch:labels";

  absl::StatusOr<std::optional<v1::DispatchedTicket>> Get(const std::string& id) override;
  absl::StatusOr<v1::DispatchedTicket> Mutate(const std::string& id,
                                              const Mutation& mutate) override;
  absl::StatusOr<bool> CreateOnce(const std::string& event_id, const v1::DispatchedTicket& t,
                                  const Change& change) override;
  absl::StatusOr<std::vector<v1::DispatchedTicket>> ListTriage(size_t offset,
                                                               size_t limit) override;

  // The commands that store `t`.
  static RedisCommand Put(const v1::DispatchedTicket& t);
  // The commands that write a Change (without its events) for ticket `id`.
  static std::vector<RedisCommand> ChangeCommands(const std::string& id, const Change& change);
  // Parses one stored ticket; DATA_LOSS when the record is corrupt.
  static absl::StatusOr<v1::DispatchedTicket> Parse(const std::string& record);

 private:
  RedisClient* redis_;
  Outbox* outbox_;
  IdempotentApplier* applier_;
};

}  // namespace hotline::dispatch
