#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "hotline/v1/dispatch.pb.h"
#include "hotline/v1/events.pb.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"

namespace hotline::dispatch {

// What a state change writes besides the ticket itself.
struct Change {
  std::vector<v1::EventEnvelope> events;
  std::vector<RedisCommand> extra;  // triage queue, department stream, corrected labels
};

// Dispatch's tickets in its own Redis. Keys:
//   dispatch:t:<id>       the ticket (v1::DispatchedTicket), version inside
//   dispatch:triage       zset of ticket ids waiting for a human dispatcher, by time
//   dispatch:dept:<id>    Redis stream of assignments to one department (resumable cursors)
//   dispatch:labels       list of corrected labels "label\ttext\tsource" (the learning loop)
class TicketRepository {
 public:
  TicketRepository(RedisClient* redis, Outbox* outbox) : redis_(redis), outbox_(outbox) {}

  static std::string TicketKey(const std::string& id) { return "dispatch:t:" + id; }
  static constexpr char kTriageKey[] = "dispatch:triage";
  static std::string DepartmentStream(const std::string& dept) { return "dispatch:dept:" + dept; }
  static constexpr char kLabelsKey[] = "dispatch:labels";

  absl::StatusOr<std::optional<v1::DispatchedTicket>> Get(const std::string& id);

  // Reads the ticket under WATCH, lets `mutate` change it (or refuse with a status), then
  // writes it with version+1, the change's commands and its events in one MULTI/EXEC.
  using Mutation = std::function<absl::StatusOr<Change>(v1::DispatchedTicket&)>;
  absl::StatusOr<v1::DispatchedTicket> Mutate(const std::string& id, const Mutation& mutate);

  // The commands that store `t` (for plans built elsewhere, e.g. the idempotent consumer).
  static RedisCommand Put(const v1::DispatchedTicket& t);

  absl::StatusOr<std::vector<v1::DispatchedTicket>> ListTriage(size_t offset, size_t limit);
  // Assignments to `dept` after `cursor` ("" = from the start): (cursor, ticket id).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Assignments(const std::string& dept,
                                                                               const std::string& cursor,
                                                                               size_t limit);
  RedisClient* redis() { return redis_; }
  Outbox* outbox() { return outbox_; }

 private:
  RedisClient* redis_;
  Outbox* outbox_;
};

}  // namespace hotline::dispatch
